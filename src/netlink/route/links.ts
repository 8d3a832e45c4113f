// LinkService: network interfaces as plain objects, on one NetlinkSocket
// (which fixes the namespace). The request builders are pure functions,
// exported so tests compare their bytes with iproute2's without a socket.
import { NetlinkWriter } from '../attributes.js'
import { NetlinkError, type OperationContext } from '../errors.js'
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST } from '../message.js'
import type { NetlinkSocket } from '../socket.js'
import type { NetNamespace } from '../netns.js'
import {
  AF_BRIDGE, AF_UNSPEC, RTEXT_FILTER_BRVLAN, RTEXT_FILTER_SKIP_STATS, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, RTM_SETLINK
} from './rtnetlink.js'
import {
  BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED, IFF_LOWER_UP, IFF_PROMISC, IFF_UP, IF_OPER_NAMES,
  type BridgeVlanInfo, type LinkAttributes, type LinkKindData, type LinkMessage, type OperState,
  decodeLinkMessage, encodeLinkMessage
} from './link.js'
import type { BridgeData } from './kinds/bridge.js'
import type { BridgePortAttributes } from './kinds/bridge-port.js'
import type { VlanData } from './kinds/vlan.js'
import { MACVLAN_MODE_NAMES, type MacvlanData } from './kinds/macvlan.js'
import type { VxlanData } from './kinds/vxlan.js'

/** A link by name or by ifindex. */
export type LinkRef = string | number

/** Bridge settings (IFLA_BR_*), friendly. Times in centiseconds, as the kernel keeps them. */
/** Bridge settings shared by what we read (BridgeInfo) and what we create (BridgeSpec). */
export interface BridgeSettings {
  forwardDelay?: number
  helloTime?: number
  maxAge?: number
  ageingTime?: number
  priority?: number
  /** 0x8100 (802.1Q) or 0x88a8 (802.1ad) */
  vlanProtocol?: number
  defaultPvid?: number
  mcastSnooping?: boolean
  groupFwdMask?: number
}

export interface BridgeInfo extends BridgeSettings {
  vlanFiltering: boolean
  /** 0 off, 1 kernel STP, 2 user-space STP */
  stpState: number
  /** "8000.aa:bb:cc:dd:ee:ff" */
  bridgeId?: string
}

export type BridgePortState = 'disabled' | 'listening' | 'learning' | 'forwarding' | 'blocking'
const BRPORT_STATES: readonly BridgePortState[] = ['disabled', 'listening', 'learning', 'forwarding', 'blocking']

/** A bridge port's settings (IFLA_BRPORT_*), friendly. */
export interface BridgePort {
  state?: BridgePortState
  priority?: number
  cost?: number
  hairpin?: boolean
  guard?: boolean
  rootBlock?: boolean
  fastLeave?: boolean
  learning?: boolean
  learningSync?: boolean
  unicastFlood?: boolean
  mcastFlood?: boolean
  bcastFlood?: boolean
  mcastToUnicast?: boolean
  proxyArp?: boolean
  neighSuppress?: boolean
  vlanTunnel?: boolean
  isolated?: boolean
  locked?: boolean
}

/**
 * A network interface as a plain object.
 *
 * - `index`, `name`, `mtu`, `flags` (IFF_*), `up` (IFF_UP: administratively
 *   up), `lowerUp` (IFF_LOWER_UP: carrier), `operstate` (RFC 2863, lower-case).
 * - `kind`: IFLA_INFO_KIND ("bridge", "veth"…); absent for lo and hardware.
 * - `mac`: IFLA_ADDRESS; `master`: ifindex of the bridge it is enslaved to.
 * - `parentIndex`: IFLA_LINK when it differs from `index`: a veth's peer, a
 *   macvlan's lower device. When `linkNetnsId` is set, that index lives in
 *   the namespace with that nsid (a veth whose peer is in a container).
 * - One of `bridge`, `vlan`, `macvlan`, `vxlan` for those kinds; `bridgePort`
 *   when the link is a bridge port (from IFLA_INFO_SLAVE_DATA).
 */
export interface Link {
  index: number
  name: string
  kind?: string
  /** ARPHRD_* */
  type: number
  mtu: number
  mac?: string
  broadcast?: string
  flags: number
  up: boolean
  lowerUp: boolean
  operstate: OperState
  master?: number
  parentIndex?: number
  linkNetnsId?: number
  txqlen?: number
  promiscuity?: number
  alias?: string
  altNames?: string[]
  /** IFLA_INFO_SLAVE_KIND, e.g. "bridge" on a bridge port */
  slaveKind?: string
  bridge?: BridgeInfo
  vlan?: { id: number, protocol?: number, flags?: number }
  macvlan?: { mode: string, flags?: number }
  vxlan?: { vni: number, group?: string, local?: string, port?: number, link?: number, ttl?: number, ttlInherit?: boolean, tos?: number, learning?: boolean }
  bridgePort?: BridgePort
}

/** What `add` creates; `data` is the kind's IFLA_INFO_DATA (see kinds/). */
export interface LinkSpec {
  name: string
  kind: string
  mtu?: number
  mac?: string
  txqlen?: number
  /** IFLA_LINK: the lower device (vlan, macvlan, vxlan) */
  parent?: LinkRef
  master?: LinkRef
  /** Create it administratively up. */
  up?: boolean
  /** Create it directly in this namespace (IFLA_NET_NS_FD). */
  namespace?: NetNamespace
  data?: LinkKindData
}

/** LinkSpec with references resolved to numbers: what the pure builder needs. */
export interface LinkRequestSpec extends Omit<LinkSpec, 'parent' | 'master' | 'namespace'> {
  parent?: number
  master?: number
  /** fd of the target namespace */
  netNsFd?: number
}

export interface BridgeSpec extends BridgeSettings {
  name: string
  mtu?: number
  mac?: string
  txqlen?: number
  up?: boolean
  /** Refused by this kernel (no CONFIG_BRIDGE_VLAN_FILTERING). */
  vlanFiltering?: boolean
  /** STP on (kernel STP) or off. */
  stp?: boolean
}

export interface VethSpec {
  name: string
  peerName: string
  /** Create the peer directly in this namespace (IFLA_NET_NS_FD in the peer's attributes). */
  peerNamespace?: NetNamespace
  /** Create this end in another namespace than the socket's. */
  namespace?: NetNamespace
  /** MTU of both ends (unless peerMtu). */
  mtu?: number
  peerMtu?: number
  mac?: string
  peerMac?: string
  up?: boolean
}

export interface VethRequestSpec extends Omit<VethSpec, 'peerNamespace' | 'namespace'> {
  peerNetNsFd?: number
  netNsFd?: number
}

/** Changes one RTM_NEWLINK (without NLM_F_CREATE) makes to an existing link. */
export interface LinkChange {
  up?: boolean
  promisc?: boolean
  mtu?: number
  mac?: string
  /** ifindex of the new master; 0 releases */
  master?: number
  /** the new name */
  name?: string
  /** fd of the namespace to move it to */
  netNsFd?: number
  txqlen?: number
  /** IPv4 settings by IPV4_DEVCONF_* id (net.ipv4.conf.<dev>.*, e.g. IPV4_DEVCONF_ARP_NOTIFY) */
  inetConf?: Record<number, number>
  /** IPv6 address generation: IN6_ADDR_GEN_MODE_* (ip link set … addrgenmode) */
  addrGenMode?: number
}

/** Options of `setBridgePort`; each one set is sent, the others left as they are. */
export type BridgePortOptions = BridgePort

export interface BridgeVlan {
  vid: number
  /** Ingress untagged frames get this VLAN. */
  pvid?: boolean
  /** Egress frames of this VLAN leave untagged. */
  untagged?: boolean
}

export interface ListLinksRequestOptions {
  /** ifi_family; AF_UNSPEC by default (iproute2 uses AF_PACKET) */
  family?: number
  /** IFLA_EXT_MASK; RTEXT_FILTER_SKIP_STATS by default, 0 to omit */
  extMask?: number
  /** Kernel-side filter: only ports of this master (ifindex) */
  master?: number
  /** Kernel-side filter: only links of this kind */
  kind?: string
}

const FLAGS_ACK = NLM_F_REQUEST | NLM_F_ACK
const FLAGS_CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE

function message (type: number, flags: number, m: LinkMessage): Buffer {
  const w = new NetlinkWriter(128)
  w.beginMessage(type, flags)
  encodeLinkMessage(w, m)
  w.endMessage()
  return Buffer.from(w.bytes())
}

function linkMessage (index: number, attributes: LinkAttributes, family = AF_UNSPEC, flags = 0, change = 0): LinkMessage {
  return { family, type: 0, index, flags, change, attributes }
}

/** index for a number, or 0 plus IFLA_IFNAME for a name (the kernel looks it up). */
function refAttributes (ref: LinkRef, attributes: LinkAttributes): number {
  if (typeof ref === 'number') return ref
  attributes.ifname = ref
  return 0
}

/** RTM_GETLINK for one link. iproute2 asks with RTEXT_FILTER_VF|RTEXT_FILTER_SKIP_STATS. */
export function buildGetLinkRequest (ref: LinkRef, options: { extMask?: number } = {}): Buffer {
  const a: LinkAttributes = {}
  const extMask = options.extMask ?? RTEXT_FILTER_SKIP_STATS
  if (extMask !== 0) a.extMask = extMask
  const index = refAttributes(ref, a)
  return message(RTM_GETLINK, NLM_F_REQUEST, linkMessage(index, a))
}

/** RTM_GETLINK dump of every link (or the filtered ones). */
export function buildListLinksRequest (options: ListLinksRequestOptions = {}): Buffer {
  const a: LinkAttributes = {}
  const extMask = options.extMask ?? RTEXT_FILTER_SKIP_STATS
  if (extMask !== 0) a.extMask = extMask
  if (options.master !== undefined) a.master = options.master
  if (options.kind !== undefined) a.linkInfo = { kind: options.kind }
  return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, linkMessage(0, a, options.family ?? AF_UNSPEC))
}

/** RTM_NEWLINK NLM_F_CREATE|NLM_F_EXCL for any kind. */
export function buildAddLinkRequest (spec: LinkRequestSpec): Buffer {
  const a: LinkAttributes = {}
  if (spec.mtu !== undefined) a.mtu = spec.mtu
  if (spec.mac !== undefined) a.address = spec.mac
  if (spec.txqlen !== undefined) a.txqlen = spec.txqlen
  if (spec.master !== undefined) a.master = spec.master
  if (spec.netNsFd !== undefined) a.netNsFd = spec.netNsFd
  if (spec.parent !== undefined) a.link = spec.parent
  a.ifname = spec.name
  a.linkInfo = spec.data !== undefined ? { kind: spec.kind, data: spec.data } : { kind: spec.kind }
  const up = spec.up === true ? IFF_UP : 0
  return message(RTM_NEWLINK, FLAGS_CREATE, linkMessage(0, a, AF_UNSPEC, up, up))
}

/** The IFLA_BR_* a BridgeSpec asks for (undefined when none: iproute2 then sends no IFLA_INFO_DATA). */
export function bridgeData (spec: BridgeSpec): BridgeData | undefined {
  const d: BridgeData = {}
  let any = false
  const set = <K extends keyof BridgeData>(k: K, v: BridgeData[K] | undefined): void => { if (v !== undefined) { d[k] = v; any = true } }
  set('forwardDelay', spec.forwardDelay)
  set('helloTime', spec.helloTime)
  set('maxAge', spec.maxAge)
  set('ageingTime', spec.ageingTime)
  set('stpState', spec.stp === undefined ? undefined : spec.stp ? 1 : 0)
  set('priority', spec.priority)
  set('vlanFiltering', spec.vlanFiltering === undefined ? undefined : spec.vlanFiltering ? 1 : 0)
  set('vlanProtocol', spec.vlanProtocol)
  set('groupFwdMask', spec.groupFwdMask)
  set('mcastSnooping', spec.mcastSnooping === undefined ? undefined : spec.mcastSnooping ? 1 : 0)
  set('vlanDefaultPvid', spec.defaultPvid)
  return any ? d : undefined
}

export function buildCreateBridgeRequest (spec: BridgeSpec): Buffer {
  const r: LinkRequestSpec = { name: spec.name, kind: 'bridge' }
  if (spec.mtu !== undefined) r.mtu = spec.mtu
  if (spec.mac !== undefined) r.mac = spec.mac
  if (spec.txqlen !== undefined) r.txqlen = spec.txqlen
  if (spec.up !== undefined) r.up = spec.up
  const data = bridgeData(spec)
  if (data !== undefined) r.data = data
  return buildAddLinkRequest(r)
}

/** What `setBridge` can change on an existing bridge (IFLA_BR_*). */
export type BridgeChange = Omit<BridgeSpec, 'name' | 'mtu' | 'mac' | 'txqlen' | 'up'>

/**
 * RTM_NEWLINK without NLM_F_CREATE carrying IFLA_LINKINFO{bridge, IFLA_BR_*}:
 * changes an existing bridge's settings, as `ip link set dev BR type bridge …`.
 */
export function buildSetBridgeRequest (ref: LinkRef, change: BridgeChange): Buffer {
  const a: LinkAttributes = {}
  const index = refAttributes(ref, a)
  const data = bridgeData({ name: '', ...change })
  a.linkInfo = data !== undefined ? { kind: 'bridge', data } : { kind: 'bridge' }
  return message(RTM_NEWLINK, FLAGS_ACK, linkMessage(index, a))
}

/** Both ends in one request: the peer is a whole ifinfomsg inside VETH_INFO_PEER. */
export function buildCreateVethRequest (spec: VethRequestSpec): Buffer {
  const peer: LinkAttributes = {}
  const peerMtu = spec.peerMtu ?? spec.mtu
  if (peerMtu !== undefined) peer.mtu = peerMtu
  if (spec.peerMac !== undefined) peer.address = spec.peerMac
  if (spec.peerNetNsFd !== undefined) peer.netNsFd = spec.peerNetNsFd
  peer.ifname = spec.peerName
  const r: LinkRequestSpec = { name: spec.name, kind: 'veth', data: { peer: linkMessage(0, peer) } }
  if (spec.mtu !== undefined) r.mtu = spec.mtu
  if (spec.mac !== undefined) r.mac = spec.mac
  if (spec.netNsFd !== undefined) r.netNsFd = spec.netNsFd
  if (spec.up !== undefined) r.up = spec.up
  return buildAddLinkRequest(r)
}

/** RTM_NEWLINK without NLM_F_CREATE: changes an existing link, as `ip link set` does. */
export function buildSetLinkRequest (ref: LinkRef, change: LinkChange): Buffer {
  const a: LinkAttributes = {}
  if (change.mtu !== undefined) a.mtu = change.mtu
  if (change.mac !== undefined) a.address = change.mac
  if (change.txqlen !== undefined) a.txqlen = change.txqlen
  if (change.master !== undefined) a.master = change.master
  if (change.netNsFd !== undefined) a.netNsFd = change.netNsFd
  if (change.inetConf !== undefined || change.addrGenMode !== undefined) {
    a.families = {
      ...(change.inetConf !== undefined ? { inet: { setConf: change.inetConf } } : {}),
      ...(change.addrGenMode !== undefined ? { inet6: { addrGenMode: change.addrGenMode } } : {})
    }
  }
  let index: number
  if (change.name !== undefined) {
    if (typeof ref !== 'number') throw new TypeError(`renaming needs the link's index, not its name (${ref})`)
    index = ref
    a.ifname = change.name
  } else {
    index = refAttributes(ref, a)
  }
  let flags = 0; let mask = 0
  if (change.up !== undefined) { mask |= IFF_UP; if (change.up) flags |= IFF_UP }
  if (change.promisc !== undefined) { mask |= IFF_PROMISC; if (change.promisc) flags |= IFF_PROMISC }
  return message(RTM_NEWLINK, FLAGS_ACK, linkMessage(index, a, AF_UNSPEC, flags, mask))
}

export function buildDeleteLinkRequest (ref: LinkRef): Buffer {
  const a: LinkAttributes = {}
  const index = refAttributes(ref, a)
  return message(RTM_DELLINK, FLAGS_ACK, linkMessage(index, a))
}

const on = (v: boolean | undefined): number | undefined => v === undefined ? undefined : v ? 1 : 0

/** BridgePortOptions → IFLA_BRPORT_* */
export function bridgePortAttributes (o: BridgePortOptions): BridgePortAttributes {
  const p: BridgePortAttributes = {}
  const set = <K extends keyof BridgePortAttributes>(k: K, v: BridgePortAttributes[K] | undefined): void => { if (v !== undefined) p[k] = v }
  set('guard', on(o.guard))
  set('mode', on(o.hairpin))
  set('fastLeave', on(o.fastLeave))
  set('protect', on(o.rootBlock))
  set('unicastFlood', on(o.unicastFlood))
  set('mcastFlood', on(o.mcastFlood))
  set('bcastFlood', on(o.bcastFlood))
  set('mcastToUcast', on(o.mcastToUnicast))
  set('learning', on(o.learning))
  set('learningSync', on(o.learningSync))
  set('cost', o.cost)
  set('priority', o.priority)
  if (o.state !== undefined) {
    const s = BRPORT_STATES.indexOf(o.state)
    if (s < 0) throw new TypeError(`unknown bridge port state ${JSON.stringify(o.state)}`)
    p.state = s
  }
  set('proxyarp', on(o.proxyArp))
  set('neighSuppress', on(o.neighSuppress))
  set('vlanTunnel', on(o.vlanTunnel))
  set('isolated', on(o.isolated))
  set('locked', on(o.locked))
  return p
}

/** RTM_SETLINK AF_BRIDGE with IFLA_PROTINFO|NLA_F_NESTED, as `bridge link set` sends it. */
export function buildSetBridgePortRequest (index: number, options: BridgePortOptions): Buffer {
  const protinfo = bridgePortAttributes(options)
  return message(RTM_SETLINK, FLAGS_ACK, linkMessage(index, { protinfo }, AF_BRIDGE))
}

/** RTM_SETLINK (add) or RTM_DELLINK (delete) AF_BRIDGE with IFLA_AF_SPEC{IFLA_BRIDGE_VLAN_INFO}. */
export function buildBridgeVlanRequest (index: number, vlan: BridgeVlan, op: 'add' | 'delete'): Buffer {
  if (!Number.isInteger(vlan.vid) || vlan.vid < 1 || vlan.vid > 4094) throw new RangeError(`bridge VLAN id ${vlan.vid} is outside 1..4094`)
  const flags = (vlan.pvid === true ? BRIDGE_VLAN_INFO_PVID : 0) | (vlan.untagged === true ? BRIDGE_VLAN_INFO_UNTAGGED : 0)
  const afSpec = { vlans: [{ flags, vid: vlan.vid }] }
  return message(op === 'add' ? RTM_SETLINK : RTM_DELLINK, FLAGS_ACK, linkMessage(index, { afSpec }, AF_BRIDGE))
}

/** AF_BRIDGE dump: one message per bridge port (and bridge), as `bridge link show`. */
export function buildBridgeDumpRequest (options: { extMask?: number } = {}): Buffer {
  const a: LinkAttributes = {}
  if (options.extMask !== undefined && options.extMask !== 0) a.extMask = options.extMask
  return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, linkMessage(0, a, AF_BRIDGE))
}

/** AF_BRIDGE dump with VLAN information (`bridge vlan show`). */
export function buildBridgeVlanDumpRequest (): Buffer {
  return buildBridgeDumpRequest({ extMask: RTEXT_FILTER_BRVLAN })
}

/** Reply decoder for the socket: RTM_NEWLINK messages only. */
export function decodeLinkReply (buf: Uint8Array, type: number, start: number, end: number): LinkMessage | undefined {
  return type === RTM_NEWLINK ? decodeLinkMessage(buf, start, end) : undefined
}

function bridgeInfo (d: BridgeData): BridgeInfo {
  const b: BridgeInfo = { vlanFiltering: d.vlanFiltering === 1, stpState: d.stpState ?? 0 }
  if (d.forwardDelay !== undefined) b.forwardDelay = d.forwardDelay
  if (d.helloTime !== undefined) b.helloTime = d.helloTime
  if (d.maxAge !== undefined) b.maxAge = d.maxAge
  if (d.ageingTime !== undefined) b.ageingTime = d.ageingTime
  if (d.priority !== undefined) b.priority = d.priority
  if (d.vlanProtocol !== undefined) b.vlanProtocol = d.vlanProtocol
  if (d.vlanDefaultPvid !== undefined) b.defaultPvid = d.vlanDefaultPvid
  if (d.mcastSnooping !== undefined) b.mcastSnooping = d.mcastSnooping === 1
  if (d.groupFwdMask !== undefined) b.groupFwdMask = d.groupFwdMask
  if (d.bridgeId !== undefined) b.bridgeId = d.bridgeId
  return b
}

/** IFLA_BRPORT_* → BridgePort (only what the kernel sent). */
export function bridgePortFromAttributes (p: BridgePortAttributes): BridgePort {
  const o: BridgePort = {}
  if (p.state !== undefined) o.state = BRPORT_STATES[p.state] ?? 'disabled'
  if (p.priority !== undefined) o.priority = p.priority
  if (p.cost !== undefined) o.cost = p.cost
  if (p.mode !== undefined) o.hairpin = p.mode === 1
  if (p.guard !== undefined) o.guard = p.guard === 1
  if (p.protect !== undefined) o.rootBlock = p.protect === 1
  if (p.fastLeave !== undefined) o.fastLeave = p.fastLeave === 1
  if (p.learning !== undefined) o.learning = p.learning === 1
  if (p.learningSync !== undefined) o.learningSync = p.learningSync === 1
  if (p.unicastFlood !== undefined) o.unicastFlood = p.unicastFlood === 1
  if (p.mcastFlood !== undefined) o.mcastFlood = p.mcastFlood === 1
  if (p.bcastFlood !== undefined) o.bcastFlood = p.bcastFlood === 1
  if (p.mcastToUcast !== undefined) o.mcastToUnicast = p.mcastToUcast === 1
  if (p.proxyarp !== undefined) o.proxyArp = p.proxyarp === 1
  if (p.neighSuppress !== undefined) o.neighSuppress = p.neighSuppress === 1
  if (p.vlanTunnel !== undefined) o.vlanTunnel = p.vlanTunnel === 1
  if (p.isolated !== undefined) o.isolated = p.isolated === 1
  if (p.locked !== undefined) o.locked = p.locked === 1
  return o
}

/** The friendly view of a decoded link message. */
export function linkFromMessage (m: LinkMessage): Link {
  const a = m.attributes
  const link: Link = {
    index: m.index,
    name: a.ifname ?? '',
    type: m.type,
    mtu: a.mtu ?? 0,
    flags: m.flags,
    up: (m.flags & IFF_UP) !== 0,
    lowerUp: (m.flags & IFF_LOWER_UP) !== 0,
    operstate: IF_OPER_NAMES[a.operstate ?? 0] ?? 'unknown'
  }
  const li = a.linkInfo
  if (li?.kind !== undefined) link.kind = li.kind
  if (a.address !== undefined) link.mac = a.address
  if (a.broadcast !== undefined) link.broadcast = a.broadcast
  if (a.master !== undefined && a.master !== 0) link.master = a.master
  if (a.link !== undefined && (a.link !== m.index || a.linkNetnsId !== undefined)) link.parentIndex = a.link
  if (a.linkNetnsId !== undefined) link.linkNetnsId = a.linkNetnsId
  if (a.txqlen !== undefined) link.txqlen = a.txqlen
  if (a.promiscuity !== undefined) link.promiscuity = a.promiscuity
  if (a.ifalias !== undefined) link.alias = a.ifalias
  if (a.altIfnames !== undefined) link.altNames = a.altIfnames
  if (li !== undefined) {
    if (li.slaveKind !== undefined) link.slaveKind = li.slaveKind
    if (li.slaveData !== undefined) link.bridgePort = bridgePortFromAttributes(li.slaveData)
    const d = li.data
    if (d !== undefined) {
      switch (li.kind) {
        case 'bridge': link.bridge = bridgeInfo(d as BridgeData); break
        case 'vlan': {
          const v = d as VlanData
          link.vlan = { id: v.id ?? 0 }
          if (v.protocol !== undefined) link.vlan.protocol = v.protocol
          if (v.flags !== undefined) link.vlan.flags = v.flags.flags
          break
        }
        case 'macvlan': case 'macvtap': {
          const v = d as MacvlanData
          link.macvlan = { mode: MACVLAN_MODE_NAMES[v.mode ?? 0] ?? String(v.mode) }
          if (v.flags !== undefined) link.macvlan.flags = v.flags
          break
        }
        case 'vxlan': {
          const v = d as VxlanData
          const x: NonNullable<Link['vxlan']> = { vni: v.id ?? 0 }
          const group = v.group ?? v.group6; if (group !== undefined) x.group = group
          const local = v.local ?? v.local6; if (local !== undefined) x.local = local
          if (v.port !== undefined) x.port = v.port
          if (v.link !== undefined) x.link = v.link
          if (v.ttl !== undefined) x.ttl = v.ttl
          if (v.ttlInherit !== undefined) x.ttlInherit = v.ttlInherit
          if (v.tos !== undefined) x.tos = v.tos
          if (v.learning !== undefined) x.learning = v.learning === 1
          link.vxlan = x
          break
        }
      }
    }
  }
  if (a.protinfo !== undefined) link.bridgePort = bridgePortFromAttributes(a.protinfo)
  return link
}

function decodeLink (buf: Uint8Array, type: number, start: number, end: number): Link | undefined {
  return type === RTM_NEWLINK ? linkFromMessage(decodeLinkMessage(buf, start, end)) : undefined
}

/**
 * A NetlinkError for a feature this kernel was built without (EOPNOTSUPP):
 * its message says which, e.g. "…: the kernel lacks bridge VLAN filtering".
 * Still a NetlinkError with code EOPNOTSUPP.
 */
export class KernelFeatureError extends NetlinkError {
  override name = 'KernelFeatureError'
  readonly feature: string
  constructor (cause: NetlinkError, feature: string) {
    const context: OperationContext = cause.namespace !== undefined ? { operation: cause.operation, namespace: cause.namespace } : { operation: cause.operation }
    const ext: { message?: string, offset?: number } = {}
    if (cause.kernelMessage !== undefined) ext.message = cause.kernelMessage
    if (cause.kernelOffset !== undefined) ext.offset = cause.kernelOffset
    super(cause.errno, context, ext)
    this.feature = feature
    const where = cause.namespace !== undefined ? ` in ${cause.namespace}` : ''
    this.message = `${cause.operation}${where}: the kernel lacks ${feature} (${cause.code}: ${cause.text})`
  }
}

const VLAN_FILTERING = 'bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)'

function mapUnsupported (err: unknown, feature: string): unknown {
  return err instanceof NetlinkError && err.code === 'EOPNOTSUPP' ? new KernelFeatureError(err, feature) : err
}

const describe = (ref: LinkRef): string => typeof ref === 'number' ? `ifindex ${ref}` : ref

/** Links of one namespace (the socket's). */
export class LinkService {
  readonly socket: NetlinkSocket

  constructor (socket: NetlinkSocket) {
    this.socket = socket
  }

  /** Every link, optionally only one kind's or one master's ports. */
  async list (filter: { kind?: string, master?: LinkRef } = {}): Promise<Link[]> {
    const options: ListLinksRequestOptions = {}
    let master: number | undefined
    if (filter.master !== undefined) options.master = master = await this.indexOf(filter.master)
    if (filter.kind !== undefined) options.kind = filter.kind
    const what = [filter.kind !== undefined ? `kind ${filter.kind}` : '', master !== undefined ? `master ${describe(filter.master!)}` : ''].filter(s => s !== '').join(' ')
    const links = await this.socket.dump(buildListLinksRequest(options), decodeLink, `RTM_GETLINK dump${what !== '' ? ' ' + what : ''}`)
    // The kernel filters too; checking here keeps the answer right on kernels that ignore the filter.
    if (filter.kind === undefined && master === undefined) return links
    return links.filter(l => (filter.kind === undefined || l.kind === filter.kind) && (master === undefined || l.master === master))
  }

  /** The decoded messages of a dump, for callers who need every attribute. */
  listMessages (options: ListLinksRequestOptions = {}): Promise<LinkMessage[]> {
    return this.socket.dump(buildListLinksRequest(options), decodeLinkReply, 'RTM_GETLINK dump')
  }

  /** One link; a missing one rejects with NetlinkError ENODEV naming it. */
  get (ref: LinkRef): Promise<Link> {
    return this.socket.get(buildGetLinkRequest(ref), decodeLink, `RTM_GETLINK ${describe(ref)}`)
  }

  /** One link, or undefined when there is none by that name or index. */
  async find (ref: LinkRef): Promise<Link | undefined> {
    try {
      return await this.get(ref)
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENODEV') return undefined
      throw err
    }
  }

  private async indexOf (ref: LinkRef): Promise<number> {
    return typeof ref === 'number' ? ref : (await this.get(ref)).index
  }

  /** Creates a link of any kind (data: its IFLA_INFO_DATA). */
  async add (spec: LinkSpec): Promise<void> {
    const r: LinkRequestSpec = { name: spec.name, kind: spec.kind }
    if (spec.mtu !== undefined) r.mtu = spec.mtu
    if (spec.mac !== undefined) r.mac = spec.mac
    if (spec.txqlen !== undefined) r.txqlen = spec.txqlen
    if (spec.up !== undefined) r.up = spec.up
    if (spec.data !== undefined) r.data = spec.data
    if (spec.parent !== undefined) r.parent = await this.indexOf(spec.parent)
    if (spec.master !== undefined) r.master = await this.indexOf(spec.master)
    if (spec.namespace !== undefined) r.netNsFd = spec.namespace.fd
    const extra = spec.parent !== undefined ? ` (link ${describe(spec.parent)})` : ''
    try {
      await this.socket.ack(buildAddLinkRequest(r), `RTM_NEWLINK ${spec.kind} ${spec.name}${extra}`)
    } catch (err) {
      if (spec.kind === 'bridge' && (spec.data as BridgeData | undefined)?.vlanFiltering === 1) throw mapUnsupported(err, VLAN_FILTERING)
      // rtnl_newlink answers EOPNOTSUPP ("Unknown device type") for a kind the kernel was built without.
      if (err instanceof NetlinkError && (err.kernelMessage === undefined || /unknown device type/i.test(err.kernelMessage))) {
        throw mapUnsupported(err, `the ${JSON.stringify(spec.kind)} link kind`)
      }
      throw err
    }
  }

  async createBridge (spec: BridgeSpec): Promise<void> {
    try {
      await this.socket.ack(buildCreateBridgeRequest(spec), `RTM_NEWLINK bridge ${spec.name}`)
    } catch (err) {
      throw spec.vlanFiltering === true ? mapUnsupported(err, VLAN_FILTERING) : err
    }
  }

  /** Changes an existing bridge's IFLA_BR_* settings (e.g. groupFwdMask). */
  async setBridge (ref: LinkRef, change: BridgeChange): Promise<void> {
    const what = Object.entries(change).map(([k, v]) => `${k} ${String(v)}`).join(' ')
    try {
      await this.socket.ack(buildSetBridgeRequest(ref, change), `RTM_NEWLINK set ${describe(ref)} type bridge ${what}`)
    } catch (err) {
      throw change.vlanFiltering === true ? mapUnsupported(err, VLAN_FILTERING) : err
    }
  }

  /** Creates both ends in one request; the peer can go straight into another namespace. */
  async createVeth (spec: VethSpec): Promise<void> {
    const r: VethRequestSpec = { name: spec.name, peerName: spec.peerName }
    if (spec.mtu !== undefined) r.mtu = spec.mtu
    if (spec.peerMtu !== undefined) r.peerMtu = spec.peerMtu
    if (spec.mac !== undefined) r.mac = spec.mac
    if (spec.peerMac !== undefined) r.peerMac = spec.peerMac
    if (spec.up !== undefined) r.up = spec.up
    if (spec.peerNamespace !== undefined) r.peerNetNsFd = spec.peerNamespace.fd
    if (spec.namespace !== undefined) r.netNsFd = spec.namespace.fd
    const peerWhere = spec.peerNamespace !== undefined ? ` in ${spec.peerNamespace.path}` : ''
    await this.socket.ack(buildCreateVethRequest(r), `RTM_NEWLINK veth ${spec.name} (peer ${spec.peerName}${peerWhere})`)
  }

  async delete (ref: LinkRef): Promise<void> {
    await this.socket.ack(buildDeleteLinkRequest(ref), `RTM_DELLINK ${describe(ref)}`)
  }

  private async set (ref: LinkRef, change: LinkChange, what: string): Promise<void> {
    await this.socket.ack(buildSetLinkRequest(ref, change), `RTM_NEWLINK set ${describe(ref)} ${what}`)
  }

  setUp (ref: LinkRef): Promise<void> { return this.set(ref, { up: true }, 'up') }
  setDown (ref: LinkRef): Promise<void> { return this.set(ref, { up: false }, 'down') }
  setMTU (ref: LinkRef, mtu: number): Promise<void> { return this.set(ref, { mtu }, `mtu ${mtu}`) }
  setMAC (ref: LinkRef, mac: string): Promise<void> { return this.set(ref, { mac }, `address ${mac}`) }
  setPromisc (ref: LinkRef, on: boolean): Promise<void> { return this.set(ref, { promisc: on }, `promisc ${on ? 'on' : 'off'}`) }
  setTxqlen (ref: LinkRef, txqlen: number): Promise<void> { return this.set(ref, { txqlen }, `txqlen ${txqlen}`) }
  /**
   * Sets IPv4 settings of the interface (net.ipv4.conf.<dev>.*) by
   * IPV4_DEVCONF_* id, over netlink: no /proc/sys file is opened. (IPv6
   * settings other than the address generation mode have no netlink setter.)
   */
  setInetConf (ref: LinkRef, conf: Record<number, number>): Promise<void> {
    return this.set(ref, { inetConf: conf }, `inet conf ${Object.entries(conf).map(([id, v]) => `${id}=${v}`).join(' ')}`)
  }
  setAddrGenMode (ref: LinkRef, mode: number): Promise<void> { return this.set(ref, { addrGenMode: mode }, `addrgenmode ${mode}`) }

  /** Enslaves the link to a bridge, or releases it (null). */
  async setMaster (ref: LinkRef, master: LinkRef | null): Promise<void> {
    const index = master === null ? 0 : await this.indexOf(master)
    await this.set(ref, { master: index }, master === null ? 'nomaster' : `master ${describe(master)}`)
  }

  async rename (ref: LinkRef, name: string): Promise<void> {
    const index = await this.indexOf(ref)
    await this.set(index, { name }, `name ${name}${typeof ref === 'string' ? ` (was ${ref})` : ''}`)
  }

  /** Moves the link into another namespace (it leaves this one). */
  moveToNamespace (ref: LinkRef, ns: NetNamespace): Promise<void> {
    return this.set(ref, { netNsFd: ns.fd }, `netns ${ns.path}`)
  }

  /** Changes bridge port settings (RTM_SETLINK AF_BRIDGE IFLA_PROTINFO), as `bridge link set`. */
  async setBridgePort (ref: LinkRef, options: BridgePortOptions): Promise<void> {
    const index = await this.indexOf(ref)
    const what = Object.entries(options).map(([k, v]) => `${k} ${String(v)}`).join(' ')
    await this.socket.ack(buildSetBridgePortRequest(index, options), `RTM_SETLINK AF_BRIDGE ${describe(ref)} ${what}`)
  }

  /** Adds a VLAN to a bridge port (needs bridge VLAN filtering, which this kernel lacks). */
  async addBridgeVlan (ref: LinkRef, vlan: BridgeVlan): Promise<void> {
    const index = await this.indexOf(ref)
    const flags = `${vlan.pvid === true ? ' pvid' : ''}${vlan.untagged === true ? ' untagged' : ''}`
    try {
      await this.socket.ack(buildBridgeVlanRequest(index, vlan, 'add'), `RTM_SETLINK AF_BRIDGE ${describe(ref)} vlan add vid ${vlan.vid}${flags}`)
    } catch (err) { throw mapUnsupported(err, VLAN_FILTERING) }
  }

  async deleteBridgeVlan (ref: LinkRef, vid: number): Promise<void> {
    const index = await this.indexOf(ref)
    try {
      await this.socket.ack(buildBridgeVlanRequest(index, { vid }, 'delete'), `RTM_DELLINK AF_BRIDGE ${describe(ref)} vlan del vid ${vid}`)
    } catch (err) { throw mapUnsupported(err, VLAN_FILTERING) }
  }

  /** The VLANs of a bridge port (or bridge); empty without VLAN filtering. */
  async listBridgeVlans (ref: LinkRef): Promise<Array<Required<BridgeVlan> & { flags: number }>> {
    const index = await this.indexOf(ref)
    const messages = await this.socket.dump(buildBridgeVlanDumpRequest(), decodeLinkReply, `RTM_GETLINK AF_BRIDGE dump vlans of ${describe(ref)}`)
    const out: Array<Required<BridgeVlan> & { flags: number }> = []
    for (const m of messages) {
      if (m.index !== index) continue
      for (const v of m.attributes.afSpec?.vlans ?? []) out.push(vlanOf(v))
    }
    return out
  }

  /** Bridge ports as `bridge link show` sees them (AF_BRIDGE dump). */
  async listBridgePorts (): Promise<Link[]> {
    const messages = await this.socket.dump(buildBridgeDumpRequest(), decodeLinkReply, 'RTM_GETLINK AF_BRIDGE dump')
    return messages.map(linkFromMessage)
  }
}

function vlanOf (v: BridgeVlanInfo): Required<BridgeVlan> & { flags: number } {
  return { vid: v.vid, pvid: (v.flags & BRIDGE_VLAN_INFO_PVID) !== 0, untagged: (v.flags & BRIDGE_VLAN_INFO_UNTAGGED) !== 0, flags: v.flags }
}

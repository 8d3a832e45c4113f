// LinkService: network interfaces as plain objects, on one NetlinkSocket
// (which fixes the namespace). The request builders are pure functions,
// exported so tests compare their bytes with iproute2's without a socket.
import { NetlinkWriter } from '../attributes.js'
import { NetlinkError } from '../errors.js'
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
import { type Conversion, type FieldMap, fromKernel, onOff, pick, toKernel } from './field-map.js'

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

/** The link fields of requests (LinkRequestSpec, LinkChange, VethRequestSpec) → IFLA_*. */
const LINK_REQUEST: FieldMap<LinkRequestSpec & LinkChange, LinkAttributes> = {
  mtu: 'mtu', mac: 'address', txqlen: 'txqlen', master: 'master', netNsFd: 'netNsFd', parent: 'link'
}

/** RTM_NEWLINK NLM_F_CREATE|NLM_F_EXCL for any kind. */
export function buildAddLinkRequest (spec: LinkRequestSpec): Buffer {
  const a: LinkAttributes = { ...toKernel(spec, LINK_REQUEST), ifname: spec.name, linkInfo: { kind: spec.kind, ...pick(spec, ['data']) } }
  const up = spec.up === true ? IFF_UP : 0
  return message(RTM_NEWLINK, FLAGS_CREATE, linkMessage(0, a, AF_UNSPEC, up, up))
}

/** BridgeSettings ↔ IFLA_BR_*: what a BridgeSpec asks for and a BridgeInfo reports. */
const BRIDGE_SETTINGS: FieldMap<BridgeSettings, BridgeData> = {
  forwardDelay: 'forwardDelay',
  helloTime: 'helloTime',
  maxAge: 'maxAge',
  ageingTime: 'ageingTime',
  priority: 'priority',
  vlanProtocol: 'vlanProtocol',
  defaultPvid: 'vlanDefaultPvid',
  mcastSnooping: ['mcastSnooping', onOff],
  groupFwdMask: 'groupFwdMask'
}

const BRIDGE_SPEC: FieldMap<BridgeSpec, BridgeData> = { ...BRIDGE_SETTINGS, stp: ['stpState', onOff], vlanFiltering: ['vlanFiltering', onOff] }

/** The IFLA_BR_* a BridgeSpec asks for (undefined when none: iproute2 then sends no IFLA_INFO_DATA). */
export function bridgeData (spec: BridgeSpec): BridgeData | undefined {
  const d = toKernel(spec, BRIDGE_SPEC)
  return Object.keys(d).length > 0 ? d : undefined
}

export function buildCreateBridgeRequest (spec: BridgeSpec): Buffer {
  const r: LinkRequestSpec = { name: spec.name, kind: 'bridge', ...pick(spec, ['mtu', 'mac', 'txqlen', 'up']) }
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

/** The peer's fields of a VethRequestSpec → its IFLA_* (its MTU is peerMtu, else mtu). */
const VETH_PEER: FieldMap<VethRequestSpec, LinkAttributes> = { peerMac: 'address', peerNetNsFd: 'netNsFd' }

/** Both ends in one request: the peer is a whole ifinfomsg inside VETH_INFO_PEER. */
export function buildCreateVethRequest (spec: VethRequestSpec): Buffer {
  const peer: LinkAttributes = { ...toKernel(spec, VETH_PEER), ifname: spec.peerName }
  const peerMtu = spec.peerMtu ?? spec.mtu
  if (peerMtu !== undefined) peer.mtu = peerMtu
  return buildAddLinkRequest({ name: spec.name, kind: 'veth', data: { peer: linkMessage(0, peer) }, ...pick(spec, ['mtu', 'mac', 'netNsFd', 'up']) })
}

/** RTM_NEWLINK without NLM_F_CREATE: changes an existing link, as `ip link set` does. */
export function buildSetLinkRequest (ref: LinkRef, change: LinkChange): Buffer {
  const a: LinkAttributes = toKernel(change, LINK_REQUEST)
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

/** BR_STATE_* as names. */
const portState: Conversion<BridgePortState, number> = {
  toKernel: state => {
    const s = BRPORT_STATES.indexOf(state)
    if (s < 0) throw new TypeError(`unknown bridge port state ${JSON.stringify(state)}`)
    return s
  },
  fromKernel: s => BRPORT_STATES[s] ?? 'disabled'
}

/** BridgePort ↔ IFLA_BRPORT_* (switches are u8 0/1 there). */
const BRIDGE_PORT: FieldMap<BridgePort, BridgePortAttributes> = {
  state: ['state', portState],
  priority: 'priority',
  cost: 'cost',
  hairpin: ['mode', onOff],
  guard: ['guard', onOff],
  rootBlock: ['protect', onOff],
  fastLeave: ['fastLeave', onOff],
  learning: ['learning', onOff],
  learningSync: ['learningSync', onOff],
  unicastFlood: ['unicastFlood', onOff],
  mcastFlood: ['mcastFlood', onOff],
  bcastFlood: ['bcastFlood', onOff],
  mcastToUnicast: ['mcastToUcast', onOff],
  proxyArp: ['proxyarp', onOff],
  neighSuppress: ['neighSuppress', onOff],
  vlanTunnel: ['vlanTunnel', onOff],
  isolated: ['isolated', onOff],
  locked: ['locked', onOff]
}

/** BridgePortOptions → IFLA_BRPORT_* */
export function bridgePortAttributes (o: BridgePortOptions): BridgePortAttributes {
  return toKernel(o, BRIDGE_PORT)
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
  return { vlanFiltering: d.vlanFiltering === 1, stpState: d.stpState ?? 0, ...fromKernel(d, BRIDGE_SETTINGS), ...pick(d, ['bridgeId']) }
}

/** IFLA_BRPORT_* → BridgePort (only what the kernel sent). */
export function bridgePortFromAttributes (p: BridgePortAttributes): BridgePort {
  return fromKernel(p, BRIDGE_PORT)
}

type VxlanView = NonNullable<Link['vxlan']>
const VXLAN_VIEW: FieldMap<VxlanView, VxlanData> = { port: 'port', link: 'link', ttl: 'ttl', ttlInherit: 'ttlInherit', tos: 'tos', learning: ['learning', onOff] }

/**
 * The friendly view of a decoded link message. Its common fields are copied
 * by hand, not through a field map: this runs once per link of every dump.
 */
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
          link.vlan = { id: v.id ?? 0, ...pick(v, ['protocol']) }
          if (v.flags !== undefined) link.vlan.flags = v.flags.flags
          break
        }
        case 'macvlan': case 'macvtap': {
          const v = d as MacvlanData
          link.macvlan = { mode: MACVLAN_MODE_NAMES[v.mode ?? 0] ?? String(v.mode), ...pick(v, ['flags']) }
          break
        }
        case 'vxlan': {
          const v = d as VxlanData
          const x: NonNullable<Link['vxlan']> = { vni: v.id ?? 0 }
          const group = v.group ?? v.group6; if (group !== undefined) x.group = group
          const local = v.local ?? v.local6; if (local !== undefined) x.local = local
          link.vxlan = { ...x, ...fromKernel(v, VXLAN_VIEW) }
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
    super(cause.errno, { operation: cause.operation, namespace: cause.namespace }, { message: cause.kernelMessage, offset: cause.kernelOffset })
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
    // The rest passes through as it is; references become numbers.
    const { parent, master, namespace, ...rest } = spec
    const r: LinkRequestSpec = rest
    if (parent !== undefined) r.parent = await this.indexOf(parent)
    if (master !== undefined) r.master = await this.indexOf(master)
    if (namespace !== undefined) r.netNsFd = namespace.fd
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
    const { peerNamespace, namespace, ...rest } = spec
    const r: VethRequestSpec = rest
    if (peerNamespace !== undefined) r.peerNetNsFd = peerNamespace.fd
    if (namespace !== undefined) r.netNsFd = namespace.fd
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

  /** Enslaves the link to a bridge, or releases it (null); `up` also sets it up in the same request (`ip link set X master B up`). */
  async setMaster (ref: LinkRef, master: LinkRef | null, options: { up?: boolean } = {}): Promise<void> {
    const index = master === null ? 0 : await this.indexOf(master)
    const what = master === null ? 'nomaster' : `master ${describe(master)}`
    if (options.up === undefined) await this.set(ref, { master: index }, what)
    else await this.set(ref, { master: index, up: options.up }, `${what} ${options.up ? 'up' : 'down'}`)
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

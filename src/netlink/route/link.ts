// The link message codec: struct ifinfomsg and the IFLA_* attributes of
// RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK / RTM_SETLINK (linux/rtnetlink.h,
// linux/if_link.h, linux/if_bridge.h). No socket here: the service in
// links.ts builds requests with these functions.
import { AttributeReader, NLA_F_NESTED, readU32, type NetlinkWriter } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { AF_BRIDGE, AF_INET, AF_INET6 } from './rtnetlink.js'
import { type AttributeSet, STRING_UNTERMINATED, encodeAttributeSet, keepUnknown, unterminated, writeString } from './kinds/fields.js'
import { linkKindDriver } from './kinds/registry.js'
import { type BridgePortAttributes, decodeBridgePort, encodeBridgePort } from './kinds/bridge-port.js'
import type { BridgeData } from './kinds/bridge.js'
import type { VethData } from './kinds/veth.js'
import type { VlanData } from './kinds/vlan.js'
import type { MacvlanData } from './kinds/macvlan.js'
import type { VxlanData } from './kinds/vxlan.js'

/** sizeof(struct ifinfomsg) */
export const IFINFOMSG_LEN = 16

// Device flags (enum net_device_flags, linux/if.h)
export const IFF_UP = 0x1
export const IFF_BROADCAST = 0x2
export const IFF_DEBUG = 0x4
export const IFF_LOOPBACK = 0x8
export const IFF_POINTOPOINT = 0x10
export const IFF_NOTRAILERS = 0x20
export const IFF_RUNNING = 0x40
export const IFF_NOARP = 0x80
export const IFF_PROMISC = 0x100
export const IFF_ALLMULTI = 0x200
export const IFF_MASTER = 0x400
export const IFF_SLAVE = 0x800
export const IFF_MULTICAST = 0x1000
export const IFF_PORTSEL = 0x2000
export const IFF_AUTOMEDIA = 0x4000
export const IFF_DYNAMIC = 0x8000
export const IFF_LOWER_UP = 0x10000
export const IFF_DORMANT = 0x20000
export const IFF_ECHO = 0x40000

/** Flag names in bit order, as `ip link` prints them. */
export const IFF_NAMES: ReadonlyArray<[number, string]> = [
  [IFF_UP, 'UP'], [IFF_BROADCAST, 'BROADCAST'], [IFF_DEBUG, 'DEBUG'], [IFF_LOOPBACK, 'LOOPBACK'],
  [IFF_POINTOPOINT, 'POINTOPOINT'], [IFF_NOTRAILERS, 'NOTRAILERS'], [IFF_RUNNING, 'RUNNING'], [IFF_NOARP, 'NOARP'],
  [IFF_PROMISC, 'PROMISC'], [IFF_ALLMULTI, 'ALLMULTI'], [IFF_MASTER, 'MASTER'], [IFF_SLAVE, 'SLAVE'],
  [IFF_MULTICAST, 'MULTICAST'], [IFF_PORTSEL, 'PORTSEL'], [IFF_AUTOMEDIA, 'AUTOMEDIA'], [IFF_DYNAMIC, 'DYNAMIC'],
  [IFF_LOWER_UP, 'LOWER_UP'], [IFF_DORMANT, 'DORMANT'], [IFF_ECHO, 'ECHO']
]

/** "UP,BROADCAST,…" names of a flags word (unknown bits as hex). */
export function linkFlagNames (flags: number): string[] {
  const out: string[] = []
  let rest = flags >>> 0
  for (const [bit, name] of IFF_NAMES) if ((flags & bit) !== 0) { out.push(name); rest &= ~bit }
  if (rest !== 0) out.push('0x' + (rest >>> 0).toString(16))
  return out
}

// Hardware types (linux/if_arp.h), the common ones
export const ARPHRD_NETROM = 0
export const ARPHRD_ETHER = 1
export const ARPHRD_INFINIBAND = 32
export const ARPHRD_TUNNEL = 768
export const ARPHRD_TUNNEL6 = 769
export const ARPHRD_SIT = 776
export const ARPHRD_IPGRE = 778
export const ARPHRD_LOOPBACK = 772
export const ARPHRD_IEEE80211 = 801
export const ARPHRD_NONE = 0xfffe
export const ARPHRD_VOID = 0xffff

// Operational states (RFC 2863, linux/if.h)
export const IF_OPER_UNKNOWN = 0
export const IF_OPER_NOTPRESENT = 1
export const IF_OPER_DOWN = 2
export const IF_OPER_LOWERLAYERDOWN = 3
export const IF_OPER_TESTING = 4
export const IF_OPER_DORMANT = 5
export const IF_OPER_UP = 6

/** IF_OPER_* → the lower-case name `ip -j link` uses (upper-cased there). */
export const IF_OPER_NAMES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const
export type OperState = typeof IF_OPER_NAMES[number]

export const IF_LINK_MODE_DEFAULT = 0
export const IF_LINK_MODE_DORMANT = 1
export const IF_LINK_MODE_TESTING = 2

// Link attributes (linux/if_link.h)
export const IFLA_ADDRESS = 1
export const IFLA_BROADCAST = 2
export const IFLA_IFNAME = 3
export const IFLA_MTU = 4
export const IFLA_LINK = 5
export const IFLA_QDISC = 6
export const IFLA_STATS = 7
export const IFLA_COST = 8
export const IFLA_PRIORITY = 9
export const IFLA_MASTER = 10
export const IFLA_WIRELESS = 11
export const IFLA_PROTINFO = 12
export const IFLA_TXQLEN = 13
export const IFLA_MAP = 14
export const IFLA_WEIGHT = 15
export const IFLA_OPERSTATE = 16
export const IFLA_LINKMODE = 17
export const IFLA_LINKINFO = 18
export const IFLA_NET_NS_PID = 19
export const IFLA_IFALIAS = 20
export const IFLA_NUM_VF = 21
export const IFLA_VFINFO_LIST = 22
export const IFLA_STATS64 = 23
export const IFLA_VF_PORTS = 24
export const IFLA_PORT_SELF = 25
export const IFLA_AF_SPEC = 26
export const IFLA_GROUP = 27
export const IFLA_NET_NS_FD = 28
export const IFLA_EXT_MASK = 29
export const IFLA_PROMISCUITY = 30
export const IFLA_NUM_TX_QUEUES = 31
export const IFLA_NUM_RX_QUEUES = 32
export const IFLA_CARRIER = 33
export const IFLA_PHYS_PORT_ID = 34
export const IFLA_CARRIER_CHANGES = 35
export const IFLA_PHYS_SWITCH_ID = 36
export const IFLA_LINK_NETNSID = 37
export const IFLA_PHYS_PORT_NAME = 38
export const IFLA_PROTO_DOWN = 39
export const IFLA_GSO_MAX_SEGS = 40
export const IFLA_GSO_MAX_SIZE = 41
export const IFLA_PAD = 42
export const IFLA_XDP = 43
export const IFLA_EVENT = 44
export const IFLA_NEW_NETNSID = 45
export const IFLA_IF_NETNSID = 46
export const IFLA_TARGET_NETNSID = IFLA_IF_NETNSID
export const IFLA_CARRIER_UP_COUNT = 47
export const IFLA_CARRIER_DOWN_COUNT = 48
export const IFLA_NEW_IFINDEX = 49
export const IFLA_MIN_MTU = 50
export const IFLA_MAX_MTU = 51
export const IFLA_PROP_LIST = 52
export const IFLA_ALT_IFNAME = 53
export const IFLA_PERM_ADDRESS = 54
export const IFLA_PROTO_DOWN_REASON = 55
export const IFLA_PARENT_DEV_NAME = 56
export const IFLA_PARENT_DEV_BUS_NAME = 57
export const IFLA_GRO_MAX_SIZE = 58
export const IFLA_TSO_MAX_SIZE = 59
export const IFLA_TSO_MAX_SEGS = 60
export const IFLA_ALLMULTI = 61

// IFLA_LINKINFO nested attributes
export const IFLA_INFO_KIND = 1
export const IFLA_INFO_DATA = 2
export const IFLA_INFO_XSTATS = 3
export const IFLA_INFO_SLAVE_KIND = 4
export const IFLA_INFO_SLAVE_DATA = 5

// IFLA_AF_SPEC of AF_BRIDGE messages (linux/if_bridge.h)
export const IFLA_BRIDGE_FLAGS = 0
export const IFLA_BRIDGE_MODE = 1
export const IFLA_BRIDGE_VLAN_INFO = 2
export const IFLA_BRIDGE_VLAN_TUNNEL_INFO = 3

export const BRIDGE_FLAGS_MASTER = 1
export const BRIDGE_FLAGS_SELF = 2
export const BRIDGE_MODE_VEB = 0
export const BRIDGE_MODE_VEPA = 1
export const BRIDGE_MODE_HAIRPIN = 1

export const BRIDGE_VLAN_INFO_MASTER = 1 << 0
export const BRIDGE_VLAN_INFO_PVID = 1 << 1
export const BRIDGE_VLAN_INFO_UNTAGGED = 1 << 2
export const BRIDGE_VLAN_INFO_RANGE_BEGIN = 1 << 3
export const BRIDGE_VLAN_INFO_RANGE_END = 1 << 4
export const BRIDGE_VLAN_INFO_BRENTRY = 1 << 5
export const BRIDGE_VLAN_INFO_ONLY_OPTS = 1 << 6

/** IFLA_INFO_DATA decoded by a kind driver; a kind without one keeps the attribute raw. */
export type LinkKindData = BridgeData | VethData | VlanData | MacvlanData | VxlanData | AttributeSet

/** IFLA_LINKINFO */
export interface LinkInfo extends AttributeSet {
  /** IFLA_INFO_KIND, e.g. "bridge", "veth" */
  kind?: string
  /** IFLA_INFO_DATA, decoded by the kind's driver (kinds/registry.ts) */
  data?: LinkKindData
  /** IFLA_INFO_SLAVE_KIND: the master's kind, e.g. "bridge" on a bridge port */
  slaveKind?: string
  /** IFLA_INFO_SLAVE_DATA: IFLA_BRPORT_* when slaveKind is "bridge" (others stay raw) */
  slaveData?: BridgePortAttributes
}

/** struct bridge_vlan_info */
export interface BridgeVlanInfo {
  /** BRIDGE_VLAN_INFO_* */
  flags: number
  vid: number
}

/** IFLA_AF_SPEC of an AF_BRIDGE message. */
export interface BridgeAfSpec extends AttributeSet {
  /** BRIDGE_FLAGS_MASTER / BRIDGE_FLAGS_SELF (u16) */
  flags?: number
  /** BRIDGE_MODE_* (u16) */
  mode?: number
  /** Every IFLA_BRIDGE_VLAN_INFO, in order */
  vlans?: BridgeVlanInfo[]
}

// IFLA_AF_SPEC of link messages of other families than AF_BRIDGE: one nested
// attribute per address family, its type the family (AF_INET, AF_INET6),
// holding that family's settings (net/ipv4/devinet.c inet_fill_link_af and
// inet_set_link_af; net/ipv6/addrconf.c inet6_fill_link_af and
// inet6_set_link_af).
export const IFLA_INET_CONF = 1
export const IFLA_INET6_ADDR_GEN_MODE = 8
/** IPV4_DEVCONF_* ids (linux/ip.h) named here; the kernel takes any of 1..IPV4_DEVCONF_MAX. */
export const IPV4_DEVCONF_ARP_NOTIFY = 22
/** IN6_ADDR_GEN_MODE_* (linux/if_link.h) */
export const IN6_ADDR_GEN_MODE_EUI64 = 0
export const IN6_ADDR_GEN_MODE_NONE = 1
export const IN6_ADDR_GEN_MODE_STABLE_PRIVACY = 2
export const IN6_ADDR_GEN_MODE_RANDOM = 3

/** IFLA_AF_SPEC{AF_INET}: the interface's IPv4 settings (net.ipv4.conf.<dev>.*). */
export interface InetLinkSettings extends AttributeSet {
  /**
   * IFLA_INET_CONF as the kernel reports it: every IPV4_DEVCONF_* value,
   * conf[id - 1] (a plain u32 array).
   */
  conf?: number[]
  /**
   * IFLA_INET_CONF of a request: the values to set, by IPV4_DEVCONF_* id
   * (the kernel takes them as nested u32 attributes whose type is the id,
   * not as the array it reports). Written instead of `conf` when present.
   */
  setConf?: Record<number, number>
}

/** IFLA_AF_SPEC{AF_INET6}: of the interface's IPv6 settings, the one requests can change here. */
export interface Inet6LinkSettings extends AttributeSet {
  /** IFLA_INET6_ADDR_GEN_MODE (u8): IN6_ADDR_GEN_MODE_* */
  addrGenMode?: number
}

/** IFLA_AF_SPEC of a link message of a family other than AF_BRIDGE, by address family. */
export interface LinkFamilySettings extends AttributeSet {
  inet?: InetLinkSettings
  inet6?: Inet6LinkSettings
}

/** IFLA_* attributes of a link message; names follow the kernel's. */
export interface LinkAttributes extends AttributeSet {
  /** IFLA_IFNAME */
  ifname?: string
  mtu?: number
  /** IFLA_ADDRESS: the hardware address, "aa:bb:cc:dd:ee:ff" (any length, colon-separated) */
  address?: string
  broadcast?: string
  /** ifindex of the master (bridge); 0 in a request releases the link */
  master?: number
  /** IF_OPER_* */
  operstate?: number
  /** IF_LINK_MODE_* */
  linkmode?: number
  txqlen?: number
  /** IFLA_LINK: ifindex of the parent/peer (in linkNetnsid's namespace when that is set) */
  link?: number
  qdisc?: string
  /** Request only: move or create the link in the namespace of this fd */
  netNsFd?: number
  /** Request only: … of this process */
  netNsPid?: number
  /** IFLA_TARGET_NETNSID (= IFLA_IF_NETNSID) */
  targetNetnsid?: number
  /** The namespace (by nsid) where IFLA_LINK's index lives, e.g. a veth peer elsewhere (s32) */
  linkNetnsid?: number
  newNetnsid?: number
  /** RTEXT_FILTER_* (requests) */
  extMask?: number
  group?: number
  promiscuity?: number
  allmulti?: number
  numTxQueues?: number
  numRxQueues?: number
  carrier?: number
  carrierChanges?: number
  carrierUpCount?: number
  carrierDownCount?: number
  protoDown?: number
  minMtu?: number
  maxMtu?: number
  gsoMaxSegs?: number
  gsoMaxSize?: number
  groMaxSize?: number
  tsoMaxSize?: number
  tsoMaxSegs?: number
  ifalias?: string
  /** IFLA_ALT_IFNAME at top level: name a link by an alternative name */
  altIfname?: string
  /** IFLA_PROP_LIST: the link's alternative names */
  altIfnames?: string[]
  permAddress?: string
  parentDevName?: string
  parentDevBusName?: string
  linkInfo?: LinkInfo
  /** IFLA_PROTINFO of AF_BRIDGE messages: the bridge port's settings */
  protinfo?: BridgePortAttributes
  /** IFLA_AF_SPEC of AF_BRIDGE messages */
  afSpec?: BridgeAfSpec
  /** IFLA_AF_SPEC of other messages (AF_UNSPEC): per address family */
  families?: LinkFamilySettings
}

/** struct ifinfomsg plus its attributes. */
export interface LinkMessage {
  /** AF_UNSPEC, AF_BRIDGE… */
  family: number
  /** ARPHRD_* */
  type: number
  /** ifindex; 0 in a request names the link by IFLA_IFNAME */
  index: number
  /** IFF_* */
  flags: number
  /** Which IFF_* bits a request changes */
  change: number
  attributes: LinkAttributes
}

export interface LinkDecodeOptions {
  /** Record attribute order at every level so encodeLinkMessage reproduces the bytes exactly. */
  keepOrder?: boolean
}

/**
 * Decodes the payload of a link message (after the nlmsghdr): buf[start, end).
 * Unknown attributes are kept as views into buf (not copied).
 */
export function decodeLinkMessage (buf: Uint8Array, start: number, end: number, options?: LinkDecodeOptions): LinkMessage {
  if (end - start < IFINFOMSG_LEN) throw new NetlinkDecodeError(`link message of ${end - start} bytes is shorter than struct ifinfomsg (16)`, start)
  if (end > buf.length) throw new NetlinkDecodeError(`link message end ${end} is past the buffer (${buf.length} bytes)`, start)
  const family = buf[start]!
  return {
    family,
    type: buf[start + 2]! | (buf[start + 3]! << 8),
    index: readU32(buf, start + 4) | 0,
    flags: readU32(buf, start + 8),
    change: readU32(buf, start + 12),
    attributes: decodeLinkAttributes(buf, start + IFINFOMSG_LEN, end, family, options?.keepOrder === true)
  }
}

/** Decodes IFLA_* attributes; family decides how PROTINFO and AF_SPEC are read. */
export function decodeLinkAttributes (buf: Uint8Array, start: number, end: number, family: number, keepOrder = false): LinkAttributes {
  const a: LinkAttributes = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  const r = new AttributeReader(buf, start, end)
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_IFNAME: a.ifname = r.string(); break
      case IFLA_MTU: a.mtu = r.u32(); break
      case IFLA_ADDRESS: a.address = r.mac(); break
      case IFLA_BROADCAST: a.broadcast = r.mac(); break
      case IFLA_MASTER: a.master = r.u32(); break
      case IFLA_OPERSTATE: a.operstate = r.u8(); break
      case IFLA_LINKMODE: a.linkmode = r.u8(); break
      case IFLA_TXQLEN: a.txqlen = r.u32(); break
      case IFLA_LINK: a.link = r.u32(); break
      case IFLA_QDISC: a.qdisc = r.string(); break
      case IFLA_NET_NS_FD: a.netNsFd = r.u32(); break
      case IFLA_NET_NS_PID: a.netNsPid = r.u32(); break
      case IFLA_TARGET_NETNSID: a.targetNetnsid = r.s32(); break
      case IFLA_LINK_NETNSID: a.linkNetnsid = r.s32(); break
      case IFLA_NEW_NETNSID: a.newNetnsid = r.s32(); break
      case IFLA_EXT_MASK: a.extMask = r.u32(); break
      case IFLA_GROUP: a.group = r.u32(); break
      case IFLA_PROMISCUITY: a.promiscuity = r.u32(); break
      case IFLA_ALLMULTI: a.allmulti = r.u32(); break
      case IFLA_NUM_TX_QUEUES: a.numTxQueues = r.u32(); break
      case IFLA_NUM_RX_QUEUES: a.numRxQueues = r.u32(); break
      case IFLA_CARRIER: a.carrier = r.u8(); break
      case IFLA_CARRIER_CHANGES: a.carrierChanges = r.u32(); break
      case IFLA_CARRIER_UP_COUNT: a.carrierUpCount = r.u32(); break
      case IFLA_CARRIER_DOWN_COUNT: a.carrierDownCount = r.u32(); break
      case IFLA_PROTO_DOWN: a.protoDown = r.u8(); break
      case IFLA_MIN_MTU: a.minMtu = r.u32(); break
      case IFLA_MAX_MTU: a.maxMtu = r.u32(); break
      case IFLA_GSO_MAX_SEGS: a.gsoMaxSegs = r.u32(); break
      case IFLA_GSO_MAX_SIZE: a.gsoMaxSize = r.u32(); break
      case IFLA_GRO_MAX_SIZE: a.groMaxSize = r.u32(); break
      case IFLA_TSO_MAX_SIZE: a.tsoMaxSize = r.u32(); break
      case IFLA_TSO_MAX_SEGS: a.tsoMaxSegs = r.u32(); break
      case IFLA_IFALIAS: a.ifalias = r.string(); break
      case IFLA_ALT_IFNAME: a.altIfname = r.string(); break
      case IFLA_PERM_ADDRESS: a.permAddress = r.mac(); break
      case IFLA_PARENT_DEV_NAME: a.parentDevName = r.string(); break
      case IFLA_PARENT_DEV_BUS_NAME: a.parentDevBusName = r.string(); break
      case IFLA_PROP_LIST: {
        const names = decodePropList(r)
        if (names !== undefined) a.altIfnames = names; else keepUnknown(a, r)
        break
      }
      case IFLA_LINKINFO: a.linkInfo = decodeLinkInfo(buf, r.offset, r.offset + r.length, keepOrder); break
      case IFLA_PROTINFO:
        if (family === AF_BRIDGE) a.protinfo = decodeBridgePort(buf, r.offset, r.offset + r.length, keepOrder)
        else keepUnknown(a, r) // AF_INET6 sends IFLA_INET6_* here
        break
      case IFLA_AF_SPEC:
        if (family === AF_BRIDGE) a.afSpec = decodeBridgeAfSpec(buf, r.offset, r.offset + r.length, keepOrder)
        else a.families = decodeLinkFamilies(buf, r.offset, r.offset + r.length, keepOrder)
        break
      default: keepUnknown(a, r)
    }
  }
  if (order !== undefined) a.order = order
  return a
}

/** IFLA_PROP_LIST holds IFLA_ALT_IFNAME strings; anything else → undefined (kept raw). */
function decodePropList (outer: AttributeReader): string[] | undefined {
  const names: string[] = []
  const r = outer.nestedReader()
  while (r.next()) {
    if (r.type !== IFLA_ALT_IFNAME) return undefined
    names.push(r.string())
  }
  return names
}

export function decodeLinkInfo (buf: Uint8Array, start: number, end: number, keepOrder = false): LinkInfo {
  const li: LinkInfo = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  const r = new AttributeReader(buf, start, end)
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_INFO_KIND:
        li.kind = r.string()
        if (order !== undefined && unterminated(r)) order[order.length - 1]! |= STRING_UNTERMINATED
        break
      case IFLA_INFO_DATA: {
        // The kernel sends KIND before DATA; without a kind (or driver) the data stays raw.
        const driver = li.kind !== undefined ? linkKindDriver(li.kind) : undefined
        if (driver !== undefined) li.data = driver.decode(r.nestedReader(), keepOrder)
        else keepUnknown(li, r)
        break
      }
      case IFLA_INFO_SLAVE_KIND:
        li.slaveKind = r.string()
        if (order !== undefined && unterminated(r)) order[order.length - 1]! |= STRING_UNTERMINATED
        break
      case IFLA_INFO_SLAVE_DATA:
        if (li.slaveKind === 'bridge') li.slaveData = decodeBridgePort(buf, r.offset, r.offset + r.length, keepOrder)
        else keepUnknown(li, r)
        break
      default: keepUnknown(li, r)
    }
  }
  if (order !== undefined) li.order = order
  return li
}

export function decodeBridgeAfSpec (buf: Uint8Array, start: number, end: number, keepOrder = false): BridgeAfSpec {
  const s: BridgeAfSpec = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  const r = new AttributeReader(buf, start, end)
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_BRIDGE_FLAGS: s.flags = r.u16(); break
      case IFLA_BRIDGE_MODE: s.mode = r.u16(); break
      case IFLA_BRIDGE_VLAN_INFO: {
        if (r.length < 4) throw new NetlinkDecodeError(`IFLA_BRIDGE_VLAN_INFO has ${r.length} bytes, needs 4`, r.offset)
        const b = r.buf; const o = r.offset
        const v: BridgeVlanInfo = { flags: b[o]! | (b[o + 1]! << 8), vid: b[o + 2]! | (b[o + 3]! << 8) }
        if (s.vlans === undefined) s.vlans = [v]; else s.vlans.push(v)
        break
      }
      default: keepUnknown(s, r)
    }
  }
  if (order !== undefined) s.order = order
  return s
}

export function decodeLinkFamilies (buf: Uint8Array, start: number, end: number, keepOrder = false): LinkFamilySettings {
  const f: LinkFamilySettings = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  const r = new AttributeReader(buf, start, end)
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    if (r.type === AF_INET && f.inet === undefined) f.inet = decodeInetSettings(r.nestedReader(), keepOrder)
    else if (r.type === AF_INET6 && f.inet6 === undefined) f.inet6 = decodeInet6Settings(r.nestedReader(), keepOrder)
    else keepUnknown(f, r)
  }
  if (order !== undefined) f.order = order
  return f
}

function decodeInetSettings (r: AttributeReader, keepOrder: boolean): InetLinkSettings {
  const s: InetLinkSettings = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    if (r.type === IFLA_INET_CONF && s.conf === undefined && r.length % 4 === 0) {
      const conf: number[] = []
      for (let o = r.offset; o < r.offset + r.length; o += 4) conf.push(readU32(r.buf, o))
      s.conf = conf
    } else {
      keepUnknown(s, r)
    }
  }
  if (order !== undefined) s.order = order
  return s
}

function decodeInet6Settings (r: AttributeReader, keepOrder: boolean): Inet6LinkSettings {
  const s: Inet6LinkSettings = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    if (r.type === IFLA_INET6_ADDR_GEN_MODE && r.length === 1) s.addrGenMode = r.u8(); else keepUnknown(s, r)
  }
  if (order !== undefined) s.order = order
  return s
}

// Canonical attribute order: iproute2's, so our requests match its bytes.
// iproute2 writes what it parses (mtu, address…) first, then IFLA_LINK,
// IFLA_IFNAME and IFLA_LINKINFO; IFLA_EXT_MASK precedes IFLA_IFNAME in GETs.
const LINK_CANONICAL = [
  IFLA_MTU, IFLA_ADDRESS, IFLA_BROADCAST, IFLA_TXQLEN, IFLA_OPERSTATE, IFLA_LINKMODE, IFLA_GROUP, IFLA_MASTER,
  IFLA_PROMISCUITY, IFLA_ALLMULTI, IFLA_NUM_TX_QUEUES, IFLA_NUM_RX_QUEUES, IFLA_CARRIER, IFLA_PROTO_DOWN,
  IFLA_GSO_MAX_SEGS, IFLA_GSO_MAX_SIZE, IFLA_GRO_MAX_SIZE, IFLA_TSO_MAX_SIZE, IFLA_TSO_MAX_SEGS,
  IFLA_NET_NS_PID, IFLA_NET_NS_FD, IFLA_TARGET_NETNSID, IFLA_LINK_NETNSID, IFLA_NEW_NETNSID, IFLA_EXT_MASK,
  IFLA_LINK, IFLA_IFNAME, IFLA_ALT_IFNAME, IFLA_IFALIAS, IFLA_PROP_LIST, IFLA_LINKINFO,
  IFLA_PROTINFO | NLA_F_NESTED, IFLA_AF_SPEC,
  // Read-only ones the kernel reports, so decoded messages re-encode.
  IFLA_QDISC, IFLA_MIN_MTU, IFLA_MAX_MTU, IFLA_CARRIER_CHANGES, IFLA_CARRIER_UP_COUNT, IFLA_CARRIER_DOWN_COUNT,
  IFLA_PERM_ADDRESS, IFLA_PARENT_DEV_NAME, IFLA_PARENT_DEV_BUS_NAME
] as const

function hwAddress (w: NetlinkWriter, type: number, text: string): void {
  if (text === '') w.attr(type, new Uint8Array(0)); else w.mac(type, text)
}

function emitLink (w: NetlinkWriter, a: LinkAttributes, t: number): boolean {
  switch (t & 0x3fff) {
    case IFLA_IFNAME: if (a.ifname === undefined) return false; w.string(t, a.ifname); return true
    case IFLA_MTU: if (a.mtu === undefined) return false; w.u32(t, a.mtu); return true
    case IFLA_ADDRESS: if (a.address === undefined) return false; hwAddress(w, t, a.address); return true
    case IFLA_BROADCAST: if (a.broadcast === undefined) return false; hwAddress(w, t, a.broadcast); return true
    case IFLA_MASTER: if (a.master === undefined) return false; w.u32(t, a.master); return true
    case IFLA_OPERSTATE: if (a.operstate === undefined) return false; w.u8(t, a.operstate); return true
    case IFLA_LINKMODE: if (a.linkmode === undefined) return false; w.u8(t, a.linkmode); return true
    case IFLA_TXQLEN: if (a.txqlen === undefined) return false; w.u32(t, a.txqlen); return true
    case IFLA_LINK: if (a.link === undefined) return false; w.u32(t, a.link); return true
    case IFLA_QDISC: if (a.qdisc === undefined) return false; w.string(t, a.qdisc); return true
    case IFLA_NET_NS_FD: if (a.netNsFd === undefined) return false; w.u32(t, a.netNsFd); return true
    case IFLA_NET_NS_PID: if (a.netNsPid === undefined) return false; w.u32(t, a.netNsPid); return true
    case IFLA_TARGET_NETNSID: if (a.targetNetnsid === undefined) return false; w.s32(t, a.targetNetnsid); return true
    case IFLA_LINK_NETNSID: if (a.linkNetnsid === undefined) return false; w.s32(t, a.linkNetnsid); return true
    case IFLA_NEW_NETNSID: if (a.newNetnsid === undefined) return false; w.s32(t, a.newNetnsid); return true
    case IFLA_EXT_MASK: if (a.extMask === undefined) return false; w.u32(t, a.extMask); return true
    case IFLA_GROUP: if (a.group === undefined) return false; w.u32(t, a.group); return true
    case IFLA_PROMISCUITY: if (a.promiscuity === undefined) return false; w.u32(t, a.promiscuity); return true
    case IFLA_ALLMULTI: if (a.allmulti === undefined) return false; w.u32(t, a.allmulti); return true
    case IFLA_NUM_TX_QUEUES: if (a.numTxQueues === undefined) return false; w.u32(t, a.numTxQueues); return true
    case IFLA_NUM_RX_QUEUES: if (a.numRxQueues === undefined) return false; w.u32(t, a.numRxQueues); return true
    case IFLA_CARRIER: if (a.carrier === undefined) return false; w.u8(t, a.carrier); return true
    case IFLA_CARRIER_CHANGES: if (a.carrierChanges === undefined) return false; w.u32(t, a.carrierChanges); return true
    case IFLA_CARRIER_UP_COUNT: if (a.carrierUpCount === undefined) return false; w.u32(t, a.carrierUpCount); return true
    case IFLA_CARRIER_DOWN_COUNT: if (a.carrierDownCount === undefined) return false; w.u32(t, a.carrierDownCount); return true
    case IFLA_PROTO_DOWN: if (a.protoDown === undefined) return false; w.u8(t, a.protoDown); return true
    case IFLA_MIN_MTU: if (a.minMtu === undefined) return false; w.u32(t, a.minMtu); return true
    case IFLA_MAX_MTU: if (a.maxMtu === undefined) return false; w.u32(t, a.maxMtu); return true
    case IFLA_GSO_MAX_SEGS: if (a.gsoMaxSegs === undefined) return false; w.u32(t, a.gsoMaxSegs); return true
    case IFLA_GSO_MAX_SIZE: if (a.gsoMaxSize === undefined) return false; w.u32(t, a.gsoMaxSize); return true
    case IFLA_GRO_MAX_SIZE: if (a.groMaxSize === undefined) return false; w.u32(t, a.groMaxSize); return true
    case IFLA_TSO_MAX_SIZE: if (a.tsoMaxSize === undefined) return false; w.u32(t, a.tsoMaxSize); return true
    case IFLA_TSO_MAX_SEGS: if (a.tsoMaxSegs === undefined) return false; w.u32(t, a.tsoMaxSegs); return true
    case IFLA_IFALIAS: if (a.ifalias === undefined) return false; w.string(t, a.ifalias); return true
    case IFLA_ALT_IFNAME: if (a.altIfname === undefined) return false; w.string(t, a.altIfname); return true
    case IFLA_PERM_ADDRESS: if (a.permAddress === undefined) return false; hwAddress(w, t, a.permAddress); return true
    case IFLA_PARENT_DEV_NAME: if (a.parentDevName === undefined) return false; w.string(t, a.parentDevName); return true
    case IFLA_PARENT_DEV_BUS_NAME: if (a.parentDevBusName === undefined) return false; w.string(t, a.parentDevBusName); return true
    case IFLA_PROP_LIST: {
      if (a.altIfnames === undefined) return false
      const off = w.beginNested(t)
      for (const n of a.altIfnames) w.string(IFLA_ALT_IFNAME, n)
      w.endNested(off)
      return true
    }
    case IFLA_LINKINFO: {
      if (a.linkInfo === undefined) return false
      const off = w.beginNested(t)
      encodeLinkInfo(w, a.linkInfo)
      w.endNested(off)
      return true
    }
    case IFLA_PROTINFO: {
      if (a.protinfo === undefined) return false
      const off = w.beginNested(t)
      encodeBridgePort(w, a.protinfo)
      w.endNested(off)
      return true
    }
    case IFLA_AF_SPEC: {
      if (a.afSpec === undefined && a.families === undefined) return false
      const off = w.beginNested(t)
      if (a.afSpec !== undefined) encodeBridgeAfSpec(w, a.afSpec); else encodeAttributeSet(w, a.families!, FAMILIES_CANONICAL, emitFamily)
      w.endNested(off)
      return true
    }
    default: return false
  }
}

/** Writes the IFLA_* attributes (no header, no ifinfomsg). */
export function encodeLinkAttributes (w: NetlinkWriter, a: LinkAttributes): void {
  encodeAttributeSet(w, a, LINK_CANONICAL, emitLink)
}

/** Writes struct ifinfomsg and the attributes (not the nlmsghdr: see NetlinkWriter.beginMessage). */
export function encodeLinkMessage (w: NetlinkWriter, m: LinkMessage): void {
  const off = w.reserve(IFINFOMSG_LEN)
  w.setU8(off, m.family)
  w.setU16(off + 2, m.type)
  w.setS32(off + 4, m.index)
  w.setU32(off + 8, m.flags)
  w.setU32(off + 12, m.change)
  encodeLinkAttributes(w, m.attributes)
}

const FAMILIES_CANONICAL = [AF_INET, AF_INET6] as const
const INET_CANONICAL = [IFLA_INET_CONF] as const
const INET6_CANONICAL = [IFLA_INET6_ADDR_GEN_MODE] as const

function emitFamily (w: NetlinkWriter, f: LinkFamilySettings, t: number): boolean {
  const type = t & 0x3fff
  if (type === AF_INET && f.inet !== undefined) {
    const off = w.beginNested(t)
    encodeAttributeSet(w, f.inet, INET_CANONICAL, emitInet)
    w.endNested(off)
    return true
  }
  if (type === AF_INET6 && f.inet6 !== undefined) {
    const off = w.beginNested(t)
    encodeAttributeSet(w, f.inet6, INET6_CANONICAL, emitInet6)
    w.endNested(off)
    return true
  }
  return false
}

function emitInet (w: NetlinkWriter, s: InetLinkSettings, t: number): boolean {
  if ((t & 0x3fff) !== IFLA_INET_CONF) return false
  if (s.setConf !== undefined) {
    const off = w.beginNested(t)
    for (const [id, value] of Object.entries(s.setConf)) w.u32(Number(id), value)
    w.endNested(off)
    return true
  }
  if (s.conf === undefined) return false
  const b = Buffer.alloc(s.conf.length * 4)
  s.conf.forEach((v, i) => { b.writeUInt32LE(v >>> 0, i * 4) })
  w.attr(t, b)
  return true
}

function emitInet6 (w: NetlinkWriter, s: Inet6LinkSettings, t: number): boolean {
  if ((t & 0x3fff) !== IFLA_INET6_ADDR_GEN_MODE || s.addrGenMode === undefined) return false
  w.u8(t, s.addrGenMode)
  return true
}

// Kinds go without their NUL, as iproute2 sends them (the kernel accepts both).
const INFO_CANONICAL = [IFLA_INFO_KIND | STRING_UNTERMINATED, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND | STRING_UNTERMINATED, IFLA_INFO_SLAVE_DATA] as const

function emitInfo (w: NetlinkWriter, li: LinkInfo, t: number): boolean {
  switch (t & 0x3fff) {
    case IFLA_INFO_KIND: if (li.kind === undefined) return false; writeString(w, t, li.kind); return true
    case IFLA_INFO_DATA: {
      if (li.data === undefined) return false
      const driver = li.kind !== undefined ? linkKindDriver(li.kind) : undefined
      if (driver === undefined) throw new TypeError(`IFLA_INFO_DATA for link kind ${JSON.stringify(li.kind)}: no driver for this kind (kinds/registry.ts); pass its data as a raw attribute in linkInfo.unknown`)
      const off = w.beginNested(t)
      driver.encode(w, li.data)
      w.endNested(off)
      return true
    }
    case IFLA_INFO_SLAVE_KIND: if (li.slaveKind === undefined) return false; writeString(w, t, li.slaveKind); return true
    case IFLA_INFO_SLAVE_DATA: {
      if (li.slaveData === undefined) return false
      if (li.slaveKind !== 'bridge') throw new TypeError(`IFLA_INFO_SLAVE_DATA is only encoded for slave kind "bridge", not ${JSON.stringify(li.slaveKind)}`)
      const off = w.beginNested(t)
      encodeBridgePort(w, li.slaveData)
      w.endNested(off)
      return true
    }
    default: return false
  }
}

/** Writes IFLA_INFO_* (the caller opens IFLA_LINKINFO). */
export function encodeLinkInfo (w: NetlinkWriter, li: LinkInfo): void {
  encodeAttributeSet(w, li, INFO_CANONICAL, emitInfo)
}

/** Writes IFLA_BRIDGE_* (the caller opens IFLA_AF_SPEC). VLAN entries repeat, so no generic set encoder here. */
export function encodeBridgeAfSpec (w: NetlinkWriter, s: BridgeAfSpec): void {
  const vlans = s.vlans ?? []
  const unknown = s.unknown ?? []
  if (s.order === undefined) {
    if (s.flags !== undefined) w.u16(IFLA_BRIDGE_FLAGS, s.flags)
    if (s.mode !== undefined) w.u16(IFLA_BRIDGE_MODE, s.mode)
    for (const v of vlans) vlanInfo(w, IFLA_BRIDGE_VLAN_INFO, v)
    for (const a of unknown) w.raw(a)
    return
  }
  let vi = 0; let ui = 0
  let flagsDone = false; let modeDone = false
  for (const t of s.order) {
    const type = t & 0x3fff
    if (type === IFLA_BRIDGE_FLAGS && s.flags !== undefined) { w.u16(t, s.flags); flagsDone = true } else if (type === IFLA_BRIDGE_MODE && s.mode !== undefined) { w.u16(t, s.mode); modeDone = true } else if (type === IFLA_BRIDGE_VLAN_INFO && vi < vlans.length) vlanInfo(w, t, vlans[vi++]!)
    else if (ui < unknown.length && unknown[ui]!.type === t) w.raw(unknown[ui++]!)
  }
  if (!flagsDone && s.flags !== undefined) w.u16(IFLA_BRIDGE_FLAGS, s.flags)
  if (!modeDone && s.mode !== undefined) w.u16(IFLA_BRIDGE_MODE, s.mode)
  for (; vi < vlans.length; vi++) vlanInfo(w, IFLA_BRIDGE_VLAN_INFO, vlans[vi]!)
  for (; ui < unknown.length; ui++) w.raw(unknown[ui]!)
}

function vlanInfo (w: NetlinkWriter, type: number, v: BridgeVlanInfo): void {
  const b = new Uint8Array(4)
  b[0] = v.flags & 0xff; b[1] = (v.flags >> 8) & 0xff
  b[2] = v.vid & 0xff; b[3] = v.vid >> 8
  w.attr(type, b)
}

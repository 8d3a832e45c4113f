// The link message codec: struct ifinfomsg and the IFLA_* attributes of
// RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK / RTM_SETLINK (linux/rtnetlink.h,
// linux/if_link.h, linux/if_bridge.h). No socket here: the service in
// links.ts builds requests with these functions.
import { AttributeReader, NLA_F_NESTED, readU32, type NetlinkWriter } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { AF_BRIDGE, AF_INET, AF_INET6 } from './rtnetlink.js'
import {
  type AttributeSet, type Codec, FieldTable, STRING_UNTERMINATED, decodeAttributeSet, encodeAttributeSet, mac, nested, s32, string,
  u16, u32, u8, when
} from './attribute-set.js'
import { type LinkContext, type LinkKindDriver, kindDriver } from './kinds/driver.js'
import { linkKindDriver, registerLinkKind } from './kinds/registry.js'
import { BRIDGE_PORT_FIELDS, type BridgePortAttributes } from './kinds/bridge-port.js'
import type { BridgeData } from './kinds/bridge.js'
import { VETH_INFO_PEER, type VethData } from './kinds/veth.js'
import type { VlanData } from './kinds/vlan.js'
import type { MacvlanData } from './kinds/macvlan.js'
import type { VxlanData } from './kinds/vxlan.js'
import { MessageHeader } from './header.js'

/** sizeof(struct ifinfomsg) */
export const IFINFOMSG_LEN = 16

/** struct ifinfomsg, once: LinkMessage's header fields. */
const IFINFOMSG = new MessageHeader<Omit<LinkMessage, 'attributes'>>('ifinfomsg', IFINFOMSG_LEN, [
  ['family', 0, 'u8'], ['type', 2, 'u16'], ['index', 4, 's32'], ['flags', 8, 'u32'], ['change', 12, 'u32']
])

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
  /** IFLA_LINK: ifindex of the parent/peer (in linkNetnsId's namespace when that is set) */
  link?: number
  qdisc?: string
  /** Request only: move or create the link in the namespace of this fd */
  netNsFd?: number
  /** Request only: … of this process */
  netNsPid?: number
  /** IFLA_TARGET_NETNSID (= IFLA_IF_NETNSID) */
  targetNetnsId?: number
  /** The namespace (by nsid) where IFLA_LINK's index lives, e.g. a veth peer elsewhere (s32) */
  linkNetnsId?: number
  newNetnsId?: number
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
  const h = IFINFOMSG.read(buf, start, end)
  return Object.assign(h, { attributes: decodeLinkAttributes(buf, start + IFINFOMSG_LEN, end, h.family, options?.keepOrder === true) })
}

// ---- the field tables ----

/** IFLA_PROP_LIST holds IFLA_ALT_IFNAME strings; anything else → undefined (kept raw). */
const propList: Codec<string[]> = {
  read: outer => {
    const names: string[] = []
    const r = outer.nestedReader()
    while (r.next()) {
      if (r.type !== IFLA_ALT_IFNAME) return undefined
      names.push(r.string())
    }
    return names
  },
  write: (w, t, names) => {
    const off = w.beginNested(t)
    for (const n of names) w.string(IFLA_ALT_IFNAME, n)
    w.endNested(off)
    return true
  }
}

/** IFLA_INFO_DATA, by the kind's driver (kinds/registry.ts); the kernel sends KIND before DATA. */
const kindData: Codec<LinkKindData, LinkContext, LinkInfo> = {
  read: (r, ctx, li) => li.kind !== undefined ? linkKindDriver(li.kind)?.decode(r.nestedReader(), ctx.keepOrder) : undefined,
  write: (w, t, data, _ctx, li) => {
    const driver = li.kind !== undefined ? linkKindDriver(li.kind) : undefined
    if (driver === undefined) throw new TypeError(`IFLA_INFO_DATA for link kind ${JSON.stringify(li.kind)}: no driver for this kind (kinds/registry.ts); pass its data as a raw attribute in linkInfo.unknown`)
    const off = w.beginNested(t)
    driver.encode(w, data)
    w.endNested(off)
    return true
  }
}

const bridgePort = nested(BRIDGE_PORT_FIELDS)

/** IFLA_INFO_SLAVE_DATA: IFLA_BRPORT_* of a bridge's port (other masters' data stays raw). */
const slaveData: Codec<BridgePortAttributes, LinkContext, LinkInfo> = {
  read: (r, ctx, li) => li.slaveKind === 'bridge' ? bridgePort.read(r, ctx, li) : undefined,
  write: (w, t, v, ctx, li) => {
    if (li.slaveKind !== 'bridge') throw new TypeError(`IFLA_INFO_SLAVE_DATA is only encoded for slave kind "bridge", not ${JSON.stringify(li.slaveKind)}`)
    return bridgePort.write(w, t, v, ctx, li)
  }
}

// Kinds go without their NUL, as iproute2 sends them (the kernel accepts both).
const INFO_FIELDS = new FieldTable<LinkInfo, LinkContext>([
  { type: IFLA_INFO_KIND | STRING_UNTERMINATED, key: 'kind', codec: string },
  { type: IFLA_INFO_DATA, key: 'data', codec: kindData },
  { type: IFLA_INFO_SLAVE_KIND | STRING_UNTERMINATED, key: 'slaveKind', codec: string },
  { type: IFLA_INFO_SLAVE_DATA, key: 'slaveData', codec: slaveData }
])

/** struct bridge_vlan_info */
const vlanInfo: Codec<BridgeVlanInfo> = {
  read: r => {
    if (r.length < 4) throw new NetlinkDecodeError(`IFLA_BRIDGE_VLAN_INFO has ${r.length} bytes, needs 4`, r.offset)
    const b = r.buf; const o = r.offset
    return { flags: b[o]! | (b[o + 1]! << 8), vid: b[o + 2]! | (b[o + 3]! << 8) }
  },
  write: (w, t, v) => { w.attr(t, Uint8Array.of(v.flags & 0xff, (v.flags >> 8) & 0xff, v.vid & 0xff, v.vid >> 8)); return true }
}

const BRIDGE_AF_SPEC_FIELDS = new FieldTable<BridgeAfSpec, LinkContext>([
  { type: IFLA_BRIDGE_FLAGS, key: 'flags', codec: u16 },
  { type: IFLA_BRIDGE_MODE, key: 'mode', codec: u16 },
  { type: IFLA_BRIDGE_VLAN_INFO, key: 'vlans', codec: vlanInfo, repeated: true }
])

/** IFLA_INET_CONF of a request: nested u32s by IPV4_DEVCONF_* id (never decoded: the kernel reports the array). */
const setConf: Codec<Record<number, number>> = {
  read: () => undefined,
  write: (w, t, conf) => {
    const off = w.beginNested(t)
    for (const [id, value] of Object.entries(conf)) w.u32(Number(id), value)
    w.endNested(off)
    return true
  }
}

/** IFLA_INET_CONF as the kernel reports it: a u32 array (another length, or a second one, stays raw). */
const confArray: Codec<number[], LinkContext, InetLinkSettings> = {
  read: (r, _ctx, s) => {
    if (s.conf !== undefined || r.length % 4 !== 0) return undefined
    const conf: number[] = []
    for (let o = r.offset; o < r.offset + r.length; o += 4) conf.push(readU32(r.buf, o))
    return conf
  },
  write: (w, t, conf) => {
    const b = Buffer.alloc(conf.length * 4)
    conf.forEach((v, i) => { b.writeUInt32LE(v >>> 0, i * 4) })
    w.attr(t, b)
    return true
  }
}

// setConf, when present, is written instead of conf.
const INET_FIELDS = new FieldTable<InetLinkSettings, LinkContext>([
  { type: IFLA_INET_CONF, key: 'setConf', codec: setConf },
  { type: IFLA_INET_CONF, key: 'conf', codec: confArray }
])

const INET6_FIELDS = new FieldTable<Inet6LinkSettings, LinkContext>([
  { type: IFLA_INET6_ADDR_GEN_MODE, key: 'addrGenMode', codec: { ...u8, read: r => r.length === 1 ? r.u8() : undefined } }
])

// One nested set per address family; a second one of a family stays raw.
const FAMILY_FIELDS = new FieldTable<LinkFamilySettings, LinkContext>([
  { type: AF_INET, key: 'inet', codec: when((_ctx, f) => f.inet === undefined, nested(INET_FIELDS)) },
  { type: AF_INET6, key: 'inet6', codec: when((_ctx, f) => f.inet6 === undefined, nested(INET6_FIELDS)) }
])

const isBridge = (ctx: LinkContext): boolean => ctx.family === AF_BRIDGE

// Canonical attribute order: iproute2's, so our requests match its bytes.
// iproute2 writes what it parses (mtu, address…) first, then IFLA_LINK,
// IFLA_IFNAME and IFLA_LINKINFO; IFLA_EXT_MASK precedes IFLA_IFNAME in GETs.
// The read-only ones the kernel reports follow (from IFLA_QDISC), so decoded
// messages re-encode.
const LINK_FIELDS = new FieldTable<LinkAttributes, LinkContext>([
  { type: IFLA_MTU, key: 'mtu', codec: u32 },
  { type: IFLA_ADDRESS, key: 'address', codec: mac },
  { type: IFLA_BROADCAST, key: 'broadcast', codec: mac },
  { type: IFLA_TXQLEN, key: 'txqlen', codec: u32 },
  { type: IFLA_OPERSTATE, key: 'operstate', codec: u8 },
  { type: IFLA_LINKMODE, key: 'linkmode', codec: u8 },
  { type: IFLA_GROUP, key: 'group', codec: u32 },
  { type: IFLA_MASTER, key: 'master', codec: u32 },
  { type: IFLA_PROMISCUITY, key: 'promiscuity', codec: u32 },
  { type: IFLA_ALLMULTI, key: 'allmulti', codec: u32 },
  { type: IFLA_NUM_TX_QUEUES, key: 'numTxQueues', codec: u32 },
  { type: IFLA_NUM_RX_QUEUES, key: 'numRxQueues', codec: u32 },
  { type: IFLA_CARRIER, key: 'carrier', codec: u8 },
  { type: IFLA_PROTO_DOWN, key: 'protoDown', codec: u8 },
  { type: IFLA_GSO_MAX_SEGS, key: 'gsoMaxSegs', codec: u32 },
  { type: IFLA_GSO_MAX_SIZE, key: 'gsoMaxSize', codec: u32 },
  { type: IFLA_GRO_MAX_SIZE, key: 'groMaxSize', codec: u32 },
  { type: IFLA_TSO_MAX_SIZE, key: 'tsoMaxSize', codec: u32 },
  { type: IFLA_TSO_MAX_SEGS, key: 'tsoMaxSegs', codec: u32 },
  { type: IFLA_NET_NS_PID, key: 'netNsPid', codec: u32 },
  { type: IFLA_NET_NS_FD, key: 'netNsFd', codec: u32 },
  { type: IFLA_TARGET_NETNSID, key: 'targetNetnsId', codec: s32 },
  { type: IFLA_LINK_NETNSID, key: 'linkNetnsId', codec: s32 },
  { type: IFLA_NEW_NETNSID, key: 'newNetnsId', codec: s32 },
  { type: IFLA_EXT_MASK, key: 'extMask', codec: u32 },
  { type: IFLA_LINK, key: 'link', codec: u32 },
  { type: IFLA_IFNAME, key: 'ifname', codec: string },
  { type: IFLA_ALT_IFNAME, key: 'altIfname', codec: string },
  { type: IFLA_IFALIAS, key: 'ifalias', codec: string },
  { type: IFLA_PROP_LIST, key: 'altIfnames', codec: propList },
  { type: IFLA_LINKINFO, key: 'linkInfo', codec: nested(INFO_FIELDS) },
  // AF_BRIDGE messages only; AF_INET6 sends IFLA_INET6_* here (kept raw).
  { type: IFLA_PROTINFO | NLA_F_NESTED, key: 'protinfo', codec: when(isBridge, bridgePort) },
  { type: IFLA_AF_SPEC, key: 'afSpec', codec: when(isBridge, nested(BRIDGE_AF_SPEC_FIELDS)) },
  { type: IFLA_AF_SPEC, key: 'families', codec: nested(FAMILY_FIELDS) },
  { type: IFLA_QDISC, key: 'qdisc', codec: string },
  { type: IFLA_MIN_MTU, key: 'minMtu', codec: u32 },
  { type: IFLA_MAX_MTU, key: 'maxMtu', codec: u32 },
  { type: IFLA_CARRIER_CHANGES, key: 'carrierChanges', codec: u32 },
  { type: IFLA_CARRIER_UP_COUNT, key: 'carrierUpCount', codec: u32 },
  { type: IFLA_CARRIER_DOWN_COUNT, key: 'carrierDownCount', codec: u32 },
  { type: IFLA_PERM_ADDRESS, key: 'permAddress', codec: mac },
  { type: IFLA_PARENT_DEV_NAME, key: 'parentDevName', codec: string },
  { type: IFLA_PARENT_DEV_BUS_NAME, key: 'parentDevBusName', codec: string }
])

/** The "veth" kind: VETH_INFO_PEER is a whole ifinfomsg plus link attributes, so its driver lives with the link codec. */
export const vethKind: LinkKindDriver<VethData> = kindDriver('veth', new FieldTable<VethData, LinkContext>([{
  type: VETH_INFO_PEER,
  key: 'peer',
  codec: {
    read: (r, ctx) => decodeLinkMessage(r.buf, r.offset, r.offset + r.length, { keepOrder: ctx.keepOrder }),
    write: (w, t, peer) => {
      const off = w.beginNested(t)
      encodeLinkMessage(w, peer)
      w.endNested(off)
      return true
    }
  }
}]))
registerLinkKind(vethKind)

const ENCODING: LinkContext = { family: 0, keepOrder: false }

// ---- entry points ----

/** Decodes IFLA_* attributes; family decides how PROTINFO and AF_SPEC are read. */
export function decodeLinkAttributes (buf: Uint8Array, start: number, end: number, family: number, keepOrder = false): LinkAttributes {
  return decodeAttributeSet(new AttributeReader(buf, start, end), LINK_FIELDS, keepOrder, { family, keepOrder })
}

export function decodeLinkInfo (buf: Uint8Array, start: number, end: number, keepOrder = false): LinkInfo {
  return decodeAttributeSet(new AttributeReader(buf, start, end), INFO_FIELDS, keepOrder, { family: 0, keepOrder })
}

export function decodeBridgeAfSpec (buf: Uint8Array, start: number, end: number, keepOrder = false): BridgeAfSpec {
  return decodeAttributeSet(new AttributeReader(buf, start, end), BRIDGE_AF_SPEC_FIELDS, keepOrder, { family: AF_BRIDGE, keepOrder })
}

export function decodeLinkFamilies (buf: Uint8Array, start: number, end: number, keepOrder = false): LinkFamilySettings {
  return decodeAttributeSet(new AttributeReader(buf, start, end), FAMILY_FIELDS, keepOrder, { family: 0, keepOrder })
}

/** Writes the IFLA_* attributes (no header, no ifinfomsg). */
export function encodeLinkAttributes (w: NetlinkWriter, a: LinkAttributes): void {
  encodeAttributeSet(w, LINK_FIELDS, a, ENCODING)
}

/** Writes struct ifinfomsg and the attributes (not the nlmsghdr: see NetlinkWriter.beginMessage). */
export function encodeLinkMessage (w: NetlinkWriter, m: LinkMessage): void {
  IFINFOMSG.write(w, m)
  encodeLinkAttributes(w, m.attributes)
}

/** Writes IFLA_INFO_* (the caller opens IFLA_LINKINFO). */
export function encodeLinkInfo (w: NetlinkWriter, li: LinkInfo): void {
  encodeAttributeSet(w, INFO_FIELDS, li, ENCODING)
}

/** Writes IFLA_BRIDGE_* (the caller opens IFLA_AF_SPEC). */
export function encodeBridgeAfSpec (w: NetlinkWriter, s: BridgeAfSpec): void {
  encodeAttributeSet(w, BRIDGE_AF_SPEC_FIELDS, s, ENCODING)
}

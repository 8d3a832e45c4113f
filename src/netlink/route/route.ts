// RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE messages: struct rtmsg, the
// RTA_* attributes, RTA_METRICS (RTAX_*) and RTA_MULTIPATH (struct
// rtnexthop), from linux/rtnetlink.h. Two decoders:
//   - decodeRouteMessage: every attribute, unknown ones kept, re-encodable;
//   - decodeRoute: the fast path for dumps, straight into a Route (no
//     reader object, no per-attribute closure or slice).
// The friendly API is in routes.ts.
import { AttributeReader, NLA_F_NESTED, NLA_TYPE_MASK, NetlinkWriter, readU32, readU32 as u32At, type RawAttribute } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { formatMAC, parseIP, parseMAC } from '../addr.js'
import { AF_INET, AF_INET6, AF_MPLS } from './rtnetlink.js'
import { type Codec, FieldTable, be16, decodeSet, encodeSet, ip, raw, u16, u32, u32Struct, u8 } from './attribute-set.js'
import { type MessageCodec, MessageHeader, headerMessageCodec } from './header.js'

// rtm_type
export const RTN_UNSPEC = 0
export const RTN_UNICAST = 1
export const RTN_LOCAL = 2
export const RTN_BROADCAST = 3
export const RTN_ANYCAST = 4
export const RTN_MULTICAST = 5
export const RTN_BLACKHOLE = 6
export const RTN_UNREACHABLE = 7
export const RTN_PROHIBIT = 8
export const RTN_THROW = 9
export const RTN_NAT = 10
export const RTN_XRESOLVE = 11

// rtm_protocol
export const RTPROT_UNSPEC = 0
export const RTPROT_REDIRECT = 1
export const RTPROT_KERNEL = 2
export const RTPROT_BOOT = 3
export const RTPROT_STATIC = 4
export const RTPROT_GATED = 8
export const RTPROT_RA = 9
export const RTPROT_MRT = 10
export const RTPROT_ZEBRA = 11
export const RTPROT_BIRD = 12
export const RTPROT_DNROUTED = 13
export const RTPROT_XORP = 14
export const RTPROT_NTK = 15
export const RTPROT_DHCP = 16
export const RTPROT_MROUTED = 17
export const RTPROT_KEEPALIVED = 18
export const RTPROT_BABEL = 42
export const RTPROT_OPENR = 99
export const RTPROT_BGP = 186
export const RTPROT_ISIS = 187
export const RTPROT_OSPF = 188
export const RTPROT_RIP = 189
export const RTPROT_EIGRP = 192

// rtm_scope (also used by addresses)
export { RT_SCOPE_UNIVERSE, RT_SCOPE_SITE, RT_SCOPE_LINK, RT_SCOPE_HOST, RT_SCOPE_NOWHERE } from './address.js'

// rtm_flags
export const RTM_F_NOTIFY = 0x100
export const RTM_F_CLONED = 0x200
export const RTM_F_EQUALIZE = 0x400
export const RTM_F_PREFIX = 0x800
export const RTM_F_LOOKUP_TABLE = 0x1000
export const RTM_F_FIB_MATCH = 0x2000
export const RTM_F_OFFLOAD = 0x4000
export const RTM_F_TRAP = 0x8000
export const RTM_F_OFFLOAD_FAILED = 0x20000000

// Reserved table ids (enum rt_class_t)
export const RT_TABLE_UNSPEC = 0
export const RT_TABLE_COMPAT = 252
export const RT_TABLE_DEFAULT = 253
export const RT_TABLE_MAIN = 254
export const RT_TABLE_LOCAL = 255

// enum rtattr_type_t
export const RTA_UNSPEC = 0
export const RTA_DST = 1
export const RTA_SRC = 2
export const RTA_IIF = 3
export const RTA_OIF = 4
export const RTA_GATEWAY = 5
export const RTA_PRIORITY = 6
export const RTA_PREFSRC = 7
export const RTA_METRICS = 8
export const RTA_MULTIPATH = 9
export const RTA_PROTOINFO = 10
export const RTA_FLOW = 11
export const RTA_CACHEINFO = 12
export const RTA_SESSION = 13
export const RTA_MP_ALGO = 14
export const RTA_TABLE = 15
export const RTA_MARK = 16
export const RTA_MFC_STATS = 17
export const RTA_VIA = 18
export const RTA_NEWDST = 19
export const RTA_PREF = 20
export const RTA_ENCAP_TYPE = 21
export const RTA_ENCAP = 22
export const RTA_EXPIRES = 23
export const RTA_PAD = 24
export const RTA_UID = 25
export const RTA_TTL_PROPAGATE = 26
export const RTA_IP_PROTO = 27
export const RTA_SPORT = 28
export const RTA_DPORT = 29
export const RTA_NH_ID = 30

// RTA_METRICS members
export const RTAX_UNSPEC = 0
export const RTAX_LOCK = 1
export const RTAX_MTU = 2
export const RTAX_WINDOW = 3
export const RTAX_RTT = 4
export const RTAX_RTTVAR = 5
export const RTAX_SSTHRESH = 6
export const RTAX_CWND = 7
export const RTAX_ADVMSS = 8
export const RTAX_REORDERING = 9
export const RTAX_HOPLIMIT = 10
export const RTAX_INITCWND = 11
export const RTAX_FEATURES = 12
export const RTAX_RTO_MIN = 13
export const RTAX_INITRWND = 14
export const RTAX_QUICKACK = 15
export const RTAX_CC_ALGO = 16
export const RTAX_FASTOPEN_NO_COOKIE = 17

export const RTAX_FEATURE_ECN = 1 << 0
export const RTAX_FEATURE_SACK = 1 << 1
export const RTAX_FEATURE_TIMESTAMP = 1 << 2
export const RTAX_FEATURE_ALLFRAG = 1 << 3

// rtnh_flags
export const RTNH_F_DEAD = 1
export const RTNH_F_PERVASIVE = 2
export const RTNH_F_ONLINK = 4
export const RTNH_F_OFFLOAD = 8
export const RTNH_F_LINKDOWN = 16
export const RTNH_F_UNRESOLVED = 32
export const RTNH_F_TRAP = 64

// RTA_ENCAP_TYPE (enum lwtunnel_encap_types)
export const LWTUNNEL_ENCAP_NONE = 0
export const LWTUNNEL_ENCAP_MPLS = 1
export const LWTUNNEL_ENCAP_IP = 2
export const LWTUNNEL_ENCAP_ILA = 3
export const LWTUNNEL_ENCAP_IP6 = 4
export const LWTUNNEL_ENCAP_SEG6 = 5
export const LWTUNNEL_ENCAP_BPF = 6
export const LWTUNNEL_ENCAP_SEG6_LOCAL = 7
export const LWTUNNEL_ENCAP_RPL = 8
export const LWTUNNEL_ENCAP_IOAM6 = 9
export const LWTUNNEL_ENCAP_XFRM = 10

// RTA_ENCAP members for LWTUNNEL_ENCAP_MPLS (linux/mpls_iptunnel.h)
export const MPLS_IPTUNNEL_DST = 1
export const MPLS_IPTUNNEL_TTL = 2

// RTA_PREF (IPv6 router preference, RFC 4191)
export const ICMPV6_ROUTER_PREF_LOW = 0x3
export const ICMPV6_ROUTER_PREF_MEDIUM = 0x0
export const ICMPV6_ROUTER_PREF_HIGH = 0x1

export const RTMSG_SIZE = 12

/** struct rtmsg, once: RouteMessage's header fields. */
const RTMSG = new MessageHeader<Omit<RouteMessage, 'attributes' | 'attributeOrder'>>('rtmsg', RTMSG_SIZE, [
  ['family', 0, 'u8'], ['dstLength', 1, 'u8'], ['srcLength', 2, 'u8'], ['tos', 3, 'u8'], ['table', 4, 'u8'],
  ['protocol', 5, 'u8'], ['scope', 6, 'u8'], ['type', 7, 'u8'], ['flags', 8, 'u32']
])
export const RTNEXTHOP_SIZE = 8
export const RTA_CACHEINFO_SIZE = 32

/** RTA_METRICS by RTAX_* number: u32 values, RTAX_CC_ALGO a string. */
export type RouteMetricsByNumber = Record<number, number | string>

/** struct rta_cacheinfo. */
export interface RouteCacheInfo {
  clntref: number
  lastuse: number
  /** Signed: seconds (jiffies/HZ in clock ticks) until expiry, 0 for none. */
  expires: number
  error: number
  used: number
  id: number
  ts: number
  tsage: number
}

/**
 * RTA_VIA: struct rtvia, a gateway of another family: an IPv4 route via an
 * IPv6 router, an MPLS route via an IPv4/IPv6 router or a link-layer address
 * (AF_PACKET). `address` is IP text for AF_INET/AF_INET6, else the bytes as
 * colon-separated hex ("02:00:00:00:00:01"; "" for none).
 */
export interface RouteVia {
  family: number
  address: string
}

// ---- MPLS label stacks (RTA_DST of AF_MPLS routes, RTA_NEWDST) ----

/** The largest MPLS label (20 bits). */
export const MPLS_LABEL_MAX = 0xfffff

/**
 * A label stack as iproute2 writes it, "100" or "200/300", from struct
 * mpls_label entries (be32: label << 12 | tc << 9 | bos << 8 | ttl). Only
 * stacks the kernel itself sends and accepts are text: traffic class and TTL
 * 0, bottom-of-stack set on the last entry only. Anything else → undefined
 * (the codec keeps such an attribute raw, so it still re-encodes as it came).
 */
export function formatMplsLabels (b: Uint8Array, off: number, len: number): string | undefined {
  if (len === 0 || (len & 3) !== 0) return undefined
  let s = ''
  for (let p = off; p < off + len; p += 4) {
    const last = p + 4 === off + len
    if ((b[p + 2]! & 0x0e) !== 0 || b[p + 3] !== 0 || ((b[p + 2]! & 1) === 1) !== last) return undefined
    const label = (b[p]! << 12) | (b[p + 1]! << 4) | (b[p + 2]! >> 4)
    s += (p === off ? '' : '/') + String(label)
  }
  return s
}

/**
 * RTA_ENCAP (or NHA_ENCAP) for LWTUNNEL_ENCAP_MPLS (`encap mpls 200/300
 * [ttl N]`): the labels to push and an optional TTL, nested and marked
 * NLA_F_NESTED as iproute2 sends it.
 */
export function mplsEncapAttribute (labels: string, ttl?: number, attributeType = RTA_ENCAP): RawAttribute {
  const w = new NetlinkWriter(32)
  w.attr(MPLS_IPTUNNEL_DST, parseMplsLabels(labels, 'encap mpls'))
  if (ttl !== undefined) w.u8(MPLS_IPTUNNEL_TTL, ttl)
  return { type: attributeType | NLA_F_NESTED, data: Uint8Array.from(w.bytes()) }
}

/** "200/300" → the label stack's bytes (bottom of stack on the last); throws TypeError on bad text. */
export function parseMplsLabels (text: string, what = 'MPLS labels'): Uint8Array {
  const parts = text.split('/')
  const out = new Uint8Array(parts.length * 4)
  parts.forEach((p, i) => {
    if (!/^\d{1,7}$/.test(p) || Number(p) > MPLS_LABEL_MAX) throw new TypeError(`${what}: not a label stack of 20-bit labels: ${JSON.stringify(text)}`)
    const v = Number(p)
    out[i * 4] = v >> 12
    out[i * 4 + 1] = (v >> 4) & 0xff
    out[i * 4 + 2] = ((v & 0xf) << 4) | (i === parts.length - 1 ? 1 : 0)
  })
  return out
}

/** Attributes a nexthop of RTA_MULTIPATH carries after its struct rtnexthop. */
export interface NextHopAttributes {
  gateway?: string
  via?: RouteVia
  /** RTA_FLOW: realms, `from << 16 | to`. */
  flow?: number
  /** RTA_NEWDST: the MPLS label stack pushed, "200/300". */
  newdst?: string
  encapType?: number
  encap?: RawAttribute
  unknown?: RawAttribute[]
}

/** One struct rtnexthop of RTA_MULTIPATH. */
export interface NextHopMessage {
  flags: number
  /** rtnh_hops: the weight minus one. */
  hops: number
  ifindex: number
  attributes: NextHopAttributes
  attributeOrder?: number[]
}

export interface RouteAttributes {
  /** IP text; for AF_MPLS routes the incoming label, "100". */
  dst?: string
  src?: string
  iif?: number
  oif?: number
  gateway?: string
  priority?: number
  prefsrc?: string
  metrics?: RouteMetricsByNumber
  /** RTAX_* numbers (with any attribute flags) in the order RTA_METRICS carried them (for re-encoding). */
  metricsOrder?: number[]
  multipath?: NextHopMessage[]
  /** RTA_FLOW: realms, `from << 16 | to` (`ip route … realms FROM/TO`). */
  flow?: number
  cacheInfo?: RouteCacheInfo
  /** RTA_TABLE: the table id as u32 (ids above 255 exist only here). */
  table?: number
  mark?: number
  via?: RouteVia
  /** RTA_NEWDST: the MPLS label stack the route swaps in or pushes, "200/300". */
  newdst?: string
  pref?: number
  encapType?: number
  /** RTA_ENCAP kept whole (its members depend on encapType). */
  encap?: RawAttribute
  /** RTA_EXPIRES as u32 (IPv6 routes); the u64 of multicast routes stays in unknown. */
  expires?: number
  uid?: number
  ttlPropagate?: number
  ipProto?: number
  sport?: number
  dport?: number
  nhId?: number
  unknown?: RawAttribute[]
}

export interface RouteMessage {
  family: number
  dstLength: number
  srcLength: number
  tos: number
  /** rtm_table: the table id when < 256, else RT_TABLE_UNSPEC and RTA_TABLE holds it. */
  table: number
  protocol: number
  scope: number
  type: number
  flags: number
  attributes: RouteAttributes
  /** nla_type of every attribute (flags included) in the order decoded; the encoder replays it. */
  attributeOrder?: number[]
}

function addressBytes (text: string, name: string): Uint8Array {
  const b = parseIP(text)
  if (b === undefined) throw new TypeError(`${name}: not an IP address: ${JSON.stringify(text)}`)
  return b
}

function viaBytes (v: RouteVia): Uint8Array {
  if (v.family === AF_INET || v.family === AF_INET6) {
    const a = addressBytes(v.address, 'RTA_VIA')
    if (a.length !== (v.family === AF_INET ? 4 : 16)) throw new TypeError(`RTA_VIA: ${v.address} is not of family ${v.family}`)
    return a
  }
  if (v.address === '') return new Uint8Array(0)
  const a = parseMAC(v.address)
  if (a === undefined) throw new TypeError(`RTA_VIA of family ${v.family}: not colon-separated hex bytes: ${JSON.stringify(v.address)}`)
  return a
}

/** What the route codecs need of the message: its family (RTA_DST is a label in AF_MPLS routes). */
interface RouteContext { family: number }

/** RTA_DST/RTA_SRC: a label for AF_MPLS, an IPv4/IPv6 address otherwise; one that does not fit stays raw. */
function destination (name: string): Codec<string, RouteContext> {
  return {
    read: (r, ctx) => destinationText(ctx.family, r.buf, r.offset, r.length),
    write: (w, t, v, ctx) => { w.attr(t, ctx.family === AF_MPLS ? parseMplsLabels(v, name) : addressBytes(v, name)); return true }
  }
}

/** RTA_VIA: struct rtvia; an address that does not fit its family stays raw. */
const via: Codec<RouteVia> = {
  read: r => readVia(r.buf, r.offset, r.length),
  write: (w, t, v) => {
    const a = viaBytes(v)
    const b = Buffer.alloc(2 + a.length)
    b.writeUInt16LE(v.family, 0)
    b.set(a, 2)
    w.attr(t, b)
    return true
  }
}

/** RTA_NEWDST: an MPLS label stack, "200/300"; a stack that is not text stays raw. */
const newdst: Codec<string> = {
  read: r => formatMplsLabels(r.buf, r.offset, r.length),
  write: (w, t, v) => { w.attr(t, parseMplsLabels(v, 'RTA_NEWDST')); return true }
}

/** RTA_EXPIRES: a u32 (IPv6 routes); multicast routes' u64 stays raw, so it re-encodes as it came. */
const expires: Codec<number> = { read: r => r.length === 8 ? undefined : r.u32(), write: u32.write }

/** RTA_METRICS: RTAX_* by number, with the order they came in (metricsOrder). */
const metrics: Codec<RouteMetricsByNumber, RouteContext, RouteAttributes> = {
  read: (r, _ctx, a) => {
    const m: RouteMetricsByNumber = {}
    const order: number[] = []
    const n = r.nestedReader()
    while (n.next()) {
      order.push(n.rawType)
      m[n.type] = n.type === RTAX_CC_ALGO ? n.string() : n.u32()
    }
    a.metricsOrder = order
    return m
  },
  write: (w, t, m, _ctx, a) => {
    const nest = w.beginNested(t)
    const keys = Object.keys(m).map(Number)
    const listed = a.metricsOrder?.map(k => k & NLA_TYPE_MASK) ?? []
    const order = a.metricsOrder !== undefined ? [...a.metricsOrder.filter(k => (k & NLA_TYPE_MASK) in m), ...keys.filter(k => !listed.includes(k))] : keys
    for (const k of order) {
      const v = m[k & NLA_TYPE_MASK]!
      if (typeof v === 'string') w.string(k, v); else w.u32(k, v)
    }
    w.endNested(nest)
    return true
  }
}

const gateway = ip('RTA_GATEWAY')

// A nexthop of RTA_MULTIPATH, after its struct rtnexthop.
const NEXTHOP_FIELDS = new FieldTable<NextHopAttributes, RouteContext>([
  { type: RTA_ENCAP, key: 'encap', codec: raw },
  { type: RTA_ENCAP_TYPE, key: 'encapType', codec: u16 },
  { type: RTA_NEWDST, key: 'newdst', codec: newdst },
  { type: RTA_GATEWAY, key: 'gateway', codec: gateway },
  { type: RTA_VIA, key: 'via', codec: via },
  { type: RTA_FLOW, key: 'flow', codec: u32 }
])

/** RTA_MULTIPATH: an array of struct rtnexthop, each followed by its attributes. */
const multipath: Codec<NextHopMessage[], RouteContext> = {
  read: (r, ctx) => {
    const b = r.buf
    const end = r.offset + r.length
    const out: NextHopMessage[] = []
    let p = r.offset
    while (p < end) {
      if (end - p < RTNEXTHOP_SIZE) throw new NetlinkDecodeError(`${end - p} trailing bytes in RTA_MULTIPATH, too short for struct rtnexthop`, p)
      const len = b[p]! | (b[p + 1]! << 8)
      if (len < RTNEXTHOP_SIZE || len > end - p) throw new NetlinkDecodeError(`rtnh_len ${len} is out of range (${end - p} bytes left)`, p)
      const order: number[] = []
      const attributes = decodeSet(new AttributeReader(b, p + RTNEXTHOP_SIZE, p + len), NEXTHOP_FIELDS, {}, order, ctx)
      out.push({ flags: b[p + 2]!, hops: b[p + 3]!, ifindex: readU32(b, p + 4) | 0, attributes, attributeOrder: order })
      p += (len + 3) & ~3
    }
    return out
  },
  write: (w, t, hops, ctx) => {
    const nest = w.beginNested(t)
    for (const nh of hops) {
      const off = w.reserve(RTNEXTHOP_SIZE)
      w.setU8(off + 2, nh.flags)
      w.setU8(off + 3, nh.hops)
      w.setS32(off + 4, nh.ifindex)
      encodeSet(w, NEXTHOP_FIELDS, nh.attributes, nh.attributeOrder, ctx)
      w.setU16(off, w.length - off)
    }
    w.endNested(nest)
    return true
  }
}

// The order iproute2 sends for `ip route add DST from SRC src PREFSRC via GW
// metric N table T dev X mtu M nexthop …` (dev, metrics and nexthops last).
// MPLS routes: `ip -f mpls route add LABEL as LABELS via FAMILY ADDR dev X`; encapsulation:
// `ip route add DST encap mpls LABELS via GW dev X` (iproute2 writes RTA_ENCAP, then RTA_ENCAP_TYPE).
const FIELDS = new FieldTable<RouteAttributes, RouteContext>([
  { type: RTA_DST, key: 'dst', codec: destination('RTA_DST') },
  { type: RTA_ENCAP, key: 'encap', codec: raw },
  { type: RTA_ENCAP_TYPE, key: 'encapType', codec: u16 },
  { type: RTA_SRC, key: 'src', codec: destination('RTA_SRC') },
  { type: RTA_PREFSRC, key: 'prefsrc', codec: ip('RTA_PREFSRC') },
  { type: RTA_NEWDST, key: 'newdst', codec: newdst },
  { type: RTA_GATEWAY, key: 'gateway', codec: gateway },
  { type: RTA_VIA, key: 'via', codec: via },
  { type: RTA_PRIORITY, key: 'priority', codec: u32 },
  { type: RTA_TABLE, key: 'table', codec: u32 },
  { type: RTA_PREF, key: 'pref', codec: u8 },
  { type: RTA_EXPIRES, key: 'expires', codec: expires },
  { type: RTA_MARK, key: 'mark', codec: u32 },
  { type: RTA_UID, key: 'uid', codec: u32 },
  { type: RTA_FLOW, key: 'flow', codec: u32 },
  { type: RTA_NH_ID, key: 'nhId', codec: u32 },
  { type: RTA_TTL_PROPAGATE, key: 'ttlPropagate', codec: u8 },
  { type: RTA_IP_PROTO, key: 'ipProto', codec: u8 },
  { type: RTA_SPORT, key: 'sport', codec: be16 },
  { type: RTA_DPORT, key: 'dport', codec: be16 },
  { type: RTA_IIF, key: 'iif', codec: u32 },
  { type: RTA_OIF, key: 'oif', codec: u32 },
  {
    type: RTA_CACHEINFO,
    key: 'cacheInfo',
    codec: u32Struct('RTA_CACHEINFO', 'rta_cacheinfo', ['clntref', 'lastuse', 'expires', 'error', 'used', 'id', 'ts', 'tsage'], ['expires'], true)
  },
  { type: RTA_METRICS, key: 'metrics', codec: metrics },
  { type: RTA_MULTIPATH, key: 'multipath', codec: multipath }
])

/**
 * encodeRouteMessage(w, m) writes struct rtmsg and the attributes (not the nlmsghdr);
 * decodeRouteMessage(buf, start, end) reads them back from the payload after the nlmsghdr.
 */
export const { encode: encodeRouteMessage, decode: decodeRouteMessage }: MessageCodec<RouteMessage> = headerMessageCodec(RTMSG, FIELDS, h => ({ family: h.family }))

// ---- decoding helpers (shared by both decoders) ----

// u32At: readU32 (attributes.ts), imported under the name the fast path uses.

function need (len: number, want: number, name: string, off: number): void {
  if (len !== want) throw new NetlinkDecodeError(`${name} holds ${len} bytes, expected ${want}`, off)
}

/** rtvia's address by its family: IP text for AF_INET/AF_INET6 (undefined when the length does not fit), else hex bytes. */
function viaText (family: number, b: Uint8Array, off: number, len: number): string | undefined {
  if (family === AF_INET) return len === 4 ? fastIPv4(b, off) : undefined
  if (family === AF_INET6) return len === 16 ? fastIPv6(b, off) : undefined
  return formatMAC(b, off, len)
}

/** RTA_VIA, or undefined when its address does not fit its family (the attribute is then kept raw). */
function readVia (b: Uint8Array, off: number, len: number): RouteVia | undefined {
  if (len < 2) throw new NetlinkDecodeError(`RTA_VIA holds ${len} bytes, struct rtvia needs at least 2`, off)
  const family = b[off]! | (b[off + 1]! << 8)
  const address = viaText(family, b, off + 2, len - 2)
  return address === undefined ? undefined : { family, address }
}

/** RTA_DST/RTA_SRC of the full decoder: a label for AF_MPLS, an IPv4/IPv6 address otherwise; undefined → kept raw. */
function destinationText (family: number, b: Uint8Array, off: number, len: number): string | undefined {
  if (family === AF_MPLS) return formatMplsLabels(b, off, len)
  return len === 4 ? fastIPv4(b, off) : len === 16 ? fastIPv6(b, off) : undefined
}

function readU64AsNumber (b: Uint8Array, o: number): number {
  return u32At(b, o) + u32At(b, o + 4) * 0x100000000
}

/** The route's table: RTA_TABLE when present, else rtm_table. */
export function routeTable (m: RouteMessage): number {
  return m.attributes.table ?? m.table
}

// ---- the fast path ----

/** RTA_METRICS as named fields (the RTAX_* values this library knows). */
export interface RouteMetrics {
  lock: number | undefined
  mtu: number | undefined
  window: number | undefined
  rtt: number | undefined
  rttvar: number | undefined
  ssthresh: number | undefined
  cwnd: number | undefined
  advmss: number | undefined
  reordering: number | undefined
  hoplimit: number | undefined
  initcwnd: number | undefined
  features: number | undefined
  rtoMin: number | undefined
  initrwnd: number | undefined
  quickack: number | undefined
  ccAlgo: string | undefined
  fastopenNoCookie: number | undefined
}

/** A nexthop of a multipath route. */
export interface RouteNextHop {
  gateway: string | undefined
  oif: number
  /** rtnh_hops + 1. */
  weight: number
  /** RTNH_F_*. */
  flags: number
  /** RTA_FLOW: realms, `from << 16 | to`. */
  flow: number | undefined
  /** RTA_NEWDST: MPLS labels pushed, "200/300". */
  newdst: string | undefined
}

/**
 * A route. family, dst, tos, table, protocol, scope, type, flags, gateway
 * and oif are own properties of every route, in that order; every other
 * field is an own property only of the routes that carry it, set in one
 * order (routes that carry the same fields share one hidden class), and
 * reads undefined on the rest. Object.keys and JSON.stringify show what the
 * kernel sent.
 */
export interface Route {
  family: number
  /** Destination in CIDR form: "10.0.0.0/8", "0.0.0.0/0", "::/0"; for AF_MPLS routes the incoming label, "100". */
  dst: string
  /** Source prefix (RTA_SRC, source-specific IPv6 routes), CIDR; undefined when rtm_src_len is 0. */
  src: string | undefined
  tos: number
  /** RTA_TABLE when present, else rtm_table. */
  table: number
  protocol: number
  scope: number
  type: number
  /** rtm_flags (RTM_F_*). */
  flags: number
  gateway: string | undefined
  /** RTA_VIA gateway address (another family's): IP text, or hex bytes for AF_PACKET (a MAC). */
  via: string | undefined
  /** RTA_NEWDST: the MPLS label stack swapped in or pushed, "200/300". */
  newdst: string | undefined
  oif: number | undefined
  iif: number | undefined
  priority: number | undefined
  prefsrc: string | undefined
  /** RTA_PREF (IPv6). */
  pref: number | undefined
  /** RTA_NH_ID: the nexthop object the route uses. */
  nhId: number | undefined
  /** RTA_EXPIRES, or the expiry of RTA_CACHEINFO when non-zero (clock ticks). */
  expires: number | undefined
  mark: number | undefined
  /** RTA_FLOW: realms, `from << 16 | to` (`ip route … realms FROM/TO`). */
  flow: number | undefined
  metrics: RouteMetrics | undefined
  multipath: RouteNextHop[] | undefined
}

// Address text for the fast path, built byte by byte in a scratch buffer and
// read back as one flat string: a chain of `+` makes a rope of several heap
// objects per address, and a large dump keeps every one of them alive
// (measured: 2-3x fewer routes/s, most of it in the garbage collector).
const scratch = Buffer.allocUnsafe(64)
type Latin1Slice = (this: Buffer, start: number, end: number) => string
const latin1Slice: Latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice ??
  function (this: Buffer, start: number, end: number): string { return this.toString('latin1', start, end) }
const HEX_DIGIT = Uint8Array.from('0123456789abcdef', c => c.charCodeAt(0))
const groups = new Uint16Array(8)

function putDecimal (p: number, x: number): number {
  if (x >= 100) {
    scratch[p++] = 48 + ((x / 100) | 0); x %= 100
    scratch[p++] = 48 + ((x / 10) | 0); x %= 10
  } else if (x >= 10) {
    scratch[p++] = 48 + ((x / 10) | 0); x %= 10
  }
  scratch[p++] = 48 + x
  return p
}

function putHex (p: number, x: number): number {
  if (x >= 0x1000) scratch[p++] = HEX_DIGIT[x >> 12]!
  if (x >= 0x100) scratch[p++] = HEX_DIGIT[(x >> 8) & 15]!
  if (x >= 0x10) scratch[p++] = HEX_DIGIT[(x >> 4) & 15]!
  scratch[p++] = HEX_DIGIT[x & 15]!
  return p
}

function putIPv4 (b: Uint8Array, o: number, p: number): number {
  p = putDecimal(p, b[o]!); scratch[p++] = 46
  p = putDecimal(p, b[o + 1]!); scratch[p++] = 46
  p = putDecimal(p, b[o + 2]!); scratch[p++] = 46
  return putDecimal(p, b[o + 3]!)
}

/** RFC 5952, as addr.ts's formatIPv6: lowercase, the first longest run (>= 2) of zero groups as "::", v4-mapped as ::ffff:a.b.c.d. */
function putIPv6 (b: Uint8Array, o: number, p: number): number {
  for (let i = 0; i < 8; i++) groups[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    for (let i = 0; i < 7; i++) scratch[p++] = MAPPED_PREFIX[i]!
    return putIPv4(b, o + 12, p)
  }
  let bestStart = -1; let bestLen = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i + 1
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      scratch[p++] = 58; scratch[p++] = 58
      i += bestLen - 1
      continue
    }
    if (i !== 0 && i !== bestStart + bestLen) scratch[p++] = 58
    p = putHex(p, groups[i]!)
  }
  return p
}
const MAPPED_PREFIX = Uint8Array.from('::ffff:', c => c.charCodeAt(0))

// The scratch bytes [0, n) as a string. String.fromCharCode with a fixed
// argument count is a JS builtin; Buffer's latin1Slice crosses into C++,
// which costs more than the formatting (measured: ~5 ms per 100,000 routes).
// Addresses in text are 7 ("0.0.0.0") to 43 characters; the common ones fit
// the cases below, longer ones take the slice.
const fc = String.fromCharCode
function scratchText (n: number): string {
  const s = scratch
  switch (n) {
    case 7: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!)
    case 8: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!)
    case 9: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!)
    case 10: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!)
    case 11: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!)
    case 12: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!)
    case 13: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!)
    case 14: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!)
    case 15: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!)
    case 16: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!)
    case 17: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!)
    case 18: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!, s[17]!)
    case 19: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!, s[17]!, s[18]!)
    case 20: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!, s[17]!, s[18]!, s[19]!)
    case 21: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!, s[17]!, s[18]!, s[19]!, s[20]!)
    case 22: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!, s[17]!, s[18]!, s[19]!, s[20]!, s[21]!)
    case 23: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!, s[17]!, s[18]!, s[19]!, s[20]!, s[21]!, s[22]!)
    case 24: return fc(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!, s[10]!, s[11]!, s[12]!, s[13]!, s[14]!, s[15]!, s[16]!, s[17]!, s[18]!, s[19]!, s[20]!, s[21]!, s[22]!, s[23]!)
  }
  return latin1Slice.call(scratch, 0, n)
}

function fastIPv4 (b: Uint8Array, o: number): string { return scratchText(putIPv4(b, o, 0)) }
function fastIPv6 (b: Uint8Array, o: number): string { return scratchText(putIPv6(b, o, 0)) }

// Gateways and preferred sources repeat across a table: IPv4 ones are
// formatted once (keyed by their 32 bits; the previous one is checked
// before the map, most routes share the previous route's gateway), IPv6
// ones when they differ from the previous route's.
const V4_TEXT = new Map<number, string>()
let lastV4Key = 0
let lastV4Text = '0.0.0.0'
function cachedIPv4 (b: Uint8Array, o: number): string {
  const key = b[o]! << 24 | b[o + 1]! << 16 | b[o + 2]! << 8 | b[o + 3]! // signed: a small integer for every address
  if (key === lastV4Key) return lastV4Text
  let s = V4_TEXT.get(key)
  if (s === undefined) {
    if (V4_TEXT.size >= 4096) V4_TEXT.clear()
    s = fastIPv4(b, o)
    V4_TEXT.set(key, s)
  }
  lastV4Key = key
  lastV4Text = s
  return s
}

const lastV6Bytes = new Uint8Array(16)
let lastV6Text = '::'
function cachedIPv6 (b: Uint8Array, o: number): string {
  let same = true
  for (let i = 0; i < 16; i++) if (b[o + i] !== lastV6Bytes[i]) { same = false; break }
  if (same) return lastV6Text
  for (let i = 0; i < 16; i++) lastV6Bytes[i] = b[o + i]!
  lastV6Text = fastIPv6(b, o)
  return lastV6Text
}

const ZERO4 = '0.0.0.0'
const ZERO6 = '::'
// "/0" … "/128", built once.
const SLASH: string[] = Array.from({ length: 129 }, (_, i) => '/' + String(i))

function prefixText (b: Uint8Array, off: number, len: number, family: number, prefix: number, name: string): string {
  if (family === AF_MPLS) {
    const labels = formatMplsLabels(b, off, len)
    if (labels !== undefined) return labels
  } else if (len === 4 || len === 16) {
    let p = len === 4 ? putIPv4(b, off, 0) : putIPv6(b, off, 0)
    scratch[p++] = 47
    p = putDecimal(p, prefix)
    return scratchText(p)
  }
  if (family === AF_INET || family === AF_INET6) throw new NetlinkDecodeError(`${name} holds ${len} bytes, not an IPv4 or IPv6 address`, off)
  return formatMAC(b, off, len) + '/' + String(prefix)
}

function zeroPrefix (family: number, prefix: number): string {
  return (family === AF_INET6 ? ZERO6 : ZERO4) + (prefix <= 128 ? SLASH[prefix]! : '/' + String(prefix))
}

function decodeMetricsFast (b: Uint8Array, start: number, end: number): RouteMetrics {
  const m: RouteMetrics = {
    lock: undefined, mtu: undefined, window: undefined, rtt: undefined, rttvar: undefined, ssthresh: undefined, cwnd: undefined,
    advmss: undefined, reordering: undefined, hoplimit: undefined, initcwnd: undefined, features: undefined, rtoMin: undefined,
    initrwnd: undefined, quickack: undefined, ccAlgo: undefined, fastopenNoCookie: undefined
  }
  let p = start
  while (p < end) {
    if (end - p < 4) throw new NetlinkDecodeError(`${end - p} trailing bytes in RTA_METRICS, too short for an attribute header`, p)
    const len = b[p]! | (b[p + 1]! << 8)
    if (len < 4 || len > end - p) throw new NetlinkDecodeError(`metric attribute length ${len} is out of range (${end - p} bytes left)`, p)
    const type = (b[p + 2]! | (b[p + 3]! << 8)) & NLA_TYPE_MASK
    const o = p + 4
    if (type === RTAX_CC_ALGO) {
      let e = o
      while (e < p + len && b[e] !== 0) e++
      let s = ''
      for (let i = o; i < e; i++) s += String.fromCharCode(b[i]!)
      m.ccAlgo = s
    } else if (type <= RTAX_FASTOPEN_NO_COOKIE && type !== RTAX_UNSPEC) {
      if (len - 4 < 4) throw new NetlinkDecodeError(`metric ${type} holds ${len - 4} bytes, u32 needs 4`, o)
      const v = u32At(b, o)
      switch (type) {
        case RTAX_LOCK: m.lock = v; break
        case RTAX_MTU: m.mtu = v; break
        case RTAX_WINDOW: m.window = v; break
        case RTAX_RTT: m.rtt = v; break
        case RTAX_RTTVAR: m.rttvar = v; break
        case RTAX_SSTHRESH: m.ssthresh = v; break
        case RTAX_CWND: m.cwnd = v; break
        case RTAX_ADVMSS: m.advmss = v; break
        case RTAX_REORDERING: m.reordering = v; break
        case RTAX_HOPLIMIT: m.hoplimit = v; break
        case RTAX_INITCWND: m.initcwnd = v; break
        case RTAX_FEATURES: m.features = v; break
        case RTAX_RTO_MIN: m.rtoMin = v; break
        case RTAX_INITRWND: m.initrwnd = v; break
        case RTAX_QUICKACK: m.quickack = v; break
        case RTAX_FASTOPEN_NO_COOKIE: m.fastopenNoCookie = v; break
      }
    }
    p += (len + 3) & ~3
  }
  return m
}

function decodeMultipathFast (b: Uint8Array, start: number, end: number): RouteNextHop[] {
  const out: RouteNextHop[] = []
  let p = start
  while (p < end) {
    if (end - p < RTNEXTHOP_SIZE) throw new NetlinkDecodeError(`${end - p} trailing bytes in RTA_MULTIPATH, too short for struct rtnexthop`, p)
    const len = b[p]! | (b[p + 1]! << 8)
    if (len < RTNEXTHOP_SIZE || len > end - p) throw new NetlinkDecodeError(`rtnh_len ${len} is out of range (${end - p} bytes left)`, p)
    let gateway: string | undefined
    let flow: number | undefined
    let newdst: string | undefined
    const stop = p + len
    let q = p + RTNEXTHOP_SIZE
    while (q < stop) {
      if (stop - q < 4) throw new NetlinkDecodeError(`${stop - q} trailing bytes in a nexthop, too short for an attribute header`, q)
      const alen = b[q]! | (b[q + 1]! << 8)
      if (alen < 4 || alen > stop - q) throw new NetlinkDecodeError(`nexthop attribute length ${alen} is out of range (${stop - q} bytes left)`, q)
      const type = (b[q + 2]! | (b[q + 3]! << 8)) & NLA_TYPE_MASK
      if (type === RTA_GATEWAY) {
        if (alen === 8) gateway = cachedIPv4(b, q + 4)
        else if (alen === 20) gateway = cachedIPv6(b, q + 4)
        else throw new NetlinkDecodeError(`RTA_GATEWAY holds ${alen - 4} bytes, not an IPv4 or IPv6 address`, q + 4)
      } else if (type === RTA_VIA && alen >= 6) {
        gateway = viaText(b[q + 4]! | (b[q + 5]! << 8), b, q + 6, alen - 6) ?? formatMAC(b, q + 6, alen - 6)
      } else if (type === RTA_FLOW) {
        need(alen - 4, 4, 'RTA_FLOW', q + 4); flow = u32At(b, q + 4)
      } else if (type === RTA_NEWDST) {
        newdst = formatMplsLabels(b, q + 4, alen - 4) ?? formatMAC(b, q + 4, alen - 4)
      }
      q += (alen + 3) & ~3
    }
    out.push({ gateway, oif: u32At(b, p + 4) | 0, weight: b[p + 3]! + 1, flags: b[p + 2]!, flow, newdst })
    p += (len + 3) & ~3
  }
  return out
}

/**
 * The fast decoder for route dumps: struct rtmsg and the attributes a
 * routing table holds, from buf[start, end) (the payload after the nlmsghdr),
 * straight into a Route. Attributes it does not model are skipped (use
 * decodeRouteMessage to keep them).
 */
export function decodeRoute (buf: Uint8Array, start: number, end: number): Route {
  if (start < 0 || end > buf.length || end - start < RTMSG_SIZE) {
    throw new NetlinkDecodeError(`rtmsg needs ${RTMSG_SIZE} bytes, the message has ${end - start}`, start)
  }
  const b = buf
  const family = b[start]!
  const dstLen = b[start + 1]!
  const srcLen = b[start + 2]!
  let dst: string | undefined
  let src: string | undefined
  let table = b[start + 4]!
  let gateway: string | undefined
  let via: string | undefined
  let newdst: string | undefined
  let oif: number | undefined
  let iif: number | undefined
  let priority: number | undefined
  let prefsrc: string | undefined
  let pref: number | undefined
  let nhId: number | undefined
  let expires: number | undefined
  let mark: number | undefined
  let flow: number | undefined
  let metrics: RouteMetrics | undefined
  let multipath: RouteNextHop[] | undefined
  let p = start + RTMSG_SIZE
  while (p < end) {
    if (end - p < 4) throw new NetlinkDecodeError(`${end - p} trailing bytes, too short for an attribute header`, p)
    const len = b[p]! | (b[p + 1]! << 8)
    if (len < 4 || len > end - p) throw new NetlinkDecodeError(`attribute length ${len} is out of range (${end - p} bytes left)`, p)
    const o = p + 4
    const n = len - 4
    switch ((b[p + 2]! | (b[p + 3]! << 8)) & NLA_TYPE_MASK) {
      case RTA_DST: dst = prefixText(b, o, n, family, dstLen, 'RTA_DST'); break
      case RTA_SRC: src = prefixText(b, o, n, family, srcLen, 'RTA_SRC'); break
      case RTA_GATEWAY:
        if (n === 4) gateway = cachedIPv4(b, o)
        else if (n === 16) gateway = cachedIPv6(b, o)
        else throw new NetlinkDecodeError(`RTA_GATEWAY holds ${n} bytes, not an IPv4 or IPv6 address`, o)
        break
      case RTA_OIF: need(n, 4, 'RTA_OIF', o); oif = u32At(b, o); break
      case RTA_IIF: need(n, 4, 'RTA_IIF', o); iif = u32At(b, o); break
      case RTA_PRIORITY: need(n, 4, 'RTA_PRIORITY', o); priority = u32At(b, o); break
      case RTA_TABLE: need(n, 4, 'RTA_TABLE', o); table = u32At(b, o); break
      case RTA_PREFSRC:
        if (n === 4) prefsrc = cachedIPv4(b, o)
        else if (n === 16) prefsrc = cachedIPv6(b, o)
        else throw new NetlinkDecodeError(`RTA_PREFSRC holds ${n} bytes, not an IPv4 or IPv6 address`, o)
        break
      case RTA_PREF: need(n, 1, 'RTA_PREF', o); pref = b[o]!; break
      case RTA_NH_ID: need(n, 4, 'RTA_NH_ID', o); nhId = u32At(b, o); break
      case RTA_MARK: need(n, 4, 'RTA_MARK', o); mark = u32At(b, o); break
      case RTA_EXPIRES:
        if (n === 4) expires = u32At(b, o)
        else if (n === 8) expires = readU64AsNumber(b, o)
        else throw new NetlinkDecodeError(`RTA_EXPIRES holds ${n} bytes, expected 4 or 8`, o)
        break
      case RTA_CACHEINFO: {
        need(n, RTA_CACHEINFO_SIZE, 'RTA_CACHEINFO', o)
        const e = u32At(b, o + 8) | 0
        if (e !== 0 && expires === undefined) expires = e
        break
      }
      case RTA_VIA:
        if (n < 2) throw new NetlinkDecodeError(`RTA_VIA holds ${n} bytes, struct rtvia needs at least 2`, o)
        via = viaText(b[o]! | (b[o + 1]! << 8), b, o + 2, n - 2) ?? formatMAC(b, o + 2, n - 2)
        break
      case RTA_NEWDST: newdst = formatMplsLabels(b, o, n) ?? formatMAC(b, o, n); break
      case RTA_FLOW: need(n, 4, 'RTA_FLOW', o); flow = u32At(b, o); break
      case RTA_METRICS: metrics = decodeMetricsFast(b, o, o + n); break
      case RTA_MULTIPATH: multipath = decodeMultipathFast(b, o, o + n); break
    }
    p += (len + 3) & ~3
  }
  const r = new DecodedRoute(family, dst ?? zeroPrefix(family, dstLen), b[start + 3]!, table, b[start + 5]!, b[start + 6]!, b[start + 7]!,
    u32At(b, start + 8), gateway, oif)
  if (src !== undefined) r.src = src
  else if (srcLen !== 0) r.src = zeroPrefix(family, srcLen)
  if (via !== undefined) r.via = via
  if (newdst !== undefined) r.newdst = newdst
  if (iif !== undefined) r.iif = iif
  if (priority !== undefined) r.priority = priority
  if (prefsrc !== undefined) r.prefsrc = prefsrc
  if (pref !== undefined) r.pref = pref
  if (nhId !== undefined) r.nhId = nhId
  if (expires !== undefined) r.expires = expires
  if (mark !== undefined) r.mark = mark
  if (flow !== undefined) r.flow = flow
  if (metrics !== undefined) r.metrics = metrics
  if (multipath !== undefined) r.multipath = multipath
  return r
}

// What decodeRoute returns. Only the ten fields every route has are set in
// the constructor; the others are own properties once assigned and until
// then read undefined from the prototype (non-enumerable there, writable so
// that assigning makes them own). Why not 23 own fields, undefined when
// absent: a route then took ~250 bytes with its dst text, a dump of 100,000
// routes ~25 MB, more than V8's young generation holds, and the scavenger
// copied every route twice while the dump was still running (measured:
// 10-20 ms of a ~63 ms dump+decode, and 4,700 page faults per dump against
// 600 with this class). The interface gives the class Route's fields,
// typed once there (declaration merging).
interface DecodedRoute extends Route {}
class DecodedRoute {
  constructor (family: number, dst: string, tos: number, table: number, protocol: number, scope: number, type: number, flags: number,
    gateway: string | undefined, oif: number | undefined) {
    this.family = family
    this.dst = dst
    this.tos = tos
    this.table = table
    this.protocol = protocol
    this.scope = scope
    this.type = type
    this.flags = flags
    this.gateway = gateway
    this.oif = oif
  }
}
const CARRIED_ONLY: ReadonlyArray<keyof Route> = ['src', 'via', 'newdst', 'iif', 'priority', 'prefsrc', 'pref', 'nhId', 'expires', 'mark', 'flow', 'metrics', 'multipath']
for (const k of CARRIED_ONLY) Object.defineProperty(DecodedRoute.prototype, k, { value: undefined, writable: true, enumerable: false, configurable: true })

/** RTAX_* number → the RouteMetrics field name. */
export const METRIC_NAMES: Record<number, keyof RouteMetrics> = {
  [RTAX_LOCK]: 'lock',
  [RTAX_MTU]: 'mtu',
  [RTAX_WINDOW]: 'window',
  [RTAX_RTT]: 'rtt',
  [RTAX_RTTVAR]: 'rttvar',
  [RTAX_SSTHRESH]: 'ssthresh',
  [RTAX_CWND]: 'cwnd',
  [RTAX_ADVMSS]: 'advmss',
  [RTAX_REORDERING]: 'reordering',
  [RTAX_HOPLIMIT]: 'hoplimit',
  [RTAX_INITCWND]: 'initcwnd',
  [RTAX_FEATURES]: 'features',
  [RTAX_RTO_MIN]: 'rtoMin',
  [RTAX_INITRWND]: 'initrwnd',
  [RTAX_QUICKACK]: 'quickack',
  [RTAX_CC_ALGO]: 'ccAlgo',
  [RTAX_FASTOPEN_NO_COOKIE]: 'fastopenNoCookie'
}

// The "vxlan" link kind: IFLA_VXLAN_* inside IFLA_INFO_DATA.
import type { AttributeReader, NetlinkWriter } from '../../attributes.js'
import { NetlinkDecodeError } from '../../errors.js'
import { type AttributeSet, FLAG_AS_U8, encodeAttributeSet, keepUnknown } from './fields.js'
import type { LinkKindDriver } from './registry.js'

export const IFLA_VXLAN_ID = 1
export const IFLA_VXLAN_GROUP = 2
export const IFLA_VXLAN_LINK = 3
export const IFLA_VXLAN_LOCAL = 4
export const IFLA_VXLAN_TTL = 5
export const IFLA_VXLAN_TOS = 6
export const IFLA_VXLAN_LEARNING = 7
export const IFLA_VXLAN_AGEING = 8
export const IFLA_VXLAN_LIMIT = 9
export const IFLA_VXLAN_PORT_RANGE = 10
export const IFLA_VXLAN_PROXY = 11
export const IFLA_VXLAN_RSC = 12
export const IFLA_VXLAN_L2MISS = 13
export const IFLA_VXLAN_L3MISS = 14
export const IFLA_VXLAN_PORT = 15
export const IFLA_VXLAN_GROUP6 = 16
export const IFLA_VXLAN_LOCAL6 = 17
export const IFLA_VXLAN_UDP_CSUM = 18
export const IFLA_VXLAN_UDP_ZERO_CSUM6_TX = 19
export const IFLA_VXLAN_UDP_ZERO_CSUM6_RX = 20
export const IFLA_VXLAN_REMCSUM_TX = 21
export const IFLA_VXLAN_REMCSUM_RX = 22
export const IFLA_VXLAN_GBP = 23
export const IFLA_VXLAN_REMCSUM_NOPARTIAL = 24
export const IFLA_VXLAN_COLLECT_METADATA = 25
export const IFLA_VXLAN_LABEL = 26
export const IFLA_VXLAN_GPE = 27
export const IFLA_VXLAN_TTL_INHERIT = 28
export const IFLA_VXLAN_DF = 29
export const IFLA_VXLAN_VNIFILTER = 30

export interface VxlanData extends AttributeSet {
  /** VNI (u32) */
  id?: number
  /** Remote or multicast group, IPv4 */
  group?: string
  /** Remote or multicast group, IPv6 */
  group6?: string
  /** ifindex of the underlay device */
  link?: number
  local?: string
  local6?: string
  ttl?: number
  tos?: number
  learning?: number
  /** FDB ageing in seconds */
  ageing?: number
  /** Maximum FDB entries */
  limit?: number
  /** UDP source port range (host order numbers; big-endian on the wire) */
  portRange?: { low: number, high: number }
  proxy?: number
  rsc?: number
  l2miss?: number
  l3miss?: number
  /** UDP destination port (be16 on the wire) */
  port?: number
  udpCsum?: number
  udpZeroCsum6Tx?: number
  udpZeroCsum6Rx?: number
  remcsumTx?: number
  remcsumRx?: number
  gbp?: boolean
  remcsumNopartial?: boolean
  collectMetadata?: number
  /** IPv6 flow label (be32) */
  label?: number
  gpe?: boolean
  /**
   * TTL inherited from the inner packet (`ttl inherit`). Requests carry it as
   * a flag; the kernel reports it as a u8 0/1 on every vxlan. Decoded with
   * keepOrder, the order remembers which form came (FLAG_AS_U8), so a kernel
   * reply re-encodes byte for byte; without it, true is written as the flag
   * (what the kernel accepts in a request) and false as nothing.
   */
  ttlInherit?: boolean
  df?: number
  vnifilter?: number
}

function decode (r: AttributeReader, keepOrder = false): VxlanData {
  const d: VxlanData = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_VXLAN_ID: d.id = r.u32(); break
      case IFLA_VXLAN_GROUP: d.group = r.ip(); break
      case IFLA_VXLAN_GROUP6: d.group6 = r.ip(); break
      case IFLA_VXLAN_LINK: d.link = r.u32(); break
      case IFLA_VXLAN_LOCAL: d.local = r.ip(); break
      case IFLA_VXLAN_LOCAL6: d.local6 = r.ip(); break
      case IFLA_VXLAN_TTL: d.ttl = r.u8(); break
      case IFLA_VXLAN_TOS: d.tos = r.u8(); break
      case IFLA_VXLAN_LEARNING: d.learning = r.u8(); break
      case IFLA_VXLAN_AGEING: d.ageing = r.u32(); break
      case IFLA_VXLAN_LIMIT: d.limit = r.u32(); break
      case IFLA_VXLAN_PORT_RANGE: {
        if (r.length < 4) throw new NetlinkDecodeError(`IFLA_VXLAN_PORT_RANGE has ${r.length} bytes, needs 4`, r.offset)
        const b = r.buf; const o = r.offset
        d.portRange = { low: (b[o]! << 8) | b[o + 1]!, high: (b[o + 2]! << 8) | b[o + 3]! }
        break
      }
      case IFLA_VXLAN_PROXY: d.proxy = r.u8(); break
      case IFLA_VXLAN_RSC: d.rsc = r.u8(); break
      case IFLA_VXLAN_L2MISS: d.l2miss = r.u8(); break
      case IFLA_VXLAN_L3MISS: d.l3miss = r.u8(); break
      case IFLA_VXLAN_PORT: d.port = r.be16(); break
      case IFLA_VXLAN_UDP_CSUM: d.udpCsum = r.u8(); break
      case IFLA_VXLAN_UDP_ZERO_CSUM6_TX: d.udpZeroCsum6Tx = r.u8(); break
      case IFLA_VXLAN_UDP_ZERO_CSUM6_RX: d.udpZeroCsum6Rx = r.u8(); break
      case IFLA_VXLAN_REMCSUM_TX: d.remcsumTx = r.u8(); break
      case IFLA_VXLAN_REMCSUM_RX: d.remcsumRx = r.u8(); break
      case IFLA_VXLAN_GBP: d.gbp = true; break
      case IFLA_VXLAN_REMCSUM_NOPARTIAL: d.remcsumNopartial = true; break
      case IFLA_VXLAN_COLLECT_METADATA: d.collectMetadata = r.u8(); break
      case IFLA_VXLAN_LABEL: d.label = r.be32(); break
      case IFLA_VXLAN_GPE: d.gpe = true; break
      case IFLA_VXLAN_TTL_INHERIT:
        if (r.length === 0) d.ttlInherit = true
        else if (r.length === 1 && r.u8() <= 1) {
          d.ttlInherit = r.u8() === 1
          if (order !== undefined) order[order.length - 1]! |= FLAG_AS_U8
        } else keepUnknown(d, r) // any other value or length stays as it came
        break
      case IFLA_VXLAN_DF: d.df = r.u8(); break
      case IFLA_VXLAN_VNIFILTER: d.vnifilter = r.u8(); break
      default: keepUnknown(d, r)
    }
  }
  if (order !== undefined) d.order = order
  return d
}

// iproute2's order for what it sends (the device first, then id, addresses, learning, port).
const CANONICAL = [
  IFLA_VXLAN_LINK, IFLA_VXLAN_ID, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6,
  IFLA_VXLAN_TTL, IFLA_VXLAN_TTL_INHERIT, IFLA_VXLAN_TOS, IFLA_VXLAN_DF, IFLA_VXLAN_LABEL, IFLA_VXLAN_LEARNING,
  IFLA_VXLAN_PROXY, IFLA_VXLAN_RSC, IFLA_VXLAN_L2MISS, IFLA_VXLAN_L3MISS, IFLA_VXLAN_COLLECT_METADATA,
  IFLA_VXLAN_VNIFILTER, IFLA_VXLAN_AGEING, IFLA_VXLAN_LIMIT, IFLA_VXLAN_PORT_RANGE, IFLA_VXLAN_UDP_CSUM,
  IFLA_VXLAN_UDP_ZERO_CSUM6_TX, IFLA_VXLAN_UDP_ZERO_CSUM6_RX, IFLA_VXLAN_REMCSUM_TX, IFLA_VXLAN_REMCSUM_RX,
  IFLA_VXLAN_PORT, IFLA_VXLAN_GBP, IFLA_VXLAN_GPE, IFLA_VXLAN_REMCSUM_NOPARTIAL
] as const

function emit (w: NetlinkWriter, d: VxlanData, t: number): boolean {
  switch (t & 0x3fff) {
    case IFLA_VXLAN_ID: if (d.id === undefined) return false; w.u32(t, d.id); return true
    case IFLA_VXLAN_GROUP: if (d.group === undefined) return false; w.ip(t, d.group); return true
    case IFLA_VXLAN_GROUP6: if (d.group6 === undefined) return false; w.ip(t, d.group6); return true
    case IFLA_VXLAN_LINK: if (d.link === undefined) return false; w.u32(t, d.link); return true
    case IFLA_VXLAN_LOCAL: if (d.local === undefined) return false; w.ip(t, d.local); return true
    case IFLA_VXLAN_LOCAL6: if (d.local6 === undefined) return false; w.ip(t, d.local6); return true
    case IFLA_VXLAN_TTL: if (d.ttl === undefined) return false; w.u8(t, d.ttl); return true
    case IFLA_VXLAN_TOS: if (d.tos === undefined) return false; w.u8(t, d.tos); return true
    case IFLA_VXLAN_LEARNING: if (d.learning === undefined) return false; w.u8(t, d.learning); return true
    case IFLA_VXLAN_AGEING: if (d.ageing === undefined) return false; w.u32(t, d.ageing); return true
    case IFLA_VXLAN_LIMIT: if (d.limit === undefined) return false; w.u32(t, d.limit); return true
    case IFLA_VXLAN_PORT_RANGE: {
      if (d.portRange === undefined) return false
      w.attr(t, Uint8Array.of(d.portRange.low >> 8, d.portRange.low & 0xff, d.portRange.high >> 8, d.portRange.high & 0xff))
      return true
    }
    case IFLA_VXLAN_PROXY: if (d.proxy === undefined) return false; w.u8(t, d.proxy); return true
    case IFLA_VXLAN_RSC: if (d.rsc === undefined) return false; w.u8(t, d.rsc); return true
    case IFLA_VXLAN_L2MISS: if (d.l2miss === undefined) return false; w.u8(t, d.l2miss); return true
    case IFLA_VXLAN_L3MISS: if (d.l3miss === undefined) return false; w.u8(t, d.l3miss); return true
    case IFLA_VXLAN_PORT: if (d.port === undefined) return false; w.be16(t, d.port); return true
    case IFLA_VXLAN_UDP_CSUM: if (d.udpCsum === undefined) return false; w.u8(t, d.udpCsum); return true
    case IFLA_VXLAN_UDP_ZERO_CSUM6_TX: if (d.udpZeroCsum6Tx === undefined) return false; w.u8(t, d.udpZeroCsum6Tx); return true
    case IFLA_VXLAN_UDP_ZERO_CSUM6_RX: if (d.udpZeroCsum6Rx === undefined) return false; w.u8(t, d.udpZeroCsum6Rx); return true
    case IFLA_VXLAN_REMCSUM_TX: if (d.remcsumTx === undefined) return false; w.u8(t, d.remcsumTx); return true
    case IFLA_VXLAN_REMCSUM_RX: if (d.remcsumRx === undefined) return false; w.u8(t, d.remcsumRx); return true
    case IFLA_VXLAN_GBP: if (d.gbp !== true) return false; w.flag(t); return true
    case IFLA_VXLAN_REMCSUM_NOPARTIAL: if (d.remcsumNopartial !== true) return false; w.flag(t); return true
    case IFLA_VXLAN_COLLECT_METADATA: if (d.collectMetadata === undefined) return false; w.u8(t, d.collectMetadata); return true
    case IFLA_VXLAN_LABEL: if (d.label === undefined) return false; w.be32(t, d.label); return true
    case IFLA_VXLAN_GPE: if (d.gpe !== true) return false; w.flag(t); return true
    case IFLA_VXLAN_TTL_INHERIT:
      if (d.ttlInherit === undefined) return false
      if ((t & FLAG_AS_U8) !== 0) { w.u8(t & 0xffff, d.ttlInherit ? 1 : 0); return true }
      if (!d.ttlInherit) return false
      w.flag(t)
      return true
    case IFLA_VXLAN_DF: if (d.df === undefined) return false; w.u8(t, d.df); return true
    case IFLA_VXLAN_VNIFILTER: if (d.vnifilter === undefined) return false; w.u8(t, d.vnifilter); return true
    default: return false
  }
}

export const vxlanKind: LinkKindDriver<VxlanData> = {
  kind: 'vxlan',
  encode (w, data) { encodeAttributeSet(w, data, CANONICAL, emit) },
  decode
}

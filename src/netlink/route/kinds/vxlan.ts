// The "vxlan" link kind: IFLA_VXLAN_* inside IFLA_INFO_DATA.
import { NetlinkDecodeError } from '../../errors.js'
import { type AttributeSet, type Codec, FLAG_AS_U8, FieldTable, be16, be32, flag, ip, u32, u8 } from '../attribute-set.js'
import { type LinkContext, type LinkKindDriver, kindDriver } from './driver.js'

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

/** struct ifla_vxlan_port_range: two be16. */
const portRange: Codec<{ low: number, high: number }> = {
  read: r => {
    if (r.length < 4) throw new NetlinkDecodeError(`IFLA_VXLAN_PORT_RANGE has ${r.length} bytes, needs 4`, r.offset)
    const b = r.buf; const o = r.offset
    return { low: (b[o]! << 8) | b[o + 1]!, high: (b[o + 2]! << 8) | b[o + 3]! }
  },
  write: (w, t, v) => { w.attr(t, Uint8Array.of(v.low >> 8, v.low & 0xff, v.high >> 8, v.high & 0xff)); return true }
}

/** A flag in requests, a u8 0/1 from the kernel (FLAG_AS_U8 in the order); any other value stays raw. */
const ttlInherit: Codec<boolean> = {
  read: r => r.length === 0 ? true : r.length === 1 && r.u8() <= 1 ? r.u8() === 1 : undefined,
  write: (w, t, v) => {
    if ((t & FLAG_AS_U8) !== 0) { w.u8(t, v ? 1 : 0); return true }
    if (!v) return false
    w.flag(t)
    return true
  },
  mark: r => r.length === 1 ? FLAG_AS_U8 : 0
}

// iproute2's order for what it sends (the device first, then id, addresses, learning, port).
export const vxlanKind: LinkKindDriver<VxlanData> = kindDriver('vxlan', new FieldTable<VxlanData, LinkContext>([
  { type: IFLA_VXLAN_LINK, key: 'link', codec: u32 },
  { type: IFLA_VXLAN_ID, key: 'id', codec: u32 },
  { type: IFLA_VXLAN_GROUP, key: 'group', codec: ip() },
  { type: IFLA_VXLAN_GROUP6, key: 'group6', codec: ip() },
  { type: IFLA_VXLAN_LOCAL, key: 'local', codec: ip() },
  { type: IFLA_VXLAN_LOCAL6, key: 'local6', codec: ip() },
  { type: IFLA_VXLAN_TTL, key: 'ttl', codec: u8 },
  { type: IFLA_VXLAN_TTL_INHERIT, key: 'ttlInherit', codec: ttlInherit },
  { type: IFLA_VXLAN_TOS, key: 'tos', codec: u8 },
  { type: IFLA_VXLAN_DF, key: 'df', codec: u8 },
  { type: IFLA_VXLAN_LABEL, key: 'label', codec: be32 },
  { type: IFLA_VXLAN_LEARNING, key: 'learning', codec: u8 },
  { type: IFLA_VXLAN_PROXY, key: 'proxy', codec: u8 },
  { type: IFLA_VXLAN_RSC, key: 'rsc', codec: u8 },
  { type: IFLA_VXLAN_L2MISS, key: 'l2miss', codec: u8 },
  { type: IFLA_VXLAN_L3MISS, key: 'l3miss', codec: u8 },
  { type: IFLA_VXLAN_COLLECT_METADATA, key: 'collectMetadata', codec: u8 },
  { type: IFLA_VXLAN_VNIFILTER, key: 'vnifilter', codec: u8 },
  { type: IFLA_VXLAN_AGEING, key: 'ageing', codec: u32 },
  { type: IFLA_VXLAN_LIMIT, key: 'limit', codec: u32 },
  { type: IFLA_VXLAN_PORT_RANGE, key: 'portRange', codec: portRange },
  { type: IFLA_VXLAN_UDP_CSUM, key: 'udpCsum', codec: u8 },
  { type: IFLA_VXLAN_UDP_ZERO_CSUM6_TX, key: 'udpZeroCsum6Tx', codec: u8 },
  { type: IFLA_VXLAN_UDP_ZERO_CSUM6_RX, key: 'udpZeroCsum6Rx', codec: u8 },
  { type: IFLA_VXLAN_REMCSUM_TX, key: 'remcsumTx', codec: u8 },
  { type: IFLA_VXLAN_REMCSUM_RX, key: 'remcsumRx', codec: u8 },
  { type: IFLA_VXLAN_PORT, key: 'port', codec: be16 },
  { type: IFLA_VXLAN_GBP, key: 'gbp', codec: flag },
  { type: IFLA_VXLAN_GPE, key: 'gpe', codec: flag },
  { type: IFLA_VXLAN_REMCSUM_NOPARTIAL, key: 'remcsumNopartial', codec: flag }
]))

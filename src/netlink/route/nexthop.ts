// RTM_NEWNEXTHOP / RTM_DELNEXTHOP / RTM_GETNEXTHOP messages: struct nhmsg
// and the NHA_* attributes (linux/nexthop.h, with what 6.12+ kernels add:
// NHA_OP_FLAGS, 16-bit group weights). The codec only: the friendly API is
// in nexthops.ts.
import { AttributeReader, NLA_F_NESTED, type NetlinkWriter, type RawAttribute } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { parseIP } from '../addr.js'
import { writeAttributesInOrder } from './attribute-order.js'
import { u64Number } from './kinds/fields.js'

export const NHA_UNSPEC = 0
export const NHA_ID = 1
export const NHA_GROUP = 2
export const NHA_GROUP_TYPE = 3
export const NHA_BLACKHOLE = 4
export const NHA_OIF = 5
export const NHA_GATEWAY = 6
export const NHA_ENCAP_TYPE = 7
export const NHA_ENCAP = 8
export const NHA_GROUPS = 9
export const NHA_MASTER = 10
export const NHA_FDB = 11
export const NHA_RES_GROUP = 12
export const NHA_RES_BUCKET = 13
export const NHA_OP_FLAGS = 14
export const NHA_GROUP_STATS = 15
export const NHA_HW_STATS_ENABLE = 16
export const NHA_HW_STATS_USED = 17

// NHA_RES_GROUP members
export const NHA_RES_GROUP_PAD = 0
export const NHA_RES_GROUP_BUCKETS = 1
export const NHA_RES_GROUP_IDLE_TIMER = 2
export const NHA_RES_GROUP_UNBALANCED_TIMER = 3
export const NHA_RES_GROUP_UNBALANCED_TIME = 4

// NHA_GROUP_TYPE
export const NEXTHOP_GRP_TYPE_MPATH = 0
export const NEXTHOP_GRP_TYPE_RES = 1

// NHA_OP_FLAGS
export const NHA_OP_FLAG_DUMP_STATS = 1 << 0
export const NHA_OP_FLAG_DUMP_HW_STATS = 1 << 1
/** Set by the kernel in replies: nexthop_grp's reserved bytes are zeroed, so weight_high is meaningful. */
export const NHA_OP_FLAG_RESP_GRP_RESVD_0 = 0x80000000

export const NHMSG_SIZE = 8
export const NEXTHOP_GRP_SIZE = 8

/** One struct nexthop_grp. */
export interface NexthopGroupEntry {
  id: number
  /** 1..65536: (weight_high << 8 | weight) + 1, as the kernel stores it. */
  weight: number
}

/** NHA_RES_GROUP: a resilient group's parameters; timers in clock ticks (USER_HZ, 1/100 s). */
export interface NexthopResilientGroup {
  buckets?: number
  idleTimer?: number
  unbalancedTimer?: number
  /** NHA_RES_GROUP_UNBALANCED_TIME (u64, read only). */
  unbalancedTime?: number
  unknown?: RawAttribute[]
  attributeOrder?: number[]
}

export interface NexthopAttributes {
  id?: number
  group?: NexthopGroupEntry[]
  /** NEXTHOP_GRP_TYPE_*. */
  groupType?: number
  blackhole?: boolean
  oif?: number
  gateway?: string
  encapType?: number
  /** NHA_ENCAP kept whole (its members depend on encapType). */
  encap?: RawAttribute
  /** Dump filter: only groups. */
  groups?: boolean
  /** Dump filter: only nexthops whose device has this master. */
  master?: number
  fdb?: boolean
  resGroup?: NexthopResilientGroup
  /** NHA_RES_BUCKET kept whole (bucket dumps). */
  resBucket?: RawAttribute
  opFlags?: number
  /** NHA_GROUP_STATS kept whole. */
  groupStats?: RawAttribute
  hwStatsEnable?: number
  hwStatsUsed?: number
  unknown?: RawAttribute[]
}

export interface NexthopMessage {
  family: number
  /** nh_scope: RT_SCOPE_* (replies only). */
  scope: number
  /** nh_protocol: RTPROT_*. */
  protocol: number
  /** resvd: 0 from the kernel; kept so foreign messages re-encode as they came. */
  resvd: number
  /** nh_flags: RTNH_F_*. */
  flags: number
  attributes: NexthopAttributes
  /** nla_type of every attribute (flags included) in the order decoded; the encoder replays it. */
  attributeOrder?: number[]
}

// The order iproute2 sends for `ip nexthop add id N group … type resilient …`, `… blackhole`,
// `… encap mpls L via GW dev X fdb`.
const CANONICAL_ORDER = [NHA_ID, NHA_GROUP, NHA_RES_GROUP, NHA_GROUP_TYPE, NHA_BLACKHOLE, NHA_ENCAP, NHA_ENCAP_TYPE,
  NHA_GATEWAY, NHA_OIF, NHA_FDB, NHA_GROUPS, NHA_MASTER, NHA_RES_BUCKET, NHA_OP_FLAGS, NHA_GROUP_STATS,
  NHA_HW_STATS_ENABLE, NHA_HW_STATS_USED]
const RES_GROUP_ORDER = [NHA_RES_GROUP_BUCKETS, NHA_RES_GROUP_IDLE_TIMER, NHA_RES_GROUP_UNBALANCED_TIMER, NHA_RES_GROUP_UNBALANCED_TIME]

function groupBytes (group: readonly NexthopGroupEntry[]): Uint8Array {
  const b = Buffer.alloc(group.length * NEXTHOP_GRP_SIZE)
  group.forEach((e, i) => {
    if (!Number.isInteger(e.weight) || e.weight < 1 || e.weight > 65536) throw new TypeError(`nexthop group weight must be 1..65536, not ${e.weight}`)
    b.writeUInt32LE(e.id >>> 0, i * 8)
    b[i * 8 + 4] = (e.weight - 1) & 0xff
    b[i * 8 + 5] = (e.weight - 1) >> 8
  })
  return b
}

/** Writes struct nhmsg and the attributes (not the nlmsghdr). */
export function encodeNexthopMessage (w: NetlinkWriter, m: NexthopMessage): void {
  const off = w.reserve(NHMSG_SIZE)
  w.setU8(off, m.family)
  w.setU8(off + 1, m.scope)
  w.setU8(off + 2, m.protocol)
  w.setU8(off + 3, m.resvd)
  w.setU32(off + 4, m.flags)
  const a = m.attributes
  writeAttributesInOrder(w, m.attributeOrder, CANONICAL_ORDER, (type) => {
    switch (type) {
      case NHA_ID: if (a.id === undefined) return false; w.u32(type, a.id); return true
      case NHA_GROUP: if (a.group === undefined) return false; w.attr(type, groupBytes(a.group)); return true
      case NHA_GROUP_TYPE: if (a.groupType === undefined) return false; w.u16(type, a.groupType); return true
      case NHA_BLACKHOLE: if (a.blackhole !== true) return false; w.flag(type); return true
      case NHA_OIF: if (a.oif === undefined) return false; w.u32(type, a.oif); return true
      case NHA_GATEWAY: {
        if (a.gateway === undefined) return false
        const b = parseIP(a.gateway)
        if (b === undefined) throw new TypeError(`NHA_GATEWAY: not an IP address: ${JSON.stringify(a.gateway)}`)
        w.attr(type, b)
        return true
      }
      case NHA_ENCAP_TYPE: if (a.encapType === undefined) return false; w.u16(type, a.encapType); return true
      case NHA_ENCAP: if (a.encap === undefined) return false; w.raw(a.encap); return true
      case NHA_GROUPS: if (a.groups !== true) return false; w.flag(type); return true
      case NHA_MASTER: if (a.master === undefined) return false; w.u32(type, a.master); return true
      case NHA_FDB: if (a.fdb !== true) return false; w.flag(type); return true
      case NHA_RES_GROUP: {
        const g = a.resGroup
        if (g === undefined) return false
        // Marked NLA_F_NESTED as iproute2 and the kernel send it; a decoded message's order says for itself.
        const nest = w.beginNested(m.attributeOrder === undefined ? type | NLA_F_NESTED : type)
        writeAttributesInOrder(w, g.attributeOrder, RES_GROUP_ORDER, (t) => {
          switch (t) {
            case NHA_RES_GROUP_BUCKETS: if (g.buckets === undefined) return false; w.u16(t, g.buckets); return true
            case NHA_RES_GROUP_IDLE_TIMER: if (g.idleTimer === undefined) return false; w.u32(t, g.idleTimer); return true
            case NHA_RES_GROUP_UNBALANCED_TIMER: if (g.unbalancedTimer === undefined) return false; w.u32(t, g.unbalancedTimer); return true
            case NHA_RES_GROUP_UNBALANCED_TIME: if (g.unbalancedTime === undefined) return false; w.u64(t, g.unbalancedTime); return true
          }
          return false
        }, g.unknown)
        w.endNested(nest)
        return true
      }
      case NHA_RES_BUCKET: if (a.resBucket === undefined) return false; w.raw(a.resBucket); return true
      case NHA_OP_FLAGS: if (a.opFlags === undefined) return false; w.u32(type, a.opFlags); return true
      case NHA_GROUP_STATS: if (a.groupStats === undefined) return false; w.raw(a.groupStats); return true
      case NHA_HW_STATS_ENABLE: if (a.hwStatsEnable === undefined) return false; w.u32(type, a.hwStatsEnable); return true
      case NHA_HW_STATS_USED: if (a.hwStatsUsed === undefined) return false; w.u32(type, a.hwStatsUsed); return true
    }
    return false
  }, a.unknown)
}

/** NHA_GROUP, or undefined when it is not a whole number of entries or a reserved field is set (kept raw then). */
function readGroup (r: AttributeReader): NexthopGroupEntry[] | undefined {
  if (r.length === 0 || r.length % NEXTHOP_GRP_SIZE !== 0) return undefined
  const b = r.buf
  const out: NexthopGroupEntry[] = []
  for (let p = r.offset; p < r.offset + r.length; p += NEXTHOP_GRP_SIZE) {
    if (b[p + 6] !== 0 || b[p + 7] !== 0) return undefined
    out.push({ id: (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0, weight: ((b[p + 5]! << 8) | b[p + 4]!) + 1 })
  }
  return out
}

function readResGroup (outer: AttributeReader): NexthopResilientGroup {
  const g: NexthopResilientGroup = {}
  const order: number[] = []
  const r = outer.nestedReader()
  while (r.next()) {
    order.push(r.rawType)
    switch (r.type) {
      case NHA_RES_GROUP_BUCKETS: g.buckets = r.u16(); break
      case NHA_RES_GROUP_IDLE_TIMER: g.idleTimer = r.u32(); break
      case NHA_RES_GROUP_UNBALANCED_TIMER: g.unbalancedTimer = r.u32(); break
      case NHA_RES_GROUP_UNBALANCED_TIME: g.unbalancedTime = u64Number(r); break
      default: (g.unknown ??= []).push(r.raw())
    }
  }
  g.attributeOrder = order
  return g
}

/** Decodes struct nhmsg and every attribute from buf[start, end) (the payload after the nlmsghdr). */
export function decodeNexthopMessage (buf: Uint8Array, start: number, end: number): NexthopMessage {
  if (start < 0 || end > buf.length || end - start < NHMSG_SIZE) {
    throw new NetlinkDecodeError(`nhmsg needs ${NHMSG_SIZE} bytes, the message has ${end - start}`, start)
  }
  const a: NexthopAttributes = {}
  const order: number[] = []
  const m: NexthopMessage = {
    family: buf[start]!,
    scope: buf[start + 1]!,
    protocol: buf[start + 2]!,
    resvd: buf[start + 3]!,
    flags: (buf[start + 4]! | (buf[start + 5]! << 8) | (buf[start + 6]! << 16) | (buf[start + 7]! << 24)) >>> 0,
    attributes: a,
    attributeOrder: order
  }
  const r = new AttributeReader(buf, start + NHMSG_SIZE, end)
  while (r.next()) {
    order.push(r.rawType)
    switch (r.type) {
      case NHA_ID: a.id = r.u32(); break
      case NHA_GROUP: { const g = readGroup(r); if (g !== undefined) a.group = g; else (a.unknown ??= []).push(r.raw()); break }
      case NHA_GROUP_TYPE: a.groupType = r.u16(); break
      case NHA_BLACKHOLE: if (r.length === 0) a.blackhole = true; else (a.unknown ??= []).push(r.raw()); break
      case NHA_OIF: a.oif = r.u32(); break
      case NHA_GATEWAY: a.gateway = r.ip(); break
      case NHA_ENCAP_TYPE: a.encapType = r.u16(); break
      case NHA_ENCAP: a.encap = r.raw(); break
      case NHA_GROUPS: if (r.length === 0) a.groups = true; else (a.unknown ??= []).push(r.raw()); break
      case NHA_MASTER: a.master = r.u32(); break
      case NHA_FDB: if (r.length === 0) a.fdb = true; else (a.unknown ??= []).push(r.raw()); break
      case NHA_RES_GROUP: a.resGroup = readResGroup(r); break
      case NHA_RES_BUCKET: a.resBucket = r.raw(); break
      case NHA_OP_FLAGS: a.opFlags = r.u32(); break
      case NHA_GROUP_STATS: a.groupStats = r.raw(); break
      case NHA_HW_STATS_ENABLE: a.hwStatsEnable = r.u32(); break
      case NHA_HW_STATS_USED: a.hwStatsUsed = r.u32(); break
      default: (a.unknown ??= []).push(r.raw())
    }
  }
  return m
}

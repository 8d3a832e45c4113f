// RTM_NEWNEXTHOP / RTM_DELNEXTHOP / RTM_GETNEXTHOP messages: struct nhmsg
// and the NHA_* attributes (linux/nexthop.h, with what 6.12+ kernels add:
// NHA_OP_FLAGS, 16-bit group weights). The codec only: the friendly API is
// in nexthops.ts.
import { NLA_F_NESTED, readU32, type RawAttribute } from '../attributes.js'
import { type Codec, FieldTable, decodeSet, encodeSet, flag, ip, raw, u16, u32, u64 } from './attribute-set.js'
import { type MessageCodec, MessageHeader, headerMessageCodec } from './header.js'

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

/** struct nhmsg, once: NexthopMessage's header fields. */
const NHMSG = new MessageHeader<Omit<NexthopMessage, 'attributes' | 'attributeOrder'>>('nhmsg', NHMSG_SIZE, [
  ['family', 0, 'u8'], ['scope', 1, 'u8'], ['protocol', 2, 'u8'], ['resvd', 3, 'u8'], ['flags', 4, 'u32']
])
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

/** NHA_GROUP: struct nexthop_grp entries; not a whole number of them, or a reserved field set → undefined (kept raw). */
const group: Codec<NexthopGroupEntry[]> = {
  read: r => {
    if (r.length === 0 || r.length % NEXTHOP_GRP_SIZE !== 0) return undefined
    const b = r.buf
    const out: NexthopGroupEntry[] = []
    for (let p = r.offset; p < r.offset + r.length; p += NEXTHOP_GRP_SIZE) {
      if (b[p + 6] !== 0 || b[p + 7] !== 0) return undefined
      out.push({ id: readU32(b, p), weight: ((b[p + 5]! << 8) | b[p + 4]!) + 1 })
    }
    return out
  },
  write: (w, t, entries) => {
    const b = Buffer.alloc(entries.length * NEXTHOP_GRP_SIZE)
    entries.forEach((e, i) => {
      if (!Number.isInteger(e.weight) || e.weight < 1 || e.weight > 65536) throw new TypeError(`nexthop group weight must be 1..65536, not ${e.weight}`)
      b.writeUInt32LE(e.id >>> 0, i * 8)
      b[i * 8 + 4] = (e.weight - 1) & 0xff
      b[i * 8 + 5] = (e.weight - 1) >> 8
    })
    w.attr(t, b)
    return true
  }
}

const RES_GROUP_FIELDS = new FieldTable<NexthopResilientGroup>([
  { type: NHA_RES_GROUP_BUCKETS, key: 'buckets', codec: u16 },
  { type: NHA_RES_GROUP_IDLE_TIMER, key: 'idleTimer', codec: u32 },
  { type: NHA_RES_GROUP_UNBALANCED_TIMER, key: 'unbalancedTimer', codec: u32 },
  { type: NHA_RES_GROUP_UNBALANCED_TIME, key: 'unbalancedTime', codec: u64 }
])

/** NHA_RES_GROUP: a nested set with its own attributeOrder. */
const resGroup: Codec<NexthopResilientGroup> = {
  read: r => {
    const g: NexthopResilientGroup = {}
    const order: number[] = []
    decodeSet(r.nestedReader(), RES_GROUP_FIELDS, g, order, undefined)
    g.attributeOrder = order
    return g
  },
  write: (w, t, g) => {
    const nest = w.beginNested(t)
    encodeSet(w, RES_GROUP_FIELDS, g, g.attributeOrder, undefined)
    w.endNested(nest)
    return true
  }
}

// The order iproute2 sends for `ip nexthop add id N group … type resilient …`, `… blackhole`,
// `… encap mpls L via GW dev X fdb`. NHA_RES_GROUP is marked NLA_F_NESTED, as iproute2 and the kernel send it.
const FIELDS = new FieldTable<NexthopAttributes>([
  { type: NHA_ID, key: 'id', codec: u32 },
  { type: NHA_GROUP, key: 'group', codec: group },
  { type: NHA_RES_GROUP | NLA_F_NESTED, key: 'resGroup', codec: resGroup },
  { type: NHA_GROUP_TYPE, key: 'groupType', codec: u16 },
  { type: NHA_BLACKHOLE, key: 'blackhole', codec: flag },
  { type: NHA_ENCAP, key: 'encap', codec: raw },
  { type: NHA_ENCAP_TYPE, key: 'encapType', codec: u16 },
  { type: NHA_GATEWAY, key: 'gateway', codec: ip('NHA_GATEWAY') },
  { type: NHA_OIF, key: 'oif', codec: u32 },
  { type: NHA_FDB, key: 'fdb', codec: flag },
  { type: NHA_GROUPS, key: 'groups', codec: flag },
  { type: NHA_MASTER, key: 'master', codec: u32 },
  { type: NHA_RES_BUCKET, key: 'resBucket', codec: raw },
  { type: NHA_OP_FLAGS, key: 'opFlags', codec: u32 },
  { type: NHA_GROUP_STATS, key: 'groupStats', codec: raw },
  { type: NHA_HW_STATS_ENABLE, key: 'hwStatsEnable', codec: u32 },
  { type: NHA_HW_STATS_USED, key: 'hwStatsUsed', codec: u32 }
])

/**
 * encodeNexthopMessage(w, m) writes struct nhmsg and the attributes (not the nlmsghdr);
 * decodeNexthopMessage(buf, start, end) reads them back from the payload after the nlmsghdr.
 */
export const { encode: encodeNexthopMessage, decode: decodeNexthopMessage }: MessageCodec<NexthopMessage> = headerMessageCodec(NHMSG, FIELDS, () => undefined)


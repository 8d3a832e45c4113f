// RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE messages: struct fib_rule_hdr and
// the FRA_* attributes (linux/fib_rules.h, with the ones 6.15+ kernels add).
// The codec only: the friendly API is in rules.ts.
import { readU16, readU32, type RawAttribute } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { type Codec, FieldTable, be32, be64, ip, string, u16, u32, u8 } from './attribute-set.js'
import { type MessageCodec, MessageHeader, headerMessageCodec } from './header.js'

// enum in linux/fib_rules.h
export const FRA_UNSPEC = 0
export const FRA_DST = 1
export const FRA_SRC = 2
export const FRA_IIFNAME = 3
export const FRA_GOTO = 4
export const FRA_PRIORITY = 6
export const FRA_FWMARK = 10
export const FRA_FLOW = 11
export const FRA_TUN_ID = 12
export const FRA_SUPPRESS_IFGROUP = 13
export const FRA_SUPPRESS_PREFIXLEN = 14
export const FRA_TABLE = 15
export const FRA_FWMASK = 16
export const FRA_OIFNAME = 17
export const FRA_PAD = 18
export const FRA_L3MDEV = 19
export const FRA_UID_RANGE = 20
export const FRA_PROTOCOL = 21
export const FRA_IP_PROTO = 22
export const FRA_SPORT_RANGE = 23
export const FRA_DPORT_RANGE = 24
export const FRA_DSCP = 25
export const FRA_FLOWLABEL = 26
export const FRA_FLOWLABEL_MASK = 27
export const FRA_SPORT_MASK = 28
export const FRA_DPORT_MASK = 29
export const FRA_DSCP_MASK = 30

// frh.action
export const FR_ACT_UNSPEC = 0
export const FR_ACT_TO_TBL = 1
export const FR_ACT_GOTO = 2
export const FR_ACT_NOP = 3
export const FR_ACT_BLACKHOLE = 6
export const FR_ACT_UNREACHABLE = 7
export const FR_ACT_PROHIBIT = 8

// frh.flags
export const FIB_RULE_PERMANENT = 0x1
export const FIB_RULE_INVERT = 0x2
export const FIB_RULE_UNRESOLVED = 0x4
export const FIB_RULE_IIF_DETACHED = 0x8
export const FIB_RULE_OIF_DETACHED = 0x10
export const FIB_RULE_FIND_SADDR = 0x10000

export const FIB_RULE_HDR_SIZE = 12

/** struct fib_rule_hdr, once: RuleMessage's header fields. */
const FIB_RULE_HDR = new MessageHeader<Omit<RuleMessage, 'attributes' | 'attributeOrder'>>('fib_rule_hdr', FIB_RULE_HDR_SIZE, [
  ['family', 0, 'u8'], ['dstLength', 1, 'u8'], ['srcLength', 2, 'u8'], ['tos', 3, 'u8'], ['table', 4, 'u8'],
  ['res1', 5, 'u8'], ['res2', 6, 'u8'], ['action', 7, 'u8'], ['flags', 8, 'u32']
])

/** struct fib_rule_uid_range / fib_rule_port_range: inclusive bounds. */
export interface RuleRange {
  start: number
  end: number
}

export interface RuleAttributes {
  /** FRA_DST / FRA_SRC: the prefix address (its length is in the header). */
  dst?: string
  src?: string
  iifname?: string
  oifname?: string
  /** FRA_GOTO: the preference of the rule to jump to. */
  goto?: number
  priority?: number
  fwmark?: number
  fwmask?: number
  /** FRA_FLOW: realms, `from << 16 | to`. */
  flow?: number
  /** FRA_TUN_ID (be64). */
  tunId?: bigint
  /** u32; the kernel reports 0xffffffff for "not set". */
  suppressIfgroup?: number
  /** u32; the kernel reports 0xffffffff for "not set". */
  suppressPrefixlen?: number
  /** FRA_TABLE: the table id as u32 (ids above 255 exist only here). */
  table?: number
  l3mdev?: number
  uidRange?: RuleRange
  /** FRA_PROTOCOL: who added the rule (RTPROT_*; the kernel's own rules are RTPROT_KERNEL). */
  protocol?: number
  ipProto?: number
  sportRange?: RuleRange
  dportRange?: RuleRange
  dscp?: number
  /** FRA_FLOWLABEL / FRA_FLOWLABEL_MASK (be32), IPv6. */
  flowlabel?: number
  flowlabelMask?: number
  sportMask?: number
  dportMask?: number
  dscpMask?: number
  unknown?: RawAttribute[]
}

export interface RuleMessage {
  family: number
  dstLength: number
  srcLength: number
  tos: number
  /** frh.table: the table id when < 256; the kernel reports RT_TABLE_COMPAT (252) for larger ones, kept in FRA_TABLE. */
  table: number
  /** frh.res1 and res2: reserved, 0 from the kernel; kept so foreign messages re-encode as they came. */
  res1: number
  res2: number
  /** FR_ACT_*. */
  action: number
  /** FIB_RULE_*. */
  flags: number
  attributes: RuleAttributes
  /** nla_type of every attribute (flags included) in the order decoded; the encoder replays it. */
  attributeOrder?: number[]
}

/** struct fib_rule_uid_range (u32 bounds) or fib_rule_port_range (u16 bounds); `name` goes into the errors. */
function range (name: string, size: 2 | 4): Codec<RuleRange> {
  return {
    read: r => {
      if (r.length < size * 2) throw new NetlinkDecodeError(`${name} holds ${r.length} bytes, needs ${size * 2}`, r.offset)
      const o = r.offset
      return size === 2 ? { start: readU16(r.buf, o), end: readU16(r.buf, o + 2) } : { start: readU32(r.buf, o), end: readU32(r.buf, o + 4) }
    },
    write: (w, t, v) => {
      const b = Buffer.alloc(size * 2)
      if (size === 2) { b.writeUInt16LE(v.start & 0xffff, 0); b.writeUInt16LE(v.end & 0xffff, 2) } else { b.writeUInt32LE(v.start >>> 0, 0); b.writeUInt32LE(v.end >>> 0, 4) }
      w.attr(t, b)
      return true
    }
  }
}

// The order iproute2 sends for `ip rule add pref P from S to D iif I oif O fwmark M/K realms R
// uidrange U ipproto P sport S dport D l3mdev protocol X suppress_prefixlength N goto G table T`.
const FIELDS = new FieldTable<RuleAttributes>([
  { type: FRA_PRIORITY, key: 'priority', codec: u32 },
  { type: FRA_SRC, key: 'src', codec: ip('FRA_SRC') },
  { type: FRA_DST, key: 'dst', codec: ip('FRA_DST') },
  { type: FRA_IIFNAME, key: 'iifname', codec: string },
  { type: FRA_OIFNAME, key: 'oifname', codec: string },
  { type: FRA_FWMARK, key: 'fwmark', codec: u32 },
  { type: FRA_FWMASK, key: 'fwmask', codec: u32 },
  { type: FRA_FLOW, key: 'flow', codec: u32 },
  { type: FRA_TUN_ID, key: 'tunId', codec: be64 },
  { type: FRA_UID_RANGE, key: 'uidRange', codec: range('FRA_UID_RANGE', 4) },
  { type: FRA_IP_PROTO, key: 'ipProto', codec: u8 },
  { type: FRA_SPORT_RANGE, key: 'sportRange', codec: range('FRA_SPORT_RANGE', 2) },
  { type: FRA_DPORT_RANGE, key: 'dportRange', codec: range('FRA_DPORT_RANGE', 2) },
  { type: FRA_L3MDEV, key: 'l3mdev', codec: u8 },
  { type: FRA_PROTOCOL, key: 'protocol', codec: u8 },
  { type: FRA_SUPPRESS_PREFIXLEN, key: 'suppressPrefixlen', codec: u32 },
  { type: FRA_SUPPRESS_IFGROUP, key: 'suppressIfgroup', codec: u32 },
  { type: FRA_GOTO, key: 'goto', codec: u32 },
  { type: FRA_TABLE, key: 'table', codec: u32 },
  { type: FRA_DSCP, key: 'dscp', codec: u8 },
  { type: FRA_DSCP_MASK, key: 'dscpMask', codec: u8 },
  { type: FRA_FLOWLABEL, key: 'flowlabel', codec: be32 },
  { type: FRA_FLOWLABEL_MASK, key: 'flowlabelMask', codec: be32 },
  { type: FRA_SPORT_MASK, key: 'sportMask', codec: u16 },
  { type: FRA_DPORT_MASK, key: 'dportMask', codec: u16 }
])

/**
 * encodeRuleMessage(w, m) writes struct fib_rule_hdr and the attributes (not the nlmsghdr);
 * decodeRuleMessage(buf, start, end) reads them back from the payload after the nlmsghdr.
 */
export const { encode: encodeRuleMessage, decode: decodeRuleMessage }: MessageCodec<RuleMessage> = headerMessageCodec(FIB_RULE_HDR, FIELDS, () => undefined)

/** The rule's table: FRA_TABLE when present, else frh.table. */
export function ruleTable (m: RuleMessage): number {
  return m.attributes.table ?? m.table
}

// RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE messages: struct fib_rule_hdr and
// the FRA_* attributes (linux/fib_rules.h, with the ones 6.15+ kernels add).
// The codec only: the friendly API is in rules.ts.
import { AttributeReader, type NetlinkWriter, type RawAttribute } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { parseIP } from '../addr.js'
import { writeAttributesInOrder } from './attribute-order.js'

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

// The order iproute2 sends for `ip rule add pref P from S to D iif I oif O fwmark M/K realms R
// uidrange U ipproto P sport S dport D l3mdev protocol X suppress_prefixlength N goto G table T`.
const CANONICAL_ORDER = [FRA_PRIORITY, FRA_SRC, FRA_DST, FRA_IIFNAME, FRA_OIFNAME, FRA_FWMARK, FRA_FWMASK, FRA_FLOW,
  FRA_TUN_ID, FRA_UID_RANGE, FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE, FRA_L3MDEV, FRA_PROTOCOL,
  FRA_SUPPRESS_PREFIXLEN, FRA_SUPPRESS_IFGROUP, FRA_GOTO, FRA_TABLE, FRA_DSCP, FRA_DSCP_MASK, FRA_FLOWLABEL,
  FRA_FLOWLABEL_MASK, FRA_SPORT_MASK, FRA_DPORT_MASK]

function addressBytes (text: string, name: string): Uint8Array {
  const b = parseIP(text)
  if (b === undefined) throw new TypeError(`${name}: not an IP address: ${JSON.stringify(text)}`)
  return b
}

function rangeBytes (r: RuleRange, size: 2 | 4): Uint8Array {
  const b = Buffer.alloc(size * 2)
  if (size === 2) { b.writeUInt16LE(r.start & 0xffff, 0); b.writeUInt16LE(r.end & 0xffff, 2) } else { b.writeUInt32LE(r.start >>> 0, 0); b.writeUInt32LE(r.end >>> 0, 4) }
  return b
}

/** Writes struct fib_rule_hdr and the attributes (not the nlmsghdr). */
export function encodeRuleMessage (w: NetlinkWriter, m: RuleMessage): void {
  const off = w.reserve(FIB_RULE_HDR_SIZE)
  w.setU8(off, m.family)
  w.setU8(off + 1, m.dstLength)
  w.setU8(off + 2, m.srcLength)
  w.setU8(off + 3, m.tos)
  w.setU8(off + 4, m.table)
  w.setU8(off + 5, m.res1)
  w.setU8(off + 6, m.res2)
  w.setU8(off + 7, m.action)
  w.setU32(off + 8, m.flags)
  const a = m.attributes
  writeAttributesInOrder(w, m.attributeOrder, CANONICAL_ORDER, (type) => {
    switch (type) {
      case FRA_DST: if (a.dst === undefined) return false; w.attr(type, addressBytes(a.dst, 'FRA_DST')); return true
      case FRA_SRC: if (a.src === undefined) return false; w.attr(type, addressBytes(a.src, 'FRA_SRC')); return true
      case FRA_IIFNAME: if (a.iifname === undefined) return false; w.string(type, a.iifname); return true
      case FRA_OIFNAME: if (a.oifname === undefined) return false; w.string(type, a.oifname); return true
      case FRA_GOTO: if (a.goto === undefined) return false; w.u32(type, a.goto); return true
      case FRA_PRIORITY: if (a.priority === undefined) return false; w.u32(type, a.priority); return true
      case FRA_FWMARK: if (a.fwmark === undefined) return false; w.u32(type, a.fwmark); return true
      case FRA_FWMASK: if (a.fwmask === undefined) return false; w.u32(type, a.fwmask); return true
      case FRA_FLOW: if (a.flow === undefined) return false; w.u32(type, a.flow); return true
      case FRA_TUN_ID: if (a.tunId === undefined) return false; w.be64(type, a.tunId); return true
      case FRA_SUPPRESS_IFGROUP: if (a.suppressIfgroup === undefined) return false; w.u32(type, a.suppressIfgroup); return true
      case FRA_SUPPRESS_PREFIXLEN: if (a.suppressPrefixlen === undefined) return false; w.u32(type, a.suppressPrefixlen); return true
      case FRA_TABLE: if (a.table === undefined) return false; w.u32(type, a.table); return true
      case FRA_L3MDEV: if (a.l3mdev === undefined) return false; w.u8(type, a.l3mdev); return true
      case FRA_UID_RANGE: if (a.uidRange === undefined) return false; w.attr(type, rangeBytes(a.uidRange, 4)); return true
      case FRA_PROTOCOL: if (a.protocol === undefined) return false; w.u8(type, a.protocol); return true
      case FRA_IP_PROTO: if (a.ipProto === undefined) return false; w.u8(type, a.ipProto); return true
      case FRA_SPORT_RANGE: if (a.sportRange === undefined) return false; w.attr(type, rangeBytes(a.sportRange, 2)); return true
      case FRA_DPORT_RANGE: if (a.dportRange === undefined) return false; w.attr(type, rangeBytes(a.dportRange, 2)); return true
      case FRA_DSCP: if (a.dscp === undefined) return false; w.u8(type, a.dscp); return true
      case FRA_FLOWLABEL: if (a.flowlabel === undefined) return false; w.be32(type, a.flowlabel); return true
      case FRA_FLOWLABEL_MASK: if (a.flowlabelMask === undefined) return false; w.be32(type, a.flowlabelMask); return true
      case FRA_SPORT_MASK: if (a.sportMask === undefined) return false; w.u16(type, a.sportMask); return true
      case FRA_DPORT_MASK: if (a.dportMask === undefined) return false; w.u16(type, a.dportMask); return true
      case FRA_DSCP_MASK: if (a.dscpMask === undefined) return false; w.u8(type, a.dscpMask); return true
    }
    return false
  }, a.unknown)
}

function readRange (r: AttributeReader, size: 2 | 4, name: string): RuleRange {
  if (r.length < size * 2) throw new NetlinkDecodeError(`${name} holds ${r.length} bytes, needs ${size * 2}`, r.offset)
  const b = r.buf; const o = r.offset
  if (size === 2) return { start: b[o]! | (b[o + 1]! << 8), end: b[o + 2]! | (b[o + 3]! << 8) }
  const u32 = (p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0
  return { start: u32(o), end: u32(o + 4) }
}

/** Decodes struct fib_rule_hdr and every attribute from buf[start, end) (the payload after the nlmsghdr). */
export function decodeRuleMessage (buf: Uint8Array, start: number, end: number): RuleMessage {
  if (start < 0 || end > buf.length || end - start < FIB_RULE_HDR_SIZE) {
    throw new NetlinkDecodeError(`fib_rule_hdr needs ${FIB_RULE_HDR_SIZE} bytes, the message has ${end - start}`, start)
  }
  const a: RuleAttributes = {}
  const order: number[] = []
  const m: RuleMessage = {
    family: buf[start]!,
    dstLength: buf[start + 1]!,
    srcLength: buf[start + 2]!,
    tos: buf[start + 3]!,
    table: buf[start + 4]!,
    res1: buf[start + 5]!,
    res2: buf[start + 6]!,
    action: buf[start + 7]!,
    flags: (buf[start + 8]! | (buf[start + 9]! << 8) | (buf[start + 10]! << 16) | (buf[start + 11]! << 24)) >>> 0,
    attributes: a,
    attributeOrder: order
  }
  const r = new AttributeReader(buf, start + FIB_RULE_HDR_SIZE, end)
  while (r.next()) {
    order.push(r.rawType)
    switch (r.type) {
      case FRA_DST: a.dst = r.ip(); break
      case FRA_SRC: a.src = r.ip(); break
      case FRA_IIFNAME: a.iifname = r.string(); break
      case FRA_OIFNAME: a.oifname = r.string(); break
      case FRA_GOTO: a.goto = r.u32(); break
      case FRA_PRIORITY: a.priority = r.u32(); break
      case FRA_FWMARK: a.fwmark = r.u32(); break
      case FRA_FWMASK: a.fwmask = r.u32(); break
      case FRA_FLOW: a.flow = r.u32(); break
      case FRA_TUN_ID: {
        if (r.length < 8) throw new NetlinkDecodeError(`FRA_TUN_ID holds ${r.length} bytes, be64 needs 8`, r.offset)
        a.tunId = (BigInt(r.be32()) << 32n) | BigInt(((r.buf[r.offset + 4]! << 24) | (r.buf[r.offset + 5]! << 16) | (r.buf[r.offset + 6]! << 8) | r.buf[r.offset + 7]!) >>> 0)
        break
      }
      case FRA_SUPPRESS_IFGROUP: a.suppressIfgroup = r.u32(); break
      case FRA_SUPPRESS_PREFIXLEN: a.suppressPrefixlen = r.u32(); break
      case FRA_TABLE: a.table = r.u32(); break
      case FRA_L3MDEV: a.l3mdev = r.u8(); break
      case FRA_UID_RANGE: a.uidRange = readRange(r, 4, 'FRA_UID_RANGE'); break
      case FRA_PROTOCOL: a.protocol = r.u8(); break
      case FRA_IP_PROTO: a.ipProto = r.u8(); break
      case FRA_SPORT_RANGE: a.sportRange = readRange(r, 2, 'FRA_SPORT_RANGE'); break
      case FRA_DPORT_RANGE: a.dportRange = readRange(r, 2, 'FRA_DPORT_RANGE'); break
      case FRA_DSCP: a.dscp = r.u8(); break
      case FRA_FLOWLABEL: a.flowlabel = r.be32(); break
      case FRA_FLOWLABEL_MASK: a.flowlabelMask = r.be32(); break
      case FRA_SPORT_MASK: a.sportMask = r.u16(); break
      case FRA_DPORT_MASK: a.dportMask = r.u16(); break
      case FRA_DSCP_MASK: a.dscpMask = r.u8(); break
      default: (a.unknown ??= []).push(r.raw())
    }
  }
  return m
}

/** The rule's table: FRA_TABLE when present, else frh.table. */
export function ruleTable (m: RuleMessage): number {
  return m.attributes.table ?? m.table
}

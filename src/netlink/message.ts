// struct nlmsghdr and the control messages every netlink family shares
// (NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN).
import { NetlinkDecodeError } from './errors.js'
import { AttributeReader, align4, readU16, readU32 } from './attributes.js'

export const NLMSG_HDRLEN = 16

// Control message types (linux/netlink.h)
export const NLMSG_NOOP = 0x1
export const NLMSG_ERROR = 0x2
export const NLMSG_DONE = 0x3
export const NLMSG_OVERRUN = 0x4
export const NLMSG_MIN_TYPE = 0x10

// Flags (linux/netlink.h)
export const NLM_F_REQUEST = 0x01
export const NLM_F_MULTI = 0x02
export const NLM_F_ACK = 0x04
export const NLM_F_ECHO = 0x08
export const NLM_F_DUMP_INTR = 0x10
export const NLM_F_DUMP_FILTERED = 0x20
// GET requests
export const NLM_F_ROOT = 0x100
export const NLM_F_MATCH = 0x200
export const NLM_F_ATOMIC = 0x400
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
// NEW requests
export const NLM_F_REPLACE = 0x100
export const NLM_F_EXCL = 0x200
export const NLM_F_CREATE = 0x400
export const NLM_F_APPEND = 0x800
// DELETE requests
export const NLM_F_NONREC = 0x100
export const NLM_F_BULK = 0x200
// ACK messages
export const NLM_F_CAPPED = 0x100
export const NLM_F_ACK_TLVS = 0x200

// Extended ack attributes (enum nlmsgerr_attrs)
export const NLMSGERR_ATTR_MSG = 1
export const NLMSGERR_ATTR_OFFS = 2
export const NLMSGERR_ATTR_COOKIE = 3
export const NLMSGERR_ATTR_POLICY = 4
export const NLMSGERR_ATTR_MISS_TYPE = 5
export const NLMSGERR_ATTR_MISS_NEST = 6

// Socket-level constants (linux/netlink.h)
export const NETLINK_ROUTE = 0
export const NETLINK_NETFILTER = 12
export const SOL_NETLINK = 270
export const NETLINK_EXT_ACK = 11

export interface NetlinkHeader {
  length: number
  type: number
  flags: number
  seq: number
  pid: number
}

export function decodeHeader (b: Uint8Array, off: number): NetlinkHeader {
  if (b.length - off < NLMSG_HDRLEN) throw new NetlinkDecodeError(`${b.length - off} bytes are too short for a netlink header`, off)
  return { length: readU32(b, off), type: readU16(b, off + 4), flags: readU16(b, off + 6), seq: readU32(b, off + 8), pid: readU32(b, off + 12) }
}

export function encodeHeader (h: NetlinkHeader, out: Uint8Array, off: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
  dv.setUint32(off, h.length, true)
  dv.setUint16(off + 4, h.type, true)
  dv.setUint16(off + 6, h.flags, true)
  dv.setUint32(off + 8, h.seq, true)
  dv.setUint32(off + 12, h.pid, true)
}

/** Called for each message in a datagram: the header fields and the payload range. */
export type MessageVisitor = (type: number, flags: number, seq: number, pid: number, start: number, end: number) => boolean | undefined | void

/**
 * Walks every message in buf. Stops early when the visitor returns false.
 * A length that is too short or runs past the end raises NetlinkDecodeError.
 */
export function forEachMessage (b: Uint8Array, visit: MessageVisitor): void {
  let off = 0
  while (off < b.length) {
    const len = messageLengthAt(b, off)
    const r = visit(readU16(b, off + 4), readU16(b, off + 6), readU32(b, off + 8), readU32(b, off + 12), off + NLMSG_HDRLEN, off + len)
    if (r === false) return
    off += align4(len)
  }
}

/**
 * nlmsg_len of the message at off, checked: a header fits, the length
 * covers it and stays inside b (else NetlinkDecodeError). The framing step
 * of forEachMessage, for loops that read the header fields themselves.
 */
export function messageLengthAt (b: Uint8Array, off: number): number {
  const left = b.length - off
  if (left < NLMSG_HDRLEN) throw new NetlinkDecodeError(`${left} trailing bytes, too short for a netlink header`, off)
  const len = readU32(b, off)
  if (len < NLMSG_HDRLEN) throw new NetlinkDecodeError(`message length ${len} is shorter than its header`, off)
  if (len > left) throw new NetlinkDecodeError(`message length ${len} runs past the end (${left} bytes left)`, off)
  return len
}

/** A netlink message split into header and payload, for tests and generic tools. */
export interface NetlinkMessage {
  header: NetlinkHeader
  payload: Uint8Array
}

export function decodeMessages (b: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = []
  forEachMessage(b, (type, flags, seq, pid, start, end) => {
    out.push({ header: { length: end - start + NLMSG_HDRLEN, type, flags, seq, pid }, payload: b.subarray(start, end) })
  })
  return out
}

/** NLMSG_ERROR: errno 0 is an ACK. */
export interface ErrorMessage {
  /** Positive errno; 0 for an acknowledgement. */
  errno: number
  /** The header of the request this answers. */
  request: NetlinkHeader
  /** NLMSGERR_ATTR_MSG: the kernel's explanation, when extended acks are on. */
  message?: string
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  offset?: number
}

export function decodeErrorMessage (b: Uint8Array, start: number, end: number, flags: number): ErrorMessage {
  if (end - start < 4 + NLMSG_HDRLEN) throw new NetlinkDecodeError(`NLMSG_ERROR payload of ${end - start} bytes is too short`, start)
  const errno = -(readU32(b, start) | 0)
  const request = decodeHeader(b, start + 4)
  const out: ErrorMessage = { errno, request }
  if ((flags & NLM_F_ACK_TLVS) !== 0) {
    // Without CAPPED the whole request is echoed before the TLVs.
    const echoed = (flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : align4(request.length)
    const tlv = start + 4 + echoed
    if (tlv <= end) {
      const r = new AttributeReader(b, tlv, end)
      while (r.next()) {
        if (r.type === NLMSGERR_ATTR_MSG) out.message = r.string()
        else if (r.type === NLMSGERR_ATTR_OFFS) out.offset = r.u32()
      }
    }
  }
  return out
}

/** NLMSG_DONE carries an int: non-zero (negative errno) when the dump failed. */
export function decodeDoneErrno (b: Uint8Array, start: number, end: number): number {
  if (end - start < 4) return 0
  return -(readU32(b, start) | 0)
}

export const MESSAGE_FLAG_NAMES: Array<[number, string]> = [
  [NLM_F_REQUEST, 'REQUEST'], [NLM_F_MULTI, 'MULTI'], [NLM_F_ACK, 'ACK'], [NLM_F_ECHO, 'ECHO'],
  [NLM_F_DUMP_INTR, 'DUMP_INTR'], [NLM_F_DUMP_FILTERED, 'DUMP_FILTERED']
]

/** Flag names for diagnostics, e.g. "REQUEST|ACK|0x600". */
export function flagsToString (flags: number): string {
  const names: string[] = []
  let rest = flags
  for (const [bit, name] of MESSAGE_FLAG_NAMES) if ((flags & bit) !== 0) { names.push(name); rest &= ~bit }
  if (rest !== 0) names.push('0x' + rest.toString(16))
  return names.length > 0 ? names.join('|') : '0'
}

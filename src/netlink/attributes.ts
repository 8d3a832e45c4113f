// Netlink TLV attributes (struct nlattr): one reader and one writer for every
// family. Values are in host byte order (little-endian on the machines we run
// on) unless the name says be16/be32. Every read is bounds-checked: a bad
// length becomes a NetlinkDecodeError, never an out-of-range read.
import { NetlinkDecodeError } from './errors.js'
import { formatIP, formatMAC, parseIP, parseMAC } from './addr.js'

export const NLA_F_NESTED = 0x8000
export const NLA_F_NET_BYTEORDER = 0x4000
export const NLA_TYPE_MASK = 0x3fff
export const NLA_HDRLEN = 4
export const NLA_ALIGNTO = 4

export const align4 = (n: number): number => (n + 3) & ~3

/** An attribute kept as bytes: unknown to the codec, or opaque on purpose. */
export interface RawAttribute {
  /** The full 16-bit nla_type, flags included, so it re-encodes unchanged. */
  type: number
  data: Uint8Array
}

const utf8 = new TextDecoder()

/**
 * Walks the attributes in buf[start, end). Usage:
 *   const r = new AttributeReader(buf, start, end)
 *   while (r.next()) switch (r.type) { case IFLA_MTU: mtu = r.u32(); break }
 */
export class AttributeReader {
  readonly buf: Uint8Array
  private pos: number
  private readonly end: number
  /** Type without the NESTED / NET_BYTEORDER flags. */
  type = 0
  /** Type as sent, flags included. */
  rawType = 0
  /** Offset of the current payload in buf. */
  offset = 0
  /** Length of the current payload. */
  length = 0

  constructor (buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) throw new NetlinkDecodeError(`attribute range ${start}..${end} outside a buffer of ${buf.length} bytes`, start)
    this.buf = buf
    this.pos = start
    this.end = end
  }

  /** Advances to the next attribute; false at the end. Throws on a malformed header. */
  next (): boolean {
    const b = this.buf
    const p = this.pos
    if (p >= this.end) return false
    if (this.end - p < NLA_HDRLEN) throw new NetlinkDecodeError(`${this.end - p} trailing bytes, too short for an attribute header`, p)
    const len = b[p]! | (b[p + 1]! << 8)
    if (len < NLA_HDRLEN) throw new NetlinkDecodeError(`attribute length ${len} is shorter than its header`, p)
    if (p + len > this.end) throw new NetlinkDecodeError(`attribute length ${len} runs past the end (${this.end - p} bytes left)`, p)
    this.rawType = b[p + 2]! | (b[p + 3]! << 8)
    this.type = this.rawType & NLA_TYPE_MASK
    this.offset = p + NLA_HDRLEN
    this.length = len - NLA_HDRLEN
    // The last attribute may omit its padding; never step past the end.
    this.pos = Math.min(p + align4(len), this.end)
    return true
  }

  get nested (): boolean { return (this.rawType & NLA_F_NESTED) !== 0 }

  private need (n: number, what: string): void {
    if (this.length < n) throw new NetlinkDecodeError(`attribute type ${this.type} has ${this.length} bytes, ${what} needs ${n}`, this.offset)
  }

  u8 (): number { this.need(1, 'u8'); return this.buf[this.offset]! }
  u16 (): number { this.need(2, 'u16'); const b = this.buf; const o = this.offset; return b[o]! | (b[o + 1]! << 8) }
  u32 (): number {
    this.need(4, 'u32')
    const b = this.buf; const o = this.offset
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
  }

  s32 (): number { return this.u32() | 0 }
  u64 (): bigint {
    this.need(8, 'u64')
    const lo = BigInt(readU32(this.buf, this.offset)); const hi = BigInt(readU32(this.buf, this.offset + 4))
    return (hi << 32n) | lo
  }

  be16 (): number { this.need(2, 'be16'); const b = this.buf; const o = this.offset; return (b[o]! << 8) | b[o + 1]! }
  be32 (): number { this.need(4, 'be32'); return readBE32(this.buf, this.offset) }
  /** A be64 (nf_tables handles and counters, FRA_TUN_ID). */
  be64 (): bigint {
    this.need(8, 'be64')
    return (BigInt(readBE32(this.buf, this.offset)) << 32n) | BigInt(readBE32(this.buf, this.offset + 4))
  }
  /** A C string: stops at the first NUL (or the attribute's end). */
  string (): string {
    const b = this.buf; const o = this.offset; let e = o
    const lim = o + this.length
    while (e < lim && b[e] !== 0) e++
    let ascii = true
    for (let i = o; i < e; i++) if (b[i]! > 0x7e || b[i]! < 0x20) { ascii = false; break }
    if (ascii) {
      let s = ''
      for (let i = o; i < e; i++) s += String.fromCharCode(b[i]!)
      return s
    }
    return utf8.decode(b.subarray(o, e))
  }

  /** The payload as a view into the buffer (not a copy). */
  bytes (): Uint8Array { return this.buf.subarray(this.offset, this.offset + this.length) }
  /** IPv4 (4 bytes) or IPv6 (16 bytes) in text form. */
  ip (): string {
    if (this.length !== 4 && this.length !== 16) throw new NetlinkDecodeError(`attribute type ${this.type} holds ${this.length} bytes, not an IPv4 or IPv6 address`, this.offset)
    return formatIP(this.buf, this.offset, this.length)
  }

  mac (): string { return formatMAC(this.buf, this.offset, this.length) }
  /** A reader over the current payload (for nested attributes). */
  nestedReader (): AttributeReader { return new AttributeReader(this.buf, this.offset, this.offset + this.length) }
  /** The current attribute, kept whole so it can be re-encoded. Copies the bytes. */
  raw (): RawAttribute { return { type: this.rawType, data: this.buf.slice(this.offset, this.offset + this.length) } }
}

/**
 * Keeps the current attribute whole in set.unknown: what a codec has no
 * field for, so it re-encodes as it came. The data is a view into the
 * decoded buffer (no copy; a plain Uint8Array view, as Buffer#subarray would
 * build a slower FastBuffer).
 */
export function keepUnknown (set: { unknown?: RawAttribute[] }, r: AttributeReader): void {
  const b = r.buf
  const a: RawAttribute = { type: r.rawType, data: new Uint8Array(b.buffer, b.byteOffset + r.offset, r.length) }
  if (set.unknown === undefined) set.unknown = [a]; else set.unknown.push(a)
}

export function readU32 (b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
}
export function readBE32 (b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
}
export function readU16 (b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8)
}

/**
 * Builds netlink messages: headers, fixed structs and attributes, into one
 * growing buffer. Several messages can follow each other (nf_tables batches).
 */
export class NetlinkWriter {
  buf: Buffer
  length = 0
  private readonly messageStarts: number[] = []

  constructor (initialSize = 512) { this.buf = Buffer.alloc(initialSize) }

  private ensure (n: number): void {
    const need = this.length + n
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const nb = Buffer.alloc(size)
    this.buf.copy(nb, 0, 0, this.length)
    this.buf = nb
  }

  /** Reserves n zeroed bytes (padded to 4) and returns their offset, for a fixed struct. */
  reserve (n: number): number {
    const padded = align4(n)
    this.ensure(padded)
    const off = this.length
    this.buf.fill(0, off, off + padded)
    this.length += padded
    return off
  }

  setU8 (off: number, v: number): void { this.buf[off] = v & 0xff }
  setU16 (off: number, v: number): void { this.buf.writeUInt16LE(v & 0xffff, off) }
  setU32 (off: number, v: number): void { this.buf.writeUInt32LE(v >>> 0, off) }
  setS32 (off: number, v: number): void { this.buf.writeInt32LE(v | 0, off) }
  setBE16 (off: number, v: number): void { this.buf.writeUInt16BE(v & 0xffff, off) }
  setBE32 (off: number, v: number): void { this.buf.writeUInt32BE(v >>> 0, off) }
  setBytes (off: number, b: Uint8Array): void { this.buf.set(b, off) }

  /** Starts a message: struct nlmsghdr, its length filled in by endMessage. */
  beginMessage (type: number, flags: number, seq = 0, pid = 0): number {
    const off = this.reserve(16)
    this.setU16(off + 4, type)
    this.setU16(off + 6, flags)
    this.setU32(off + 8, seq)
    this.setU32(off + 12, pid)
    this.messageStarts.push(off)
    return off
  }

  endMessage (): void {
    const off = this.messageStarts.pop()
    if (off === undefined) throw new Error('endMessage without beginMessage')
    this.setU32(off, this.length - off)
  }

  /** An attribute with the given payload; the payload is padded to 4 bytes. */
  attr (type: number, payload: Uint8Array): void {
    const len = NLA_HDRLEN + payload.length
    const off = this.reserve(len)
    this.setU16(off, len)
    this.setU16(off + 2, type)
    this.buf.set(payload, off + NLA_HDRLEN)
  }

  private fixed (type: number, size: number): number {
    const off = this.reserve(NLA_HDRLEN + size)
    this.setU16(off, NLA_HDRLEN + size)
    this.setU16(off + 2, type)
    return off + NLA_HDRLEN
  }

  flag (type: number): void { this.fixed(type, 0) }
  u8 (type: number, v: number): void { this.setU8(this.fixed(type, 1), v) }
  u16 (type: number, v: number): void { this.setU16(this.fixed(type, 2), v) }
  u32 (type: number, v: number): void { this.setU32(this.fixed(type, 4), v) }
  s32 (type: number, v: number): void { this.setS32(this.fixed(type, 4), v) }
  u64 (type: number, v: bigint | number): void {
    const off = this.fixed(type, 8)
    this.buf.writeBigUInt64LE(BigInt(v), off)
  }

  be16 (type: number, v: number): void { this.setBE16(this.fixed(type, 2), v) }
  be32 (type: number, v: number): void { this.setBE32(this.fixed(type, 4), v) }
  be64 (type: number, v: bigint | number): void {
    const off = this.fixed(type, 8) // may grow (replace) this.buf: read it after
    this.buf.writeBigUInt64BE(BigInt(v), off)
  }
  /** A C string with its terminating NUL, as the kernel expects for names. */
  string (type: number, s: string): void {
    const bytes = Buffer.from(s, 'utf8')
    const off = this.fixed(type, bytes.length + 1)
    this.buf.set(bytes, off)
    this.buf[off + bytes.length] = 0
  }

  /** IPv4 or IPv6 text as 4 or 16 bytes; throws TypeError on bad text. */
  ip (type: number, text: string): void {
    const b = parseIP(text)
    if (b === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(text)}`)
    this.attr(type, b)
  }

  mac (type: number, text: string): void {
    const b = parseMAC(text)
    if (b === undefined) throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`)
    this.attr(type, b)
  }

  raw (a: RawAttribute): void { this.attr(a.type, a.data) }

  /** Opens a nested attribute; pass NLA_F_NESTED in type when the receiver wants it. */
  beginNested (type: number): number {
    const off = this.reserve(NLA_HDRLEN)
    this.setU16(off + 2, type)
    return off
  }

  endNested (off: number): void { this.setU16(off, this.length - off) }

  nested (type: number, fill: (w: this) => void): void {
    const off = this.beginNested(type)
    fill(this)
    this.endNested(off)
  }

  /** The bytes written so far (a copy-free view). */
  bytes (): Buffer { return this.buf.subarray(0, this.length) }
}

/** Reads every attribute of a range as raw values (unknown families, tests). */
export function readRawAttributes (buf: Uint8Array, start: number, end: number): RawAttribute[] {
  const out: RawAttribute[] = []
  const r = new AttributeReader(buf, start, end)
  while (r.next()) out.push(r.raw())
  return out
}

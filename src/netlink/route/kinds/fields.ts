// Helpers shared by the attribute-set codecs of links and link kinds: u64
// values as numbers, and encoding an attribute set in canonical order or in
// the order it was decoded (so kernel messages re-encode byte for byte).
import { NLA_TYPE_MASK, type AttributeReader, type NetlinkWriter, type RawAttribute } from '../../attributes.js'
import { NetlinkDecodeError } from '../../errors.js'

/** What every decoded attribute set carries besides its typed fields. */
export interface AttributeSet {
  /** Attributes the codec has no field for, kept whole (views into the decoded buffer). */
  unknown?: RawAttribute[]
  /**
   * The nla_type (flags included) of every attribute in the order decoded;
   * present only when decoded with keepOrder. The encoder then follows it.
   */
  order?: number[]
}

/**
 * Marks an order entry (or a canonical one) whose string attribute goes
 * without a terminating NUL. iproute2 sends IFLA_INFO_KIND that way, the
 * kernel with the NUL; both round-trip. Above the 16 type bits, so writers
 * (which keep the low 16 bits) never put it on the wire.
 */
export const STRING_UNTERMINATED = 0x10000

/**
 * Marks an order entry of an attribute that requests send as a flag (no
 * payload) and the kernel reports as a u8 0/1: IFLA_VXLAN_TTL_INHERIT has
 * policy NLA_FLAG but vxlan_fill_info writes it with nla_put_u8. With the
 * mark the attribute re-encodes as the u8 it came as. Above the 16 type bits,
 * like STRING_UNTERMINATED.
 */
export const FLAG_AS_U8 = 0x20000

/** True when the current attribute is a string without its terminating NUL. */
export function unterminated (r: AttributeReader): boolean {
  return r.length === 0 || r.buf[r.offset + r.length - 1] !== 0
}

/** A string attribute with or without the NUL, as the order entry (or canonical type) t says. */
export function writeString (w: NetlinkWriter, t: number, s: string): void {
  if ((t & STRING_UNTERMINATED) !== 0) w.attr(t & 0xffff, Buffer.from(s, 'utf8')); else w.string(t, s)
}

/** A u64 as a number: timers and intervals never come near 2^53. */
export function u64Number (r: AttributeReader): number {
  if (r.length < 8) throw new NetlinkDecodeError(`attribute type ${r.type} has ${r.length} bytes, u64 needs 8`, r.offset)
  const b = r.buf; const o = r.offset
  const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
  const hi = (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0
  return hi * 0x1_0000_0000 + lo
}

/** An unknown attribute kept as a view (no copy): decode paths stay allocation-light. */
export function rawView (r: AttributeReader): RawAttribute {
  // A plain Uint8Array view: Buffer#subarray builds a FastBuffer, several times slower.
  const b = r.buf
  return { type: r.rawType, data: new Uint8Array(b.buffer, b.byteOffset + r.offset, r.length) }
}

/** Writes the field for rawType when the set has it; returns false when it has none. */
export type EmitAttribute<T> = (w: NetlinkWriter, set: T, rawType: number) => boolean

function listed (order: readonly number[], rawType: number): boolean {
  const t = rawType & NLA_TYPE_MASK
  for (const o of order) if ((o & NLA_TYPE_MASK) === t) return true
  return false
}

/**
 * Encodes an attribute set. Without an order: typed fields in canonical
 * order, then the unknown ones. With an order: that order, each unknown
 * attribute in its place; fields set later (absent from the order) follow
 * in canonical order.
 */
export function encodeAttributeSet<T extends AttributeSet> (w: NetlinkWriter, set: T, canonical: readonly number[], emit: EmitAttribute<T>): void {
  const unknown = set.unknown
  const order = set.order
  if (order === undefined) {
    for (const t of canonical) emit(w, set, t)
    if (unknown !== undefined) for (const a of unknown) w.raw(a)
    return
  }
  let u = 0
  for (const t of order) {
    if (emit(w, set, t)) continue
    const a = unknown?.[u]
    if (a !== undefined && a.type === t) { w.raw(a); u++ }
  }
  for (const t of canonical) if (!listed(order, t)) emit(w, set, t)
  if (unknown !== undefined) for (; u < unknown.length; u++) w.raw(unknown[u]!)
}

/** Appends to the set's unknown list. */
export function keepUnknown (set: AttributeSet, r: AttributeReader): void {
  if (set.unknown === undefined) set.unknown = [rawView(r)]
  else set.unknown.push(rawView(r))
}

// Attribute order for the route-family message codecs (addresses, routes,
// neighbours, rules, nexthops). Decoders record the order attributes arrived
// in, as nla_type with its flags; encoders replay it, so a decoded message
// re-encodes byte for byte, NLA_F_NESTED and NLA_F_NET_BYTEORDER included.
// Without a recorded order an encoder uses its canonical order (the one
// iproute2 sends).
import type { NetlinkWriter, RawAttribute } from '../attributes.js'
import { NLA_TYPE_MASK } from '../attributes.js'

/**
 * Writes attributes in `order` (nla_type values, flags kept), then any known
 * attribute the order did not mention in `canonical` order, then the
 * unknown ones not yet written. `writeKnown(type)` writes the attribute of
 * that type (flags stripped) when the message has it and returns whether it
 * did; the flags the order entry carried are set on what it wrote. An order
 * entry that writeKnown does not write (an unknown type, or a known one the
 * decoder kept raw because its value did not fit the field) is taken from
 * `unknown`, first unused match first.
 */
export function writeAttributesInOrder (
  w: NetlinkWriter,
  order: readonly number[] | undefined,
  canonical: readonly number[],
  writeKnown: (type: number) => boolean,
  unknown: readonly RawAttribute[] | undefined
): void {
  const written = new Set<number>()
  const unknownUsed = new Array<boolean>(unknown?.length ?? 0).fill(false)
  if (order !== undefined) {
    for (const entry of order) {
      const type = entry & NLA_TYPE_MASK
      if (!written.has(type) && canonical.includes(type)) {
        const start = w.length
        if (writeKnown(type)) {
          written.add(type)
          const flags = entry & 0xffff & ~NLA_TYPE_MASK
          if (flags !== 0 && w.length > start) w.setU16(start + 2, (w.buf[start + 2]! | (w.buf[start + 3]! << 8)) | flags)
          continue
        }
      }
      if (unknown === undefined) continue
      const i = unknown.findIndex((a, j) => !unknownUsed[j] && (a.type & NLA_TYPE_MASK) === type)
      if (i >= 0) { unknownUsed[i] = true; w.raw(unknown[i]!) }
    }
  }
  for (const type of canonical) if (!written.has(type)) writeKnown(type)
  if (unknown !== undefined) unknown.forEach((a, j) => { if (!unknownUsed[j]) w.raw(a) })
}

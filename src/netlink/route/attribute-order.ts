// Attribute order for the route-family message codecs (addresses, routes,
// neighbours). Decoders record the order attributes arrived in; encoders
// replay it, so a decoded message re-encodes byte for byte. Without a
// recorded order an encoder uses its canonical order (the one iproute2 sends).
import type { NetlinkWriter, RawAttribute } from '../attributes.js'
import { NLA_TYPE_MASK } from '../attributes.js'

/**
 * Writes attributes in `order` (types, flags stripped), then any known
 * attribute the order did not mention in `canonical` order, then the
 * unknown ones not yet written. `writeKnown(type)` writes the attribute of
 * that type when the message has it and returns whether it did; unknown
 * attributes named in the order are taken from `unknown` one by one.
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
    for (const type of order) {
      if (!written.has(type) && canonical.includes(type)) {
        if (writeKnown(type)) written.add(type)
        continue
      }
      if (unknown === undefined) continue
      const i = unknown.findIndex((a, j) => !unknownUsed[j] && (a.type & NLA_TYPE_MASK) === type)
      if (i >= 0) { unknownUsed[i] = true; w.raw(unknown[i]!) }
    }
  }
  for (const type of canonical) if (!written.has(type)) writeKnown(type)
  if (unknown !== undefined) unknown.forEach((a, j) => { if (!unknownUsed[j]) w.raw(a) })
}

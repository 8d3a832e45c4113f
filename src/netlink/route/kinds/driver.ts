// What a link kind driver is, and how one is made from a field table. The
// registry (registry.ts) maps IFLA_INFO_KIND strings to drivers; the kinds
// import only this module, so nothing imports in a circle.
import type { AttributeReader, NetlinkWriter } from '../../attributes.js'
import { type AttributeSet, type FieldTable, decodeAttributeSet, encodeAttributeSet } from '../attribute-set.js'

/** The decoding context of link attribute sets: the message's family, and whether to record order. */
export interface LinkContext {
  family: number
  keepOrder: boolean
}

export interface LinkKindDriver<T extends AttributeSet = AttributeSet> {
  /** The IFLA_INFO_KIND string, e.g. "bridge". */
  readonly kind: string
  /** Writes the attributes inside IFLA_INFO_DATA (the caller opens the nest). */
  encode: (w: NetlinkWriter, data: T) => void
  /** Reads IFLA_INFO_DATA's attributes; keepOrder records their order for re-encoding. */
  decode: (r: AttributeReader, keepOrder?: boolean) => T
}

const ENCODING: LinkContext = { family: 0, keepOrder: false }

/** A kind whose IFLA_INFO_DATA is the attribute set of one field table. */
export function kindDriver<T extends AttributeSet> (kind: string, table: FieldTable<T, LinkContext>): LinkKindDriver<T> {
  return {
    kind,
    encode: (w, data) => { encodeAttributeSet(w, table, data, ENCODING) },
    decode: (r, keepOrder = false) => decodeAttributeSet(r, table, keepOrder, { family: 0, keepOrder })
  }
}

// Expressions are drivers registered by name (as link kinds are): each one
// decodes the attributes inside NFTA_EXPR_DATA into a plain object whose
// `type` is the expression's kernel name, and writes them back in the order
// libnftnl uses, so our requests match nft's byte for byte.
import type { AttributeReader, NetlinkWriter, RawAttribute } from '../../attributes.js'

export interface NftExpressionDriver<E extends { type: string } = { type: string }> {
  /** The kernel's expression name (NFTA_EXPR_NAME), e.g. "payload". */
  readonly name: string
  /** Decodes the attributes of NFTA_EXPR_DATA; r walks that nest. */
  decode: (r: AttributeReader) => E
  /** Writes the attributes that go inside NFTA_EXPR_DATA. */
  encode: (w: NetlinkWriter, e: E) => void
}

const drivers = new Map<string, NftExpressionDriver<any>>()

/** Adds (or replaces) the driver for an expression name. */
export function registerNftExpression<E extends { type: string }> (driver: NftExpressionDriver<E>): void {
  drivers.set(driver.name, driver)
}

export function nftExpressionDriver (name: string): NftExpressionDriver | undefined { return drivers.get(name) }

/** Attributes a driver did not recognise, kept so the expression re-encodes whole. */

export function writeUnknownAttributes (w: NetlinkWriter, e: { unknown?: RawAttribute[] }): void {
  if (e.unknown !== undefined) for (const a of e.unknown) w.raw(a)
}

// The expression list of a rule (NFTA_RULE_EXPRESSIONS): NFTA_LIST_ELEM
// nests of {NFTA_EXPR_NAME, NFTA_EXPR_DATA}, each decoded by the driver
// registered for its name. Expressions without a driver are kept as bytes.
import { NetlinkDecodeError } from '../../errors.js'
import { AttributeReader, NLA_F_NESTED, NetlinkWriter, type RawAttribute } from '../../attributes.js'
import { NFTA_EXPR_DATA, NFTA_EXPR_NAME, NFTA_LIST_ELEM, NFTA_RULE_EXPRESSIONS } from '../constants.js'
import { nftExpressionDriver, registerNftExpression } from './registry.js'
import { payloadDriver, type PayloadExpression } from './payload.js'
import { cmpDriver, type CmpExpression } from './cmp.js'
import { metaDriver, type MetaExpression } from './meta.js'
import { bitwiseDriver, type BitwiseExpression } from './bitwise.js'
import { immediateDriver, type ImmediateExpression } from './immediate.js'
import { masqDriver, type MasqExpression } from './masq.js'
import { counterDriver, type CounterExpression } from './counter.js'
import { lookupDriver, type LookupExpression } from './lookup.js'

export * from './registry.js'
export * from './payload.js'
export * from './cmp.js'
export * from './meta.js'
export * from './bitwise.js'
export * from './immediate.js'
export * from './masq.js'
export * from './counter.js'
export * from './lookup.js'

for (const d of [payloadDriver, cmpDriver, metaDriver, bitwiseDriver, immediateDriver, masqDriver, counterDriver, lookupDriver]) {
  registerNftExpression(d as Parameters<typeof registerNftExpression>[0])
}

/** An expression no driver knows: its name and the NFTA_EXPR_DATA payload as bytes. */
export interface UnknownExpression {
  type: 'unknown'
  /** NFTA_EXPR_NAME ("" when absent). */
  name: string
  data?: Uint8Array
  /** A list member that was not an NFTA_LIST_ELEM, kept whole. */
  raw?: RawAttribute
}

export type NftExpression =
  PayloadExpression | CmpExpression | MetaExpression | BitwiseExpression | ImmediateExpression |
  MasqExpression | CounterExpression | LookupExpression | UnknownExpression

/** Decodes the payload of NFTA_RULE_EXPRESSIONS (the reader is positioned on it). */
export function decodeExpressions (outer: AttributeReader): NftExpression[] {
  return decodeExpressionList(outer.nestedReader())
}

/** Decodes the payload bytes of an NFTA_RULE_EXPRESSIONS attribute (as kept by decodeRuleSummary). */
export function decodeExpressionBytes (payload: Uint8Array): NftExpression[] {
  return decodeExpressionList(new AttributeReader(payload))
}

function decodeExpressionList (list: AttributeReader): NftExpression[] {
  const out: NftExpression[] = []
  while (list.next()) {
    if (list.type !== NFTA_LIST_ELEM) {
      out.push({ type: 'unknown', name: '', raw: list.raw() })
      continue
    }
    const r = list.nestedReader()
    let name: string | undefined
    let dataStart = -1
    let dataEnd = -1
    let extra: RawAttribute[] | undefined
    while (r.next()) {
      if (r.type === NFTA_EXPR_NAME) name = r.string()
      else if (r.type === NFTA_EXPR_DATA) { dataStart = r.offset; dataEnd = r.offset + r.length } else (extra ??= []).push(r.raw())
    }
    if (name === undefined) throw new NetlinkDecodeError('expression without NFTA_EXPR_NAME', list.offset)
    const driver = nftExpressionDriver(name)
    if (driver === undefined || extra !== undefined) {
      const u: UnknownExpression = { type: 'unknown', name }
      if (extra !== undefined) u.raw = list.raw()
      else if (dataStart >= 0) u.data = list.buf.slice(dataStart, dataEnd)
      out.push(u)
      continue
    }
    const data = dataStart >= 0 ? new AttributeReader(list.buf, dataStart, dataEnd) : new AttributeReader(list.buf, 0, 0)
    out.push(driver.decode(data) as NftExpression)
  }
  return out
}

/** Writes one expression as NFTA_LIST_ELEM{NAME, DATA}, nested flags as nft sets them. */
export function writeExpression (w: NetlinkWriter, e: NftExpression): void {
  if (e.type === 'unknown') {
    if (e.raw !== undefined) { w.raw(e.raw); return }
    const off = w.beginNested(NFTA_LIST_ELEM | NLA_F_NESTED)
    w.string(NFTA_EXPR_NAME, e.name)
    if (e.data !== undefined) w.attr(NFTA_EXPR_DATA | NLA_F_NESTED, e.data)
    w.endNested(off)
    return
  }
  const driver = nftExpressionDriver(e.type)
  if (driver === undefined) throw new TypeError(`no nf_tables expression driver is registered for ${JSON.stringify(e.type)}`)
  const off = w.beginNested(NFTA_LIST_ELEM | NLA_F_NESTED)
  w.string(NFTA_EXPR_NAME, e.type)
  const doff = w.beginNested(NFTA_EXPR_DATA | NLA_F_NESTED)
  driver.encode(w, e)
  w.endNested(doff)
  w.endNested(off)
}

/** Writes NFTA_RULE_EXPRESSIONS (or another list attribute) holding every expression. */
export function writeExpressions (w: NetlinkWriter, type: number, list: readonly NftExpression[]): void {
  const off = w.beginNested(type | NLA_F_NESTED)
  for (const e of list) writeExpression(w, e)
  w.endNested(off)
}

/**
 * Whether two expression lists do the same thing, as the kernel keeps them:
 * compared by their encoding, with the defaults the kernel fills in when
 * it reports a rule back (a bitwise without an op is NFT_BITWISE_MASK_XOR, 0).
 */
export function expressionsEqual (a: readonly NftExpression[], b: readonly NftExpression[]): boolean {
  if (a.length !== b.length) return false
  const canonical = (list: readonly NftExpression[]): Buffer => {
    const w = new NetlinkWriter(128)
    writeExpressions(w, NFTA_RULE_EXPRESSIONS, list.map(e => {
      if (e.type !== 'bitwise' || e.op !== 0) return e
      const { op: _default, ...rest } = e
      return rest
    }))
    return Buffer.from(w.bytes())
  }
  return canonical(a).equals(canonical(b))
}

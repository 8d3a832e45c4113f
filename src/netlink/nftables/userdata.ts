// Rule userdata (NFTA_RULE_USERDATA): opaque to the kernel, written by
// libnftnl as TLVs of u8 type, u8 length, value. nft keeps a rule's comment
// there (NFTNL_UDATA_RULE_COMMENT, the text with its NUL).
import { NetlinkDecodeError } from '../errors.js'
import { NFTNL_UDATA_RULE_COMMENT } from './constants.js'

export interface NftUserdataItem {
  type: number
  value: Uint8Array
}

const utf8 = new TextDecoder()
const utf8enc = new TextEncoder()

/** Splits userdata into its TLVs; a length past the end raises NetlinkDecodeError. */
export function decodeNftUserdata (b: Uint8Array, start: number, end: number): NftUserdataItem[] {
  const out: NftUserdataItem[] = []
  let p = start
  while (p < end) {
    if (end - p < 2) throw new NetlinkDecodeError(`${end - p} trailing userdata bytes, too short for a TLV header`, p)
    const len = b[p + 1]!
    if (p + 2 + len > end) throw new NetlinkDecodeError(`userdata TLV length ${len} runs past the end (${end - p - 2} bytes left)`, p)
    out.push({ type: b[p]!, value: b.slice(p + 2, p + 2 + len) })
    p += 2 + len
  }
  return out
}

export function encodeNftUserdata (items: readonly NftUserdataItem[]): Uint8Array {
  let n = 0
  for (const it of items) {
    if (it.value.length > 255) throw new TypeError(`userdata TLV type ${it.type} is ${it.value.length} bytes, at most 255 fit`)
    n += 2 + it.value.length
  }
  const out = new Uint8Array(n)
  let p = 0
  for (const it of items) {
    out[p] = it.type
    out[p + 1] = it.value.length
    out.set(it.value, p + 2)
    p += 2 + it.value.length
  }
  return out
}

/** The value of a comment TLV: text up to the NUL. */
export function nftCommentText (value: Uint8Array): string {
  let e = value.indexOf(0)
  if (e < 0) e = value.length
  return utf8.decode(value.subarray(0, e))
}

/** A comment TLV as nft writes it: the UTF-8 text and a NUL. */
export function nftCommentItem (text: string): NftUserdataItem {
  const t = utf8enc.encode(text)
  const value = new Uint8Array(t.length + 1)
  value.set(t)
  return { type: NFTNL_UDATA_RULE_COMMENT, value }
}

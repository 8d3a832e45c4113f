// NFTA_DATA_*: the value or verdict carried by cmp, immediate, bitwise and
// set elements. A value is raw bytes in network order; a verdict is a
// be32 code (signed: NFT_JUMP is -3) with a chain name for jump and goto.
import { NetlinkDecodeError } from '../errors.js'
import { NLA_F_NESTED, type AttributeReader, type NetlinkWriter, type RawAttribute, keepUnknown } from '../attributes.js'
import { NFTA_DATA_VALUE, NFTA_DATA_VERDICT, NFTA_VERDICT_CHAIN, NFTA_VERDICT_CHAIN_ID, NFTA_VERDICT_CODE } from './constants.js'

export interface NftVerdict {
  /** NF_ACCEPT, NF_DROP, NFT_RETURN, NFT_JUMP, NFT_GOTO, NFT_CONTINUE ... */
  code: number
  /** Target of NFT_JUMP / NFT_GOTO. */
  chain?: string
  chainId?: number
  unknown?: RawAttribute[]
}

/** Exactly one of value or verdict; unknown keeps anything else the kernel sent. */
export interface NftData {
  value?: Uint8Array
  verdict?: NftVerdict
  unknown?: RawAttribute[]
}

/** Decodes the payload of an NFTA_*_DATA attribute (the reader is positioned on it). */
export function decodeNftData (outer: AttributeReader): NftData {
  const out: NftData = {}
  const r = outer.nestedReader()
  while (r.next()) {
    if (r.type === NFTA_DATA_VALUE) out.value = r.buf.slice(r.offset, r.offset + r.length)
    else if (r.type === NFTA_DATA_VERDICT) out.verdict = decodeVerdict(r)
    else keepUnknown(out, r)
  }
  return out
}

function decodeVerdict (outer: AttributeReader): NftVerdict {
  const r = outer.nestedReader()
  let code: number | undefined
  const v: NftVerdict = { code: 0 }
  while (r.next()) {
    switch (r.type) {
      case NFTA_VERDICT_CODE: code = r.be32() | 0; break
      case NFTA_VERDICT_CHAIN: v.chain = r.string(); break
      case NFTA_VERDICT_CHAIN_ID: v.chainId = r.be32(); break
      default: keepUnknown(v, r)
    }
  }
  if (code === undefined) throw new NetlinkDecodeError('NFTA_DATA_VERDICT without NFTA_VERDICT_CODE', outer.offset)
  v.code = code
  return v
}

/** Writes type{NFTA_DATA_VALUE | NFTA_DATA_VERDICT{...}}, nested as nft sends it. */
export function writeNftData (w: NetlinkWriter, type: number, d: NftData): void {
  const off = w.beginNested(type | NLA_F_NESTED)
  if (d.value !== undefined) w.attr(NFTA_DATA_VALUE, d.value)
  if (d.verdict !== undefined) {
    const v = d.verdict
    const voff = w.beginNested(NFTA_DATA_VERDICT | NLA_F_NESTED)
    w.be32(NFTA_VERDICT_CODE, v.code >>> 0)
    if (v.chain !== undefined) w.string(NFTA_VERDICT_CHAIN, v.chain)
    if (v.chainId !== undefined) w.be32(NFTA_VERDICT_CHAIN_ID, v.chainId)
    if (v.unknown !== undefined) for (const a of v.unknown) w.raw(a)
    w.endNested(voff)
  }
  if (d.unknown !== undefined) for (const a of d.unknown) w.raw(a)
  w.endNested(off)
}

/** A be64 attribute (handles, counters), bounds-checked like the reader's own getters. */
export function readAttrBE64 (r: AttributeReader): bigint {
  return r.be64()
}

// bitwise: dreg = (sreg & mask) ^ xor over len bytes (nft's prefix matches),
// or a shift by data (NFT_BITWISE_LSHIFT / RSHIFT).
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import {
  NFTA_BITWISE_DATA, NFTA_BITWISE_DREG, NFTA_BITWISE_LEN, NFTA_BITWISE_MASK, NFTA_BITWISE_OP, NFTA_BITWISE_SREG, NFTA_BITWISE_XOR
} from '../constants.js'
import { decodeNftData, writeNftData, type NftData } from '../data.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface BitwiseExpression {
  type: 'bitwise'
  sreg: number
  dreg: number
  len: number
  /** NFT_BITWISE_MASK_XOR (the kernel's default; nft 1.0.6 does not send it), LSHIFT, RSHIFT. */
  op?: number
  mask?: NftData
  xor?: NftData
  /** Shift amount for LSHIFT / RSHIFT. */
  data?: NftData
  unknown?: RawAttribute[]
}

export const bitwiseDriver: NftExpressionDriver<BitwiseExpression> = {
  name: 'bitwise',
  decode (r) {
    const e: BitwiseExpression = { type: 'bitwise', sreg: 0, dreg: 0, len: 0 }
    while (r.next()) {
      switch (r.type) {
        case NFTA_BITWISE_SREG: e.sreg = r.be32(); break
        case NFTA_BITWISE_DREG: e.dreg = r.be32(); break
        case NFTA_BITWISE_LEN: e.len = r.be32(); break
        case NFTA_BITWISE_OP: e.op = r.be32(); break
        case NFTA_BITWISE_MASK: e.mask = decodeNftData(r); break
        case NFTA_BITWISE_XOR: e.xor = decodeNftData(r); break
        case NFTA_BITWISE_DATA: e.data = decodeNftData(r); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    w.be32(NFTA_BITWISE_SREG, e.sreg)
    w.be32(NFTA_BITWISE_DREG, e.dreg)
    w.be32(NFTA_BITWISE_LEN, e.len)
    if (e.op !== undefined) w.be32(NFTA_BITWISE_OP, e.op)
    if (e.mask !== undefined) writeNftData(w, NFTA_BITWISE_MASK, e.mask)
    if (e.xor !== undefined) writeNftData(w, NFTA_BITWISE_XOR, e.xor)
    if (e.data !== undefined) writeNftData(w, NFTA_BITWISE_DATA, e.data)
    writeUnknownAttributes(w, e)
  }
}

// cmp: compare a register with a constant (NFT_CMP_EQ, NEQ, LT, ...).
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import { NFTA_CMP_DATA, NFTA_CMP_OP, NFTA_CMP_SREG } from '../constants.js'
import { decodeNftData, writeNftData, type NftData } from '../data.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface CmpExpression {
  type: 'cmp'
  sreg: number
  /** NFT_CMP_EQ, NFT_CMP_NEQ, ... */
  op: number
  data: NftData
  unknown?: RawAttribute[]
}

export const cmpDriver: NftExpressionDriver<CmpExpression> = {
  name: 'cmp',
  decode (r) {
    const e: CmpExpression = { type: 'cmp', sreg: 0, op: 0, data: {} }
    while (r.next()) {
      switch (r.type) {
        case NFTA_CMP_SREG: e.sreg = r.be32(); break
        case NFTA_CMP_OP: e.op = r.be32(); break
        case NFTA_CMP_DATA: e.data = decodeNftData(r); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    w.be32(NFTA_CMP_SREG, e.sreg)
    w.be32(NFTA_CMP_OP, e.op)
    writeNftData(w, NFTA_CMP_DATA, e.data)
    writeUnknownAttributes(w, e)
  }
}

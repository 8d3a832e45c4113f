// immediate: load a constant into a register; into NFT_REG_VERDICT it is the
// rule's verdict (accept, drop, return, jump CHAIN, goto CHAIN).
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import { NFTA_IMMEDIATE_DATA, NFTA_IMMEDIATE_DREG } from '../constants.js'
import { decodeNftData, writeNftData, type NftData } from '../data.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface ImmediateExpression {
  type: 'immediate'
  dreg: number
  data: NftData
  unknown?: RawAttribute[]
}

export const immediateDriver: NftExpressionDriver<ImmediateExpression> = {
  name: 'immediate',
  decode (r) {
    const e: ImmediateExpression = { type: 'immediate', dreg: 0, data: {} }
    while (r.next()) {
      switch (r.type) {
        case NFTA_IMMEDIATE_DREG: e.dreg = r.be32(); break
        case NFTA_IMMEDIATE_DATA: e.data = decodeNftData(r); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    w.be32(NFTA_IMMEDIATE_DREG, e.dreg)
    writeNftData(w, NFTA_IMMEDIATE_DATA, e.data)
    writeUnknownAttributes(w, e)
  }
}

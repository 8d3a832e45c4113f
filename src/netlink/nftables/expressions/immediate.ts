// immediate: load a constant into a register; into NFT_REG_VERDICT it is the
// rule's verdict (accept, drop, return, jump CHAIN, goto CHAIN).
import type { RawAttribute } from '../../attributes.js'
import { NFTA_IMMEDIATE_DATA, NFTA_IMMEDIATE_DREG } from '../constants.js'
import { decodeData, writeData, type NftData } from '../data.js'
import { keepUnknown, writeUnknown, type ExpressionDriver } from './registry.js'

export interface ImmediateExpression {
  type: 'immediate'
  dreg: number
  data: NftData
  unknown?: RawAttribute[]
}

export const immediateDriver: ExpressionDriver<ImmediateExpression> = {
  name: 'immediate',
  decode (r) {
    const e: ImmediateExpression = { type: 'immediate', dreg: 0, data: {} }
    while (r.next()) {
      switch (r.type) {
        case NFTA_IMMEDIATE_DREG: e.dreg = r.be32(); break
        case NFTA_IMMEDIATE_DATA: e.data = decodeData(r); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    w.be32(NFTA_IMMEDIATE_DREG, e.dreg)
    writeData(w, NFTA_IMMEDIATE_DATA, e.data)
    writeUnknown(w, e)
  }
}

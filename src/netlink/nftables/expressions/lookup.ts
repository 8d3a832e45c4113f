// lookup: match (or map) a register against a named or anonymous set.
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import { NFTA_LOOKUP_DREG, NFTA_LOOKUP_FLAGS, NFTA_LOOKUP_SET, NFTA_LOOKUP_SET_ID, NFTA_LOOKUP_SREG } from '../constants.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface LookupExpression {
  type: 'lookup'
  set?: string
  setId?: number
  sreg?: number
  dreg?: number
  /** NFT_LOOKUP_F_INV: match when the key is not in the set. */
  flags?: number
  unknown?: RawAttribute[]
}

export const lookupDriver: NftExpressionDriver<LookupExpression> = {
  name: 'lookup',
  decode (r) {
    const e: LookupExpression = { type: 'lookup' }
    while (r.next()) {
      switch (r.type) {
        case NFTA_LOOKUP_SET: e.set = r.string(); break
        case NFTA_LOOKUP_SET_ID: e.setId = r.be32(); break
        case NFTA_LOOKUP_SREG: e.sreg = r.be32(); break
        case NFTA_LOOKUP_DREG: e.dreg = r.be32(); break
        case NFTA_LOOKUP_FLAGS: e.flags = r.be32(); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  // libnftnl's order: sreg, dreg, set, set id, flags.
  encode (w, e) {
    if (e.sreg !== undefined) w.be32(NFTA_LOOKUP_SREG, e.sreg)
    if (e.dreg !== undefined) w.be32(NFTA_LOOKUP_DREG, e.dreg)
    if (e.set !== undefined) w.string(NFTA_LOOKUP_SET, e.set)
    if (e.setId !== undefined) w.be32(NFTA_LOOKUP_SET_ID, e.setId)
    if (e.flags !== undefined) w.be32(NFTA_LOOKUP_FLAGS, e.flags)
    writeUnknownAttributes(w, e)
  }
}

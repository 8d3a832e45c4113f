// meta: load (dreg) or set (sreg) packet metadata: iifname, nfproto, mark ...
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import { NFTA_META_DREG, NFTA_META_KEY, NFTA_META_SREG } from '../constants.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface MetaExpression {
  type: 'meta'
  /** NFT_META_IIFNAME, NFT_META_NFPROTO, ... */
  key: number
  dreg?: number
  sreg?: number
  unknown?: RawAttribute[]
}

export const metaDriver: NftExpressionDriver<MetaExpression> = {
  name: 'meta',
  decode (r) {
    const e: MetaExpression = { type: 'meta', key: 0 }
    while (r.next()) {
      switch (r.type) {
        case NFTA_META_KEY: e.key = r.be32(); break
        case NFTA_META_DREG: e.dreg = r.be32(); break
        case NFTA_META_SREG: e.sreg = r.be32(); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    w.be32(NFTA_META_KEY, e.key)
    if (e.dreg !== undefined) w.be32(NFTA_META_DREG, e.dreg)
    if (e.sreg !== undefined) w.be32(NFTA_META_SREG, e.sreg)
    writeUnknownAttributes(w, e)
  }
}

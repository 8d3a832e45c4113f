// masq: source NAT to the outgoing interface's address (nat chains only).
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import { NFTA_MASQ_FLAGS, NFTA_MASQ_REG_PROTO_MAX, NFTA_MASQ_REG_PROTO_MIN } from '../constants.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface MasqExpression {
  type: 'masq'
  /** NF_NAT_RANGE_* (random, persistent, fully-random). */
  flags?: number
  regProtoMin?: number
  regProtoMax?: number
  unknown?: RawAttribute[]
}

export const masqDriver: NftExpressionDriver<MasqExpression> = {
  name: 'masq',
  decode (r) {
    const e: MasqExpression = { type: 'masq' }
    while (r.next()) {
      switch (r.type) {
        case NFTA_MASQ_FLAGS: e.flags = r.be32(); break
        case NFTA_MASQ_REG_PROTO_MIN: e.regProtoMin = r.be32(); break
        case NFTA_MASQ_REG_PROTO_MAX: e.regProtoMax = r.be32(); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    if (e.flags !== undefined) w.be32(NFTA_MASQ_FLAGS, e.flags)
    if (e.regProtoMin !== undefined) w.be32(NFTA_MASQ_REG_PROTO_MIN, e.regProtoMin)
    if (e.regProtoMax !== undefined) w.be32(NFTA_MASQ_REG_PROTO_MAX, e.regProtoMax)
    writeUnknownAttributes(w, e)
  }
}

// payload: load bytes from a packet header into a register (or store them).
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import {
  NFTA_PAYLOAD_BASE, NFTA_PAYLOAD_CSUM_FLAGS, NFTA_PAYLOAD_CSUM_OFFSET, NFTA_PAYLOAD_CSUM_TYPE, NFTA_PAYLOAD_DREG,
  NFTA_PAYLOAD_LEN, NFTA_PAYLOAD_OFFSET, NFTA_PAYLOAD_SREG
} from '../constants.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface PayloadExpression {
  type: 'payload'
  /** NFT_PAYLOAD_LL_HEADER / NETWORK_HEADER / TRANSPORT_HEADER / INNER_HEADER */
  base: number
  offset: number
  len: number
  /** Load into this register... */
  dreg?: number
  /** ...or write this register into the packet. */
  sreg?: number
  csumType?: number
  csumOffset?: number
  csumFlags?: number
  unknown?: RawAttribute[]
}

export const payloadDriver: NftExpressionDriver<PayloadExpression> = {
  name: 'payload',
  decode (r) {
    const e: PayloadExpression = { type: 'payload', base: 0, offset: 0, len: 0 }
    while (r.next()) {
      switch (r.type) {
        case NFTA_PAYLOAD_DREG: e.dreg = r.be32(); break
        case NFTA_PAYLOAD_BASE: e.base = r.be32(); break
        case NFTA_PAYLOAD_OFFSET: e.offset = r.be32(); break
        case NFTA_PAYLOAD_LEN: e.len = r.be32(); break
        case NFTA_PAYLOAD_SREG: e.sreg = r.be32(); break
        case NFTA_PAYLOAD_CSUM_TYPE: e.csumType = r.be32(); break
        case NFTA_PAYLOAD_CSUM_OFFSET: e.csumOffset = r.be32(); break
        case NFTA_PAYLOAD_CSUM_FLAGS: e.csumFlags = r.be32(); break
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    if (e.sreg !== undefined) w.be32(NFTA_PAYLOAD_SREG, e.sreg)
    if (e.dreg !== undefined) w.be32(NFTA_PAYLOAD_DREG, e.dreg)
    w.be32(NFTA_PAYLOAD_BASE, e.base)
    w.be32(NFTA_PAYLOAD_OFFSET, e.offset)
    w.be32(NFTA_PAYLOAD_LEN, e.len)
    if (e.csumType !== undefined) w.be32(NFTA_PAYLOAD_CSUM_TYPE, e.csumType)
    if (e.csumOffset !== undefined) w.be32(NFTA_PAYLOAD_CSUM_OFFSET, e.csumOffset)
    if (e.csumFlags !== undefined) w.be32(NFTA_PAYLOAD_CSUM_FLAGS, e.csumFlags)
    writeUnknownAttributes(w, e)
  }
}

// counter: packets and bytes (be64) that matched so far.
import { keepUnknown, type RawAttribute } from '../../attributes.js'
import { NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS, NFTA_COUNTER_PAD } from '../constants.js'
import { readAttrBE64 } from '../data.js'
import { writeUnknownAttributes, type NftExpressionDriver } from './registry.js'

export interface CounterExpression {
  type: 'counter'
  bytes?: bigint
  packets?: bigint
  unknown?: RawAttribute[]
}

export const counterDriver: NftExpressionDriver<CounterExpression> = {
  name: 'counter',
  decode (r) {
    const e: CounterExpression = { type: 'counter' }
    while (r.next()) {
      switch (r.type) {
        case NFTA_COUNTER_BYTES: e.bytes = readAttrBE64(r); break
        case NFTA_COUNTER_PACKETS: e.packets = readAttrBE64(r); break
        case NFTA_COUNTER_PAD: break // alignment filler, carries nothing
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    if (e.bytes !== undefined) w.be64(NFTA_COUNTER_BYTES, e.bytes)
    if (e.packets !== undefined) w.be64(NFTA_COUNTER_PACKETS, e.packets)
    writeUnknownAttributes(w, e)
  }
}


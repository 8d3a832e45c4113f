// counter: packets and bytes (be64) that matched so far.
import type { RawAttribute } from '../../attributes.js'
import { NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS, NFTA_COUNTER_PAD } from '../constants.js'
import { readBE64 } from '../data.js'
import { keepUnknown, writeUnknown, type ExpressionDriver } from './registry.js'

export interface CounterExpression {
  type: 'counter'
  bytes?: bigint
  packets?: bigint
  unknown?: RawAttribute[]
}

export const counterDriver: ExpressionDriver<CounterExpression> = {
  name: 'counter',
  decode (r) {
    const e: CounterExpression = { type: 'counter' }
    while (r.next()) {
      switch (r.type) {
        case NFTA_COUNTER_BYTES: e.bytes = readBE64(r); break
        case NFTA_COUNTER_PACKETS: e.packets = readBE64(r); break
        case NFTA_COUNTER_PAD: break // alignment filler, carries nothing
        default: keepUnknown(e, r)
      }
    }
    return e
  },
  encode (w, e) {
    if (e.bytes !== undefined) w.be64(NFTA_COUNTER_BYTES, e.bytes)
    if (e.packets !== undefined) w.be64(NFTA_COUNTER_PACKETS, e.packets)
    writeUnknown(w, e)
  }
}


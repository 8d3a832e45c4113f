// The fixed C header after the nlmsghdr of each route-family message
// (ifinfomsg, ifaddrmsg, rtmsg, ndmsg, fib_rule_hdr, nhmsg), described once
// as a table of fields: its reader, its writer and its size check come from
// it, as an attribute set's codecs come from its FieldTable.
import { AttributeReader, type NetlinkWriter, type RawAttribute, readU16, readU32 } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { type FieldTable, decodeSet, encodeSet } from './attribute-set.js'

/** How a header field is stored (little-endian, host order on this kernel). */
export type HeaderScalar = 'u8' | 'u16' | 'u32' | 's32'

/** A row: the field, its byte offset, how it is stored. Bytes not listed (padding) read nothing and write 0. */
export type HeaderField<T> = readonly [key: keyof T & string, offset: number, type: HeaderScalar]

type Reader<T> = (buf: Uint8Array, start: number) => T

export class MessageHeader<T extends object> {
  private reader: Reader<T> | undefined

  /** `name` is the C struct's (for errors); `size` its sizeof. */
  constructor (readonly name: string, readonly size: number, readonly fields: ReadonlyArray<HeaderField<T>>) {}

  /** The header at buf[start], after checking that [start, end) holds it. */
  read (buf: Uint8Array, start: number, end: number): T {
    if (start < 0 || end > buf.length || end - start < this.size) {
      throw new NetlinkDecodeError(`${this.name} needs ${this.size} bytes, the message has ${end - start}`, start)
    }
    this.reader ??= compileReader(this.fields)
    return this.reader(buf, start)
  }

  /** Reserves the header in w and writes every field of v. */
  write (w: NetlinkWriter, v: T): void {
    const off = w.reserve(this.size)
    for (const [key, offset, type] of this.fields) {
      const n = v[key] as number
      switch (type) {
        case 'u8': w.setU8(off + offset, n); break
        case 'u16': w.setU16(off + offset, n); break
        case 'u32': w.setU32(off + offset, n); break
        case 's32': w.setS32(off + offset, n); break
      }
    }
  }
}

// One object literal of the header's fields in their order: a dump's
// messages all get one hidden class, and no loop runs per message (link
// dumps decode a header per link). The source holds only offsets and
// JSON-quoted field names.
function compileReader<T> (fields: ReadonlyArray<HeaderField<T>>): Reader<T> {
  const read: Record<HeaderScalar, (o: string) => string> = {
    u8: o => `b[s + ${o}]`,
    u16: o => `readU16(b, s + ${o})`,
    u32: o => `readU32(b, s + ${o})`,
    s32: o => `readU32(b, s + ${o}) | 0`
  }
  const body = fields.map(([key, offset, type]) => `${JSON.stringify(key)}: ${read[type](String(offset))}`).join(',\n  ')
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('readU16', 'readU32', `return function readHeader (b, s) {\n  return {\n  ${body}\n  }\n}`)(readU16, readU32) as Reader<T>
}

/** A message of the route family as its codecs see it: the header's fields, then its attribute set and their order. */
export type HeaderMessage<H, A> = H & { attributes: A, attributeOrder?: number[] }

/** Encoder and decoder of one message type (the payload after the nlmsghdr). */
export interface MessageCodec<M> {
  encode: (w: NetlinkWriter, m: M) => void
  decode: (buf: Uint8Array, start: number, end: number) => M
}

/**
 * The codec of a message that is a fixed header and one attribute set
 * (addresses, routes, neighbours, rules, nexthop objects): decode records
 * the attributes' order, encode replays it. `context` gives the attribute
 * codecs what they need from the header (a route's family).
 */
export function headerMessageCodec<H extends object, A extends { unknown?: RawAttribute[] }, C> (
  header: MessageHeader<H>, fields: FieldTable<A, C>, context: (h: H) => C
): MessageCodec<HeaderMessage<H, A>> {
  return {
    encode (w, m) {
      header.write(w, m)
      encodeSet(w, fields, m.attributes, m.attributeOrder, context(m))
    },
    decode (buf, start, end) {
      const h = header.read(buf, start, end)
      const attributeOrder: number[] = []
      const attributes = decodeSet(new AttributeReader(buf, start + header.size, end), fields, {} as A, attributeOrder, context(h))
      return Object.assign(h, { attributes, attributeOrder })
    }
  }
}

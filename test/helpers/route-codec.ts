// Shared checks for the rtnetlink codec tests: every message of a fixture,
// and a decode → encode round trip. (Decoders fed truncated or corrupted
// bytes: fuzzDecoder in fuzz.ts.)
import { NetlinkWriter } from '../../src/netlink/attributes.js'
import { forEachMessage } from '../../src/netlink/message.js'

export interface FixtureMessage {
  type: number
  flags: number
  seq: number
  pid: number
  start: number
  end: number
  /** The whole message, header included. */
  bytes: Buffer
}

export function messagesOf (buf: Buffer): FixtureMessage[] {
  const out: FixtureMessage[] = []
  forEachMessage(buf, (type, flags, seq, pid, start, end) => {
    out.push({ type, flags, seq, pid, start, end, bytes: buf.subarray(start - 16, end) })
  })
  return out
}

/** Re-encodes a decoded message under the same header; returns the message bytes. */
export function reencode<M> (msg: FixtureMessage, decoded: M, encode: (w: NetlinkWriter, m: M) => void): Buffer {
  const w = new NetlinkWriter(64)
  w.beginMessage(msg.type, msg.flags, msg.seq, msg.pid)
  encode(w, decoded)
  w.endMessage()
  return Buffer.from(w.bytes())
}

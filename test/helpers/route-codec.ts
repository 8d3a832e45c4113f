// Shared checks for the address, route and neighbour codec tests: every
// message of a fixture, a decode → encode round trip, and decoders fed
// truncated or corrupted bytes (only NetlinkDecodeError may come out).
import { NetlinkDecodeError } from '../../src/netlink/errors.js'
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

/** Deterministic pseudo-random numbers (xorshift32) so failures reproduce. */
export function rng (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x / 0x100000000
  }
}

/**
 * Feeds decode every truncation of the payload and many corrupted copies.
 * Returns the errors that were not NetlinkDecodeError (expected: none) and
 * how many inputs were tried.
 */
export function fuzzDecoder (payload: Uint8Array, decode: (buf: Uint8Array, start: number, end: number) => unknown, seed = 1): { bad: string[], tried: number } {
  const bad: string[] = []
  let tried = 0
  const attempt = (buf: Uint8Array, start: number, end: number, what: string): void => {
    tried++
    try { decode(buf, start, end) } catch (err) {
      if (!(err instanceof NetlinkDecodeError)) bad.push(`${what}: ${(err as Error).name}: ${(err as Error).message}`)
    }
  }
  for (let t = 0; t <= payload.length; t++) attempt(payload, 0, t, `truncated to ${t}`)
  // Inside a larger buffer too: the decoder must stop at `end`, not at the buffer's end.
  const padded = new Uint8Array(payload.length + 64).fill(0xff)
  padded.set(payload, 8)
  for (let t = 0; t <= payload.length; t += 3) attempt(padded, 8, 8 + t, `truncated to ${t} inside a larger buffer`)
  const rand = rng(seed)
  for (let i = 0; i < 400; i++) {
    const copy = Uint8Array.from(payload)
    const flips = 1 + Math.floor(rand() * 4)
    for (let f = 0; f < flips; f++) {
      const pos = Math.floor(rand() * copy.length)
      const r = rand()
      copy[pos] = r < 0.3 ? 0 : r < 0.6 ? 0xff : Math.floor(rand() * 256)
    }
    attempt(copy, 0, copy.length, `corrupted copy ${i}`)
  }
  return { bad, tried }
}

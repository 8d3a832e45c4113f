// Loads fixture files written by scripts/record-fixture.mjs (real netlink
// bytes recorded under strace) for decoder and encoder tests.
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Fixture {
  description: string
  command: string
  how: string
  recorded: string
  direction: 'request' | 'reply'
  hex: string
  /** What the traced command printed (record-fixture.mjs --output), parsed when JSON: iproute2's reading of these bytes. */
  output?: unknown
  /** The hex decoded: one or more whole netlink messages. */
  bytes: Buffer
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Reads a fixture; a relative path is taken from the repository root (e.g. "fixtures/link/x.json"). */
export function loadFixture (path: string): Fixture {
  const file = isAbsolute(path) ? path : join(repoRoot, path)
  const json = JSON.parse(readFileSync(file, 'utf8')) as Omit<Fixture, 'bytes'>
  if (typeof json.hex !== 'string' || !/^([0-9a-f]{2})*$/i.test(json.hex)) throw new Error(`${file}: "hex" is not an even-length hex string`)
  return { ...json, bytes: Buffer.from(json.hex, 'hex') }
}

/**
 * A copy of buf with nlmsg_seq and nlmsg_pid zeroed in every message, so a
 * request we encode compares with a recorded one (sockets stamp both).
 */
export function normaliseSeqPid (buf: Uint8Array): Buffer {
  const out = Buffer.from(buf)
  let off = 0
  while (off + 16 <= out.length) {
    const len = out.readUInt32LE(off)
    if (len < 16 || off + len > out.length) throw new Error(`normaliseSeqPid: bad message length ${len} at byte ${off}`)
    out.writeUInt32LE(0, off + 8)
    out.writeUInt32LE(0, off + 12)
    off += (len + 3) & ~3
  }
  return out
}

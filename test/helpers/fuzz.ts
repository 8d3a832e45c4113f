// Shared pieces of the decoder fuzz tests: a seeded PRNG, a corpus from the
// recorded fixtures, and mutations (byte flips, truncations, lengths past the
// end, zero-length attributes, deep nesting, splices).
import { readdirSync } from 'node:fs'
import { loadFixture } from './fixtures.js'

/** mulberry32: small, fast, good enough to spread mutations. */
export function prng (s: number): () => number {
  let a = s >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 0x100000000
  }
}

/** The seed from env var NAME, or a random one (printed by the test so a failure reproduces). */
export function fuzzSeed (name: string): number {
  return process.env[name] !== undefined ? Number(process.env[name]) >>> 0 : (Math.random() * 0x100000000) >>> 0
}

/** Every fixture of the given directories, plus each of their messages alone. */
export function fixtureCorpus (...dirs: string[]): Buffer[] {
  const corpus: Buffer[] = []
  for (const dir of dirs) {
    for (const f of readdirSync(new URL(`../../${dir}/`, import.meta.url)).filter(f => f.endsWith('.json'))) {
      corpus.push(loadFixture(`${dir}/${f}`).bytes)
    }
  }
  for (const b of corpus.slice()) {
    for (let off = 0; off + 16 <= b.length;) {
      const len = b.readUInt32LE(off)
      if (len < 16 || off + len > b.length) break
      corpus.push(Buffer.from(b.subarray(off, off + len)))
      off += (len + 3) & ~3
    }
  }
  return corpus
}

export interface MutationSources {
  corpus: Buffer[]
  /** A valid message nesting `depth` levels deep. */
  deep: (depth: number, rnd: () => number) => Buffer
}

export function mutate (src: Buffer, rnd: () => number, from: MutationSources): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n)
  let b = Buffer.from(src)
  switch (pick(9)) {
    case 0: // flip a few bytes
      for (let i = 1 + pick(4); i > 0; i--) b[pick(b.length)] = pick(256)
      break
    case 1: // truncate
      b = b.subarray(0, pick(b.length + 1))
      break
    case 2: { // an attribute-length-shaped u16 at a 4-byte boundary set past the end, or huge
      const o = pick(b.length >> 2) << 2
      if (o + 2 <= b.length) b.writeUInt16LE(rnd() < 0.5 ? b.length - o + 4 + pick(64) : 0xffff - pick(16), o)
      break
    }
    case 3: { // zero-length attribute (header only) or a length below the header
      const o = pick(b.length >> 2) << 2
      if (o + 2 <= b.length) b.writeUInt16LE(pick(5), o)
      break
    }
    case 4: // nlmsg_len past the end or below the header
      if (b.length >= 4) b.writeUInt32LE(rnd() < 0.5 ? b.length + 1 + pick(100) : pick(16), 0)
      break
    case 5: // random bytes after a plausible header
      b = Buffer.concat([b.subarray(0, Math.min(b.length, 20)), Buffer.from(Array.from({ length: pick(200) }, () => pick(256)))])
      if (b.length >= 4) b.writeUInt32LE(b.length, 0)
      break
    case 6: // deep nesting
      b = from.deep(1 + pick(400), rnd)
      if (rnd() < 0.5) b = b.subarray(0, pick(b.length + 1))
      break
    case 7: { // splice two corpus entries
      const other = from.corpus[pick(from.corpus.length)]!
      b = Buffer.concat([b.subarray(0, pick(b.length + 1)), other.subarray(pick(other.length + 1))])
      break
    }
    default: // several mutations at once
      for (let i = 0; i < 3; i++) b = mutate(b, rnd, from)
  }
  return b
}

/** Random bytes, or a mutation of a corpus entry. */
export function fuzzInput (rnd: () => number, from: MutationSources): Buffer {
  return rnd() < 0.02
    ? Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)))
    : mutate(from.corpus[Math.floor(rnd() * from.corpus.length)]!, rnd, from)
}

/** What a decodeAll may throw: the typed decode error only. */
export type Allowed = (err: unknown) => boolean

/**
 * Feeds `iterations` inputs to decodeAll; fails the test (with the seed and
 * the input) on the first exception that `allowed` rejects.
 */
export function runFuzz (t: { comment: (m: string) => void, fail: (m: string) => void, ok: (v: boolean, m: string) => void },
  options: { seed: number, iterations: number, sources: MutationSources, decodeAll: (b: Buffer) => void, allowed: Allowed }): void {
  const rnd = prng(options.seed)
  const started = Date.now()
  let decoded = 0
  let rejected = 0
  for (let i = 0; i < options.iterations; i++) {
    const input = fuzzInput(rnd, options.sources)
    try {
      options.decodeAll(input)
      decoded++
    } catch (err) {
      if (options.allowed(err)) { rejected++; continue }
      t.fail(`iteration ${i}, seed ${options.seed}: ${(err as Error).stack ?? String(err)}\ninput: ${input.toString('hex')}`)
      return
    }
  }
  t.comment(`${options.iterations} inputs in ${Date.now() - started} ms: ${decoded} decoded, ${rejected} rejected`)
  t.ok(decoded > 1000 && rejected > 1000, 'the mutations produce both valid and invalid inputs')
}

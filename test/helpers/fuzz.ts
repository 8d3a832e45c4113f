// The decoder fuzzing of every test: one seeded PRNG, one driver, and the
// checked-in corpus of every input that ever failed.
//
// - prng(seed): the one PRNG of the tests (mulberry32). Seeds are fixed in
//   the tests, so every run feeds the same inputs; FUZZ_SEED=<n> overrides
//   the seed of runFuzz to hunt with other inputs.
// - Inputs: whole messages mutated from the recorded fixtures (runFuzz:
//   byte flips, truncations, lengths past the end, zero-length attributes,
//   deep nesting, splices), or one payload truncated at every length and
//   corrupted (fuzzDecoder).
// - The driver (drive) first replays fixtures/fuzz-corpus/<target>/*.json,
//   every input that once made the target throw anything but the typed
//   decode error, then the generated inputs.
//
// Adding a crasher: a failing run prints the file to add, its name and JSON
// content; or rerun the failing test with FUZZ_SAVE_CRASHERS=1 and it is
// written there. Fill in "description" (what broke, what fixed it), fix the
// decoder, and commit the file with the fix. See fixtures/fuzz-corpus/README.md.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { NetlinkDecodeError } from '../../src/netlink/errors.js'
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

/** The fixed seed of a fuzz test, unless FUZZ_SEED names another (to hunt for new crashers). */
export function fuzzSeed (fixed: number): number {
  return process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : fixed >>> 0
}

// ---- the corpus of past crashers ----

const CORPUS_ROOT = new URL('../../fixtures/fuzz-corpus/', import.meta.url)

/** One file of fixtures/fuzz-corpus/<target>/. */
export interface Crasher {
  /** What it broke and what fixed it. */
  description: string
  /** The test, seed and iteration (or case) that found it. */
  found: string
  /** The input, hex. */
  hex: string
  /** The decoder was given bytes [start, end) of the input; the whole input when absent. */
  window?: [number, number]
}

/** Every crasher recorded for a target (none when its directory does not exist yet). */
export function crashers (target: string): Array<Crasher & { file: string }> {
  const dir = new URL(`${target}/`, CORPUS_ROOT)
  if (!existsSync(dir)) return []
  return readdirSync(dir).filter(f => f.endsWith('.json')).sort().map(f => {
    const c = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Crasher
    if (typeof c.hex !== 'string' || !/^([0-9a-f]{2})*$/.test(c.hex)) throw new Error(`fixtures/fuzz-corpus/${target}/${f}: "hex" is not hex`)
    return { ...c, file: `fixtures/fuzz-corpus/${target}/${f}` }
  })
}

/** One input for a decoder: bytes [start, end) of buf. */
export interface FuzzCase {
  buf: Uint8Array
  start: number
  end: number
  /** How it was made, for the failure report ("iteration 17", "truncated to 9"). */
  what: string
}

/** What a decoder may throw: the typed decode error only, usually. */
export type Allowed = (err: unknown) => boolean

export interface FuzzOutcome {
  tried: number
  decoded: number
  rejected: number
  /** Past crashers replayed before the generated inputs. */
  replayed: number
  /** One report per input that threw something `allowed` refused. */
  bad: string[]
}

/** The report of a failing input: the error, and the corpus file that keeps it (written with FUZZ_SAVE_CRASHERS=1). */
function crasherReport (target: string, c: FuzzCase, found: string, err: unknown): string {
  const bytes = Buffer.from(c.buf.buffer, c.buf.byteOffset, c.buf.byteLength)
  const crasher: Crasher = {
    description: `TODO: what it broke (${(err as Error).name}: ${(err as Error).message}) and what fixed it`,
    found,
    hex: bytes.toString('hex'),
    ...(c.start !== 0 || c.end !== bytes.length ? { window: [c.start, c.end] as [number, number] } : {})
  }
  const name = `${createHash('sha256').update(crasher.hex).update(String(crasher.window ?? '')).digest('hex').slice(0, 12)}.json`
  const text = JSON.stringify(crasher, null, 2) + '\n'
  let saved = ''
  if (process.env.FUZZ_SAVE_CRASHERS === '1') {
    const dir = new URL(`${target}/`, CORPUS_ROOT)
    mkdirSync(dir, { recursive: true })
    writeFileSync(new URL(name, dir), text)
    saved = ' (written)'
  }
  return `${found}: ${(err as Error).stack ?? String(err)}\n` +
    `keep it as fixtures/fuzz-corpus/${target}/${name}${saved}:\n${text}`
}

/** What drive needs. */
export interface DriveOptions {
  /** The corpus directory's name: fixtures/fuzz-corpus/<target>/. */
  target: string
  /** The generated inputs, after the past crashers. */
  cases: Iterable<FuzzCase>
  decode: (buf: Uint8Array, start: number, end: number) => unknown
  allowed: Allowed
  /** Where a generated case came from, for its report ("rtnl fuzz, seed 5, iteration 17"). */
  found: (c: FuzzCase) => string
  /** Stop at the first failure (the whole-message fuzz tests), or report them all. */
  stopAtFirst?: boolean
  /** The past crashers; the target's corpus directory by default. */
  corpus?: Array<Crasher & { file: string }>
}

/**
 * The one fuzz driver: replays the target's past crashers, then the
 * generated cases, through decode; counts what decoded and what was
 * rejected with an allowed error, and reports every other exception.
 */
export function drive (o: DriveOptions): FuzzOutcome {
  const out: FuzzOutcome = { tried: 0, decoded: 0, rejected: 0, replayed: 0, bad: [] }
  const attempt = (c: FuzzCase, label: string): boolean => {
    out.tried++
    try {
      o.decode(c.buf, c.start, c.end)
      out.decoded++
    } catch (err) {
      if (o.allowed(err)) { out.rejected++; return true }
      out.bad.push(crasherReport(o.target, c, label, err))
      return o.stopAtFirst !== true
    }
    return true
  }
  for (const k of o.corpus ?? crashers(o.target)) {
    const buf = Buffer.from(k.hex, 'hex')
    out.replayed++
    if (!attempt({ buf, start: k.window?.[0] ?? 0, end: k.window?.[1] ?? buf.length, what: k.file }, `past crasher ${k.file} (${k.found})`)) return out
  }
  for (const c of o.cases) if (!attempt(c, o.found(c))) break
  return out
}

// ---- whole messages, mutated from the fixtures ----

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

/**
 * Feeds the target's past crashers and then `iterations` mutated messages
 * to decodeAll; fails the test (with the seed, the iteration and the corpus
 * file to add) on the first exception that `allowed` rejects.
 */
export function runFuzz (t: { comment: (m: string) => void, fail: (m: string) => void, ok: (v: boolean, m: string) => void },
  options: { target: string, seed: number, iterations: number, sources: MutationSources, decodeAll: (b: Buffer) => void, allowed: Allowed }): void {
  const rnd = prng(options.seed)
  const started = Date.now()
  function * cases (): Generator<FuzzCase> {
    for (let i = 0; i < options.iterations; i++) {
      const buf = fuzzInput(rnd, options.sources)
      yield { buf, start: 0, end: buf.length, what: `iteration ${i}` }
    }
  }
  const asBuffer = (b: Uint8Array, start: number, end: number): Buffer => {
    const whole = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
    return start === 0 && end === whole.length ? whole : whole.subarray(start, end)
  }
  const r = drive({
    target: options.target,
    cases: cases(),
    decode: (b, s, e) => { options.decodeAll(asBuffer(b, s, e)) },
    allowed: options.allowed,
    found: c => `${options.target} fuzz, seed ${options.seed}, ${c.what}`,
    stopAtFirst: true
  })
  if (r.bad.length > 0) { t.fail(r.bad[0]!); return }
  t.comment(`${r.replayed} past crashers replayed (fixtures/fuzz-corpus/${options.target}/), then ${options.iterations} inputs in ${Date.now() - started} ms: ` +
    `${r.decoded} decoded, ${r.rejected} rejected`)
  t.ok(r.decoded > 1000 && r.rejected > 1000, 'the mutations produce both valid and invalid inputs')
}

// ---- one payload, truncated and corrupted ----

/** Every truncation of the payload (alone, and inside a larger buffer), then `copies` corrupted copies. */
export function * payloadCases (payload: Uint8Array, seed: number, copies = 400): Generator<FuzzCase> {
  for (let t = 0; t <= payload.length; t++) yield { buf: payload, start: 0, end: t, what: `truncated to ${t}` }
  // Inside a larger buffer too: the decoder must stop at `end`, not at the buffer's end.
  const padded = new Uint8Array(payload.length + 64).fill(0xff)
  padded.set(payload, 8)
  for (let t = 0; t <= payload.length; t += 3) yield { buf: padded, start: 8, end: 8 + t, what: `truncated to ${t} inside a larger buffer` }
  const rand = prng(seed)
  for (let i = 0; i < copies; i++) {
    const copy = Uint8Array.from(payload)
    const flips = 1 + Math.floor(rand() * 4)
    for (let f = 0; f < flips; f++) {
      const pos = Math.floor(rand() * copy.length)
      const r = rand()
      copy[pos] = r < 0.3 ? 0 : r < 0.6 ? 0xff : Math.floor(rand() * 256)
    }
    yield { buf: copy, start: 0, end: copy.length, what: `corrupted copy ${i}` }
  }
}

/**
 * Feeds decode the past crashers of `target` (the decoder's name by
 * default), then every truncation of the payload and `copies` (400)
 * corrupted copies.
 * Returns the reports of errors other than `allowed` (NetlinkDecodeError
 * by default; expected: none), how many inputs were tried and rejected.
 */
export function fuzzDecoder (payload: Uint8Array, decode: (buf: Uint8Array, start: number, end: number) => unknown, seed: number,
  options: { target?: string, allowed?: Allowed, copies?: number } = {}): FuzzOutcome {
  const target = options.target ?? decode.name
  if (target === '') throw new Error('fuzzDecoder: name the target (an anonymous decode function has no name)')
  return drive({
    target,
    cases: payloadCases(payload, seed, options.copies),
    decode,
    allowed: options.allowed ?? (err => err instanceof NetlinkDecodeError),
    found: c => `fuzzDecoder ${target}, seed ${seed}, payload ${Buffer.from(payload).toString('hex')}, ${c.what}`
  })
}

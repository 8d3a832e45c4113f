// The fuzz driver and its corpus (test/helpers/fuzz.ts, fixtures/fuzz-corpus/):
// past crashers are replayed before the generated inputs, a failure names
// the corpus file that keeps it, every corpus file is well formed, and every
// corpus directory is replayed by some test.
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { crashers, drive, fuzzDecoder, payloadCases, prng, type Crasher, type FuzzCase } from '../helpers/fuzz.js'
import { NetlinkDecodeError } from '../../src/netlink/errors.js'

const corpusRoot = new URL('../../fixtures/fuzz-corpus/', import.meta.url)

t.test('the driver replays past crashers first, then the generated cases', async t => {
  const seen: string[] = []
  const corpus: Array<Crasher & { file: string }> = [
    { description: 'a test entry', found: 'by hand', hex: 'aa', file: 'fixtures/fuzz-corpus/x/1.json' },
    { description: 'a windowed test entry', found: 'by hand', hex: '00bbcc00', window: [1, 3], file: 'fixtures/fuzz-corpus/x/2.json' }
  ]
  const cases: FuzzCase[] = [{ buf: Buffer.from('dd', 'hex'), start: 0, end: 1, what: 'generated 0' }]
  const r = drive({
    target: 'x',
    corpus,
    cases,
    decode: (b, s, e) => { seen.push(Buffer.from(b.subarray(s, e)).toString('hex')) },
    allowed: () => false,
    found: c => c.what
  })
  t.strictSame(seen, ['aa', 'bbcc', 'dd'], 'crashers (their window) before the generated input')
  t.match(r, { tried: 3, decoded: 3, rejected: 0, replayed: 2, bad: [] })
})

t.test('a failure is reported with the corpus file that would keep it', async t => {
  const decode = (b: Uint8Array, s: number, e: number): void => {
    if (e - s === 3 && b[s] === 0xde) throw new RangeError('boom')
    if (e - s < 2) throw new NetlinkDecodeError('short', s)
  }
  const r = drive({
    target: 'x',
    corpus: [],
    cases: [0xde, 0xad, 0xbe].map((_, i, a) => ({ buf: Buffer.from(a), start: 0, end: i + 1, what: `truncated to ${i + 1}` })),
    decode,
    allowed: err => err instanceof NetlinkDecodeError,
    found: c => `test, ${c.what}`,
    stopAtFirst: true
  })
  t.match(r, { tried: 3, decoded: 1, rejected: 1, bad: [/^test, truncated to 3: RangeError: boom/] })
  const m = /keep it as (fixtures\/fuzz-corpus\/x\/[0-9a-f]{12}\.json):\n([\s\S]*)$/.exec(r.bad[0]!)
  t.ok(m, 'names the file to add')
  const kept = JSON.parse(m![2]!) as Crasher
  t.match(kept, { found: 'test, truncated to 3', hex: 'deadbe', description: /TODO/ })
  t.equal(kept.window, undefined, 'the whole input: no window')
  const again = drive({ target: 'x', corpus: [{ ...kept, file: m![1]! }], cases: [], decode, allowed: err => err instanceof NetlinkDecodeError, found: c => c.what })
  t.match(again, { replayed: 1, bad: [/^past crasher fixtures\/fuzz-corpus\/x\/.*RangeError: boom/] }, 'replayed, it fails again until the decoder is fixed')
})

t.test('fixed seeds: the same cases on every run', async t => {
  const a = [...payloadCases(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 9, 20)].map(c => Buffer.from(c.buf.subarray(c.start, c.end)).toString('hex'))
  const b = [...payloadCases(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 9, 20)].map(c => Buffer.from(c.buf.subarray(c.start, c.end)).toString('hex'))
  t.strictSame(a, b)
  const r1 = prng(42); const r2 = prng(42)
  t.strictSame(Array.from({ length: 5 }, r1), Array.from({ length: 5 }, r2))
  t.throws(() => fuzzDecoder(Uint8Array.of(1), (() => () => 0)(), 1), /name the target/, 'an anonymous decoder must be given a target name')
})

t.test('every corpus file is well formed and replayed by some fuzz test', async t => {
  t.ok(existsSync(new URL('README.md', corpusRoot)), 'fixtures/fuzz-corpus/README.md says how to add a crasher')
  const tests = readdirSync(new URL('./', import.meta.url)).filter(f => f.endsWith('.test.ts')).map(f => readFileSync(new URL(f, import.meta.url), 'utf8')).join('\n')
  const dirs = readdirSync(corpusRoot, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name)
  let files = 0
  for (const dir of dirs) {
    const used = tests.includes(`target: '${dir}'`) || new RegExp(`fuzzDecoder\\([^\\n]*\\b${dir}\\b`).test(tests)
    t.ok(used, `fixtures/fuzz-corpus/${dir}/ is a target of runFuzz or fuzzDecoder in test/netlink`)
    for (const c of crashers(dir)) {
      files++
      t.ok(c.description.length > 0 && !c.description.includes('TODO'), `${c.file}: says what broke and what fixed it`)
      t.ok(c.found.length > 0, `${c.file}: says how it was found`)
      if (c.window !== undefined) t.ok(c.window[0] <= c.window[1] && c.window[1] <= c.hex.length / 2, `${c.file}: window inside the input`)
    }
  }
  t.comment(`${files} crashers in ${dirs.length} targets`)
})

// Fuzzing the nf_tables decoders: random and mutated messages (from the
// recorded fixtures: byte flips, truncations, lengths past the end,
// zero-length attributes, deep nesting) must decode or raise
// NetlinkDecodeError, nothing else. Reproduce a failure with
// NFT_FUZZ_SEED=<seed> npx tap test/netlink/nft-fuzz.test.ts
import t from 'tap'
import { readdirSync } from 'node:fs'
import { loadFixture } from '../helpers/fixtures.js'
import { NetlinkDecodeError, NetlinkWriter, NLA_F_NESTED } from '../../src/netlink/index.js'
import {
  decodeNftMessages, decodeTable, decodeChain, decodeRule, decodeGeneration, decodeNftUserdata, writeNewRule, writeNewChain,
  nftMessageType, NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWGEN, NFTA_RULE_EXPRESSIONS, NFTA_LIST_ELEM,
  NFTA_EXPR_NAME, NFTA_EXPR_DATA, NFTA_RULE_TABLE, NFTA_RULE_CHAIN, NFTA_CMP_DATA, NFTA_DATA_VERDICT, NFTA_CHAIN_HOOK,
  beginNftMessage, NFPROTO_INET
} from '../../src/netlink/nftables/index.js'

const ITERATIONS = 120_000
const seed = process.env.NFT_FUZZ_SEED !== undefined ? Number(process.env.NFT_FUZZ_SEED) >>> 0 : (Math.random() * 0x100000000) >>> 0

// mulberry32: small, fast, good enough to spread mutations.
function prng (s: number): () => number {
  let a = s >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 0x100000000
  }
}

const fixtureDir = new URL('../../fixtures/nft/', import.meta.url)
const corpus: Buffer[] = readdirSync(fixtureDir).filter(f => f.endsWith('.json')).map(f => loadFixture(`fixtures/nft/${f}`).bytes)
// Single messages too, so mutations hit each message's inner attributes.
for (const b of corpus.slice()) {
  for (let off = 0; off + 16 <= b.length;) {
    const len = b.readUInt32LE(off)
    if (len < 16 || off + len > b.length) break
    corpus.push(Buffer.from(b.subarray(off, off + len)))
    off += (len + 3) & ~3
  }
}

/** A NEWRULE whose expression data nests depth levels deep (NFTA_CMP_DATA → NFTA_DATA_VERDICT → ...). */
function deepRule (depth: number, rnd: () => number): Buffer {
  const w = new NetlinkWriter(64 + depth * 8)
  beginNftMessage(w, NFT_MSG_NEWRULE, 0, NFPROTO_INET)
  w.string(NFTA_RULE_TABLE, 't')
  w.string(NFTA_RULE_CHAIN, 'c')
  const offs: number[] = [w.beginNested(NFTA_RULE_EXPRESSIONS | NLA_F_NESTED), w.beginNested(NFTA_LIST_ELEM | NLA_F_NESTED)]
  w.string(NFTA_EXPR_NAME, rnd() < 0.5 ? 'cmp' : 'immediate')
  offs.push(w.beginNested(NFTA_EXPR_DATA | NLA_F_NESTED))
  for (let i = 0; i < depth; i++) offs.push(w.beginNested([NFTA_CMP_DATA, NFTA_DATA_VERDICT, NFTA_LIST_ELEM, NFTA_CHAIN_HOOK][Math.floor(rnd() * 4)]! | NLA_F_NESTED))
  for (const o of offs.reverse()) w.endNested(o)
  w.endMessage()
  return Buffer.from(w.bytes())
}

function mutate (src: Buffer, rnd: () => number): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n)
  let b = Buffer.from(src)
  const kind = pick(9)
  switch (kind) {
    case 0: { // flip a few bytes
      for (let i = 1 + pick(4); i > 0; i--) b[pick(b.length)] = pick(256)
      break
    }
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
    case 4: { // nlmsg_len past the end or below the header
      if (b.length >= 4) b.writeUInt32LE(rnd() < 0.5 ? b.length + 1 + pick(100) : pick(16), 0)
      break
    }
    case 5: // random bytes after a plausible header
      b = Buffer.concat([b.subarray(0, Math.min(b.length, 20)), Buffer.from(Array.from({ length: pick(200) }, () => pick(256)))])
      if (b.length >= 4) b.writeUInt32LE(b.length, 0)
      break
    case 6: // deep nesting
      b = deepRule(1 + pick(400), rnd)
      if (rnd() < 0.5) b = b.subarray(0, pick(b.length + 1))
      break
    case 7: { // splice two corpus entries
      const other = corpus[pick(corpus.length)]!
      b = Buffer.concat([b.subarray(0, pick(b.length + 1)), other.subarray(pick(other.length + 1))])
      break
    }
    default: { // several mutations at once
      for (let i = 0; i < 3; i++) b = mutate(b, rnd)
    }
  }
  return b
}

// Every decoder, on every message payload: decodeNftMessages, then each
// object decoder forced on the payload whatever the type says.
function decodeAll (b: Buffer): void {
  decodeNftMessages(b)
  if (b.length < 16) return
  const end = Math.min(b.length, Math.max(16, b.readUInt32LE(0)))
  for (const [fn, type] of [[decodeTable, NFT_MSG_NEWTABLE], [decodeChain, NFT_MSG_NEWCHAIN], [decodeRule, NFT_MSG_NEWRULE], [decodeGeneration, NFT_MSG_NEWGEN]] as const) {
    try {
      const v = fn(b, nftMessageType(type), 16, end)
      // Whatever decodes must encode again without a crash (a TypeError for an invalid value is allowed).
      try {
        if (type === NFT_MSG_NEWRULE && v !== undefined) writeNewRule(new NetlinkWriter(), v as Parameters<typeof writeNewRule>[1], 0)
        if (type === NFT_MSG_NEWCHAIN && v !== undefined) writeNewChain(new NetlinkWriter(), v as Parameters<typeof writeNewChain>[1], 0)
      } catch (err) { if (!(err instanceof TypeError)) throw err }
    } catch (err) { if (!(err instanceof NetlinkDecodeError)) throw err }
  }
  try { decodeNftUserdata(b, 16, end) } catch (err) { if (!(err instanceof NetlinkDecodeError)) throw err }
}

t.test(`decoders raise only NetlinkDecodeError (seed ${seed})`, async t => {
  t.comment(`NFT_FUZZ_SEED=${seed}`)
  t.ok(corpus.length > 40, `${corpus.length} corpus entries`)
  const rnd = prng(seed)
  const started = Date.now()
  let decoded = 0
  let rejected = 0
  for (let i = 0; i < ITERATIONS; i++) {
    const input = rnd() < 0.02 ? Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256))) : mutate(corpus[Math.floor(rnd() * corpus.length)]!, rnd)
    try {
      decodeAll(input)
      decoded++
    } catch (err) {
      if (err instanceof NetlinkDecodeError) { rejected++; continue }
      t.fail(`iteration ${i}, seed ${seed}: ${(err as Error).stack ?? String(err)}\ninput: ${input.toString('hex')}`)
      return
    }
  }
  t.comment(`${ITERATIONS} inputs in ${Date.now() - started} ms: ${decoded} decoded, ${rejected} rejected`)
  t.ok(decoded > 1000 && rejected > 1000, 'the mutations produce both valid and invalid inputs')
})

t.test('the corpus itself decodes', async t => {
  for (const b of corpus) decodeAll(b)
  t.pass()
})

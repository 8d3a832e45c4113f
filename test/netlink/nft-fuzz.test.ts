// Fuzzing the nf_tables and ctnetlink decoders: random and mutated messages (from the
// recorded fixtures: byte flips, truncations, lengths past the end,
// zero-length attributes, deep nesting) must decode or raise
// NetlinkDecodeError, nothing else. The seed is fixed; past crashers
// (fixtures/fuzz-corpus/nft/) are replayed first. A failure prints the
// corpus file to add (see test/helpers/fuzz.ts).
import t from 'tap'
import { fixtureCorpus, fuzzSeed, runFuzz } from '../helpers/fuzz.js'
import { NetlinkDecodeError, NetlinkWriter, NLA_F_NESTED } from '../../src/netlink/index.js'
import {
  decodeNftMessages, decodeTable, decodeChain, decodeRule, decodeGeneration, decodeNftUserdata, writeNewRule, writeNewChain,
  nftMessageType, NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWGEN, NFTA_RULE_EXPRESSIONS, NFTA_LIST_ELEM,
  NFTA_EXPR_NAME, NFTA_EXPR_DATA, NFTA_RULE_TABLE, NFTA_RULE_CHAIN, NFTA_CMP_DATA, NFTA_DATA_VERDICT, NFTA_CHAIN_HOOK,
  beginNftMessage, NFPROTO_INET
} from '../../src/netlink/nftables/index.js'
import { decodeConntrack, ctnlMessageType, tupleSpecOf, writeDeleteConntrackRequest, IPCTNL_MSG_CT_NEW } from '../../src/netlink/conntrack/index.js'

const ITERATIONS = 120_000
const seed = fuzzSeed(0x6e667400)
const corpus = fixtureCorpus('fixtures/nft', 'fixtures/conntrack')

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

const sources = { corpus, deep: deepRule }

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
  // ctnetlink entries (same socket family): decode, and a decoded tuple must encode again or raise a TypeError.
  try {
    const e = decodeConntrack(b, ctnlMessageType(IPCTNL_MSG_CT_NEW), 16, end)
    try {
      if (e !== undefined) writeDeleteConntrackRequest(new NetlinkWriter(), tupleSpecOf(e.original), e.zone !== undefined ? { zone: e.zone } : {})
    } catch (err) { if (!(err instanceof TypeError)) throw err }
  } catch (err) { if (!(err instanceof NetlinkDecodeError)) throw err }
}

t.test(`decoders raise only NetlinkDecodeError (seed ${seed})`, async t => {
  t.ok(corpus.length > 40, `${corpus.length} corpus entries`)
  runFuzz(t, { target: 'nft', seed, iterations: ITERATIONS, sources, decodeAll, allowed: (err) => err instanceof NetlinkDecodeError })
})

t.test('the corpus itself decodes', async t => {
  for (const b of corpus) decodeAll(b)
  t.pass()
})

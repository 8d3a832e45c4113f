// Fuzzing the rtnetlink decoders: >= 100,000 random and mutated messages
// (from the recorded link/addr/route/neigh fixtures) must each decode or
// raise NetlinkDecodeError: no other exception, no hang. The seed is fixed;
// past crashers (fixtures/fuzz-corpus/rtnl/) are replayed first. A failure
// prints the corpus file to add (see test/helpers/fuzz.ts).
import t from 'tap'
import { fixtureCorpus, fuzzSeed, runFuzz } from '../helpers/fuzz.js'
import {
  NetlinkDecodeError, NetlinkWriter, forEachMessage, decodeErrorMessage, NLMSG_ERROR, NLA_F_NESTED,
  decodeLinkMessage, linkFromMessage, decodeAddressMessage, decodeAddress, decodeRouteMessage, decodeRoute,
  decodeNeighbourMessage, decodeNeighbour, decodeFdbEntry, encodeLinkMessage, encodeRouteMessage,
  decodeRuleMessage, decodeFibRule, encodeRuleMessage, encodeNeighbourMessage, encodeAddressMessage,
  decodeNexthopMessage, decodeNexthop, encodeNexthopMessage,
  RTM_NEWLINK, IFLA_LINKINFO, IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER, IFLA_AF_SPEC
} from '../../src/netlink/index.js'

const ITERATIONS = 110_000
const seed = fuzzSeed(0x72746e6c)
const corpus = fixtureCorpus('fixtures/link', 'fixtures/addr', 'fixtures/route', 'fixtures/neigh', 'fixtures/rule', 'fixtures/nexthop')

/** An RTM_NEWLINK whose veth peers nest inside each other depth times (each peer is a whole link message). */
function deepLink (depth: number, rnd: () => number): Buffer {
  const w = new NetlinkWriter(64 + depth * 40)
  w.beginMessage(RTM_NEWLINK, 0)
  w.reserve(16)
  const offs: number[] = []
  for (let i = 0; i < depth; i++) {
    if (rnd() < 0.8) {
      offs.push(w.beginNested(IFLA_LINKINFO))
      w.string(IFLA_INFO_KIND, 'veth')
      offs.push(w.beginNested(IFLA_INFO_DATA))
      offs.push(w.beginNested(VETH_INFO_PEER))
      w.reserve(16) // the peer's ifinfomsg
    } else {
      offs.push(w.beginNested(IFLA_AF_SPEC | NLA_F_NESTED))
    }
  }
  for (const o of offs.reverse()) w.endNested(o)
  w.endMessage()
  return Buffer.from(w.bytes())
}
const sources = { corpus, deep: deepLink }

const allowed = (err: unknown): boolean => err instanceof NetlinkDecodeError
// What a decoded value must survive: re-encoding may refuse bad values (TypeError/RangeError), never crash otherwise.
function reencode (fn: () => void): void {
  try { fn() } catch (err) { if (!(err instanceof TypeError) && !(err instanceof RangeError) && !allowed(err)) throw err }
}

/** Every decoder on every payload, whatever the type says (a decoder must cope with foreign bytes too). */
function decodeAll (b: Buffer): void {
  forEachMessage(b, (type, flags, _seq, _pid, start, end) => {
    if (type === NLMSG_ERROR) { try { decodeErrorMessage(b, start, end, flags) } catch (err) { if (!allowed(err)) throw err } }
    const attempts: Array<() => void> = [
      () => { const m = decodeLinkMessage(b, start, end, { keepOrder: true }); linkFromMessage(m); reencode(() => encodeLinkMessage(new NetlinkWriter(), m)) },
      () => { decodeLinkMessage(b, start, end) },
      () => { const m = decodeAddressMessage(b, start, end); decodeAddress(b, start, end); reencode(() => encodeAddressMessage(new NetlinkWriter(), m)) },
      () => { const m = decodeRouteMessage(b, start, end); reencode(() => encodeRouteMessage(new NetlinkWriter(), m)) },
      () => { decodeRoute(b, start, end) },
      () => { const m = decodeNeighbourMessage(b, start, end); decodeNeighbour(b, start, end); reencode(() => encodeNeighbourMessage(new NetlinkWriter(), m)) },
      () => { decodeFdbEntry(b, start, end) },
      () => { const m = decodeRuleMessage(b, start, end); decodeFibRule(b, start, end); reencode(() => encodeRuleMessage(new NetlinkWriter(), m)) },
      () => { const m = decodeNexthopMessage(b, start, end); decodeNexthop(b, start, end); reencode(() => encodeNexthopMessage(new NetlinkWriter(), m)) }
    ]
    for (const a of attempts) { try { a() } catch (err) { if (!allowed(err)) throw err } }
  })
}

t.test(`rtnetlink decoders raise only NetlinkDecodeError (seed ${seed})`, async t => {
  t.ok(corpus.length > 100, `${corpus.length} corpus entries`)
  runFuzz(t, { target: 'rtnl', seed, iterations: ITERATIONS, sources, decodeAll, allowed })
})

t.test('deep nesting decodes without exhausting the stack', async t => {
  const m = deepLink(300, () => 0)
  decodeAll(m)
  const link = decodeLinkMessage(m, 16, m.length)
  t.equal(link.attributes.linkInfo?.kind, 'veth', 'the outermost veth peer chain is decoded')
})

t.test('the corpus itself decodes', async t => {
  for (const b of corpus) decodeAll(b)
  t.pass(`${corpus.length} entries`)
})

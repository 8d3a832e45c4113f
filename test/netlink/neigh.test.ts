// Neighbour and FDB codec and request builders against recorded iproute2
// requests and kernel replies (fixtures/neigh/).
import t from 'tap'
import { readdirSync } from 'node:fs'
import { loadFixture, normaliseSeqPid } from '../helpers/fixtures.js'
import { messagesOf, reencode } from '../helpers/route-codec.js'
import { fuzzDecoder } from '../helpers/fuzz.js'
import { NetlinkDecodeError } from '../../src/netlink/errors.js'
import { NLMSG_ERROR, decodeErrorMessage } from '../../src/netlink/message.js'
import { AF_BRIDGE, AF_INET, AF_INET6, RTM_NEWNEIGH } from '../../src/netlink/route/rtnetlink.js'
import {
  NDA_CACHEINFO, NDA_DST, NDA_LLADDR, NDA_PROBES, NTF_MASTER, NTF_PROXY, NTF_ROUTER, NTF_SELF, NUD_NOARP, NUD_PERMANENT, NUD_REACHABLE,
  NUD_STALE, decodeNeighbourMessage, encodeNeighbourMessage, neighbourStateToString
} from '../../src/netlink/route/neighbour.js'
import {
  buildAddFdbRequest, buildAddNeighbourRequest, buildDeleteFdbRequest, buildDeleteNeighbourRequest, buildListFdbRequest,
  buildListNeighboursRequest, buildReplaceNeighbourRequest, decodeFdbEntry, decodeNeighbour, fdbMessageFor
} from '../../src/netlink/route/neighbours.js'

const VA = 3 // veth "va" in the recorded namespaces
const VB = 2 // veth "vb", the bridge port in the FDB recordings
const BR0 = 4

const REQUESTS: Array<[string, () => Buffer]> = [
  ['add-permanent', () => buildAddNeighbourRequest({ index: VA, address: '10.1.0.9', lladdr: '02:00:00:00:00:09', state: 'permanent' })],
  ['add-v6', () => buildAddNeighbourRequest({ index: VA, address: '2001:db8::9', lladdr: '02:00:00:00:00:19' })],
  ['replace-reachable', () => buildReplaceNeighbourRequest({ index: VA, address: '10.1.0.9', lladdr: '02:00:00:00:00:09', state: NUD_REACHABLE })],
  ['del', () => buildDeleteNeighbourRequest({ index: VA, address: '10.1.0.9' })],
  ['fdb-add', () => buildAddFdbRequest({ index: VB, mac: '02:00:00:00:00:0a', master: true })],
  ['fdb-add-static-vlan', () => buildAddFdbRequest({ index: VB, mac: '02:00:00:00:00:0b', master: true, state: 'static', vlan: 10 })],
  ['fdb-del', () => buildDeleteFdbRequest({ index: VB, mac: '02:00:00:00:00:0a', master: true })],
  ['proxy-add', () => buildAddNeighbourRequest({ index: VA, address: '10.1.0.78', flags: NTF_PROXY })],
  ['proxy-del', () => buildDeleteNeighbourRequest({ index: VA, address: '10.1.0.77', proxy: true })],
  ['proxy-dump-request', () => buildListNeighboursRequest({ proxy: true })]
]

const FIXTURES = readdirSync(new URL('../../fixtures/neigh/', import.meta.url)).filter(f => f.endsWith('.json')).map(f => f.slice(0, -5))

t.test('builders reproduce iproute2 and bridge requests byte for byte', async t => {
  for (const [name, build] of REQUESTS) {
    const f = loadFixture(`fixtures/neigh/${name}.json`)
    t.equal(f.direction, 'request')
    t.equal(normaliseSeqPid(build()).toString('hex'), normaliseSeqPid(f.bytes).toString('hex'), `${name}: ${f.command}`)
  }
  const covered = new Set(REQUESTS.map(r => r[0]))
  const requests = FIXTURES.filter(n => loadFixture(`fixtures/neigh/${n}.json`).direction === 'request')
  t.same(requests.filter(n => !covered.has(n)), [], 'every recorded request has a builder check')
})

t.test('proxy entries (NTF_PROXY dump) decode as ip -j neigh show proxy prints them', async t => {
  const f = loadFixture('fixtures/neigh/proxy-dump.json')
  const ours = messagesOf(f.bytes).filter(m => m.type === RTM_NEWNEIGH).map(m => decodeNeighbour(m.bytes, 16, m.bytes.length))
  const names = new Map([[2, 'vb'], [VA, 'va']])
  t.same(ours.map(n => ({ dst: n.address, dev: names.get(n.index), ...(n.proxy ? { proxy: null } : {}) })), f.output)
  t.same(ours.map(n => [n.family, n.lladdr, n.state, n.flags]), [[AF_INET, undefined, 0, NTF_PROXY], [AF_INET, undefined, 0, NTF_PROXY], [AF_INET6, undefined, 0, NTF_PROXY]])
  for (const m of messagesOf(f.bytes)) {
    t.equal(reencode(m, decodeNeighbourMessage(m.bytes, 16, m.bytes.length), encodeNeighbourMessage).toString('hex'), m.bytes.toString('hex'))
  }
})

t.test('neighbour dump decodes to friendly entries', async t => {
  const msgs = messagesOf(loadFixture('fixtures/neigh/dump.json').bytes)
  t.equal(msgs.length, 7)
  const raw = decodeNeighbourMessage(msgs[1]!.bytes, 16, msgs[1]!.bytes.length)
  t.same(raw.attributeOrder, [NDA_DST, NDA_LLADDR, NDA_PROBES, NDA_CACHEINFO])
  t.same(raw.attributes.cacheInfo, { confirmed: 2, used: 2, updated: 2, refcnt: 0 })
  const all = msgs.map(m => decodeNeighbour(m.bytes, 16, m.bytes.length))
  t.same(all[0], {
    family: AF_INET, index: 5, address: '10.2.0.9', lladdr: '02:00:00:00:00:29', state: NUD_STALE, stateName: 'STALE', flags: 0,
    router: false, proxy: false, externallyLearned: false, probes: 0, vlan: undefined, protocol: undefined
  })
  t.match(all[1], { family: AF_INET, index: VA, address: '10.1.0.9', lladdr: '02:00:00:00:00:09', state: NUD_PERMANENT, stateName: 'PERMANENT', router: false })
  t.match(all[2], { family: AF_INET6, index: VA, address: '2001:db8::9', lladdr: '02:00:00:00:00:19', state: NUD_PERMANENT, flags: NTF_ROUTER, router: true })
  t.match(all[3], { family: AF_INET6, address: 'ff02::16', lladdr: '33:33:00:00:00:16', state: NUD_NOARP, stateName: 'NOARP' })
})

t.test('FDB dump decodes to entries', async t => {
  const msgs = messagesOf(loadFixture('fixtures/neigh/fdb-dump.json').bytes)
  t.equal(msgs.length, 14)
  const all = msgs.map(m => decodeFdbEntry(m.bytes, 16, m.bytes.length))
  t.same(all[1], {
    index: VB, mac: '02:00:00:00:00:0a', master: BR0, vlan: undefined, dst: undefined, port: undefined, vni: undefined, srcVni: undefined,
    via: undefined, state: NUD_PERMANENT, kind: 'permanent', flags: 0, self: false, onMaster: false, externallyLearned: false, offloaded: false, sticky: false
  })
  // `bridge fdb add … static` asks NUD_NOARP|NUD_REACHABLE; the bridge keeps it as NUD_NOARP.
  t.match(all[0], { mac: '02:00:00:00:00:0b', master: BR0, state: NUD_NOARP, kind: 'static' })
  t.match(all[2], { master: BR0, state: NUD_REACHABLE, kind: 'dynamic' })
  t.match(all[4], { index: VB, mac: '33:33:00:00:00:01', self: true, flags: NTF_SELF, master: undefined, kind: 'permanent' })
  t.same(new Set(all.map(e => e.index)), new Set([2, 3, 4]))
})

t.test('decode → encode gives the same bytes for every recorded message', async t => {
  let n = 0
  for (const name of [...REQUESTS.map(r => r[0]), 'dump', 'fdb-dump']) {
    for (const m of messagesOf(loadFixture(`fixtures/neigh/${name}.json`).bytes)) {
      const decoded = decodeNeighbourMessage(m.bytes, 16, m.bytes.length)
      t.equal(reencode(m, decoded, encodeNeighbourMessage).toString('hex'), m.bytes.toString('hex'), `${name} message ${n++}`)
    }
  }
  t.ok(n >= 28)
})

t.test('the EEXIST reply to a duplicate neighbour', async t => {
  const f = loadFixture('fixtures/neigh/error-eexist.json')
  const [m] = messagesOf(f.bytes)
  t.equal(m!.type, NLMSG_ERROR)
  const e = decodeErrorMessage(f.bytes, m!.start, m!.end, m!.flags)
  t.equal(e.errno, 17)
  t.equal(e.request.type, RTM_NEWNEIGH)
})

t.test('defaults, states and dump requests', async t => {
  t.match(fdbMessageFor({ index: 1, mac: '02:00:00:00:00:01' }), { family: AF_BRIDGE, flags: NTF_SELF, state: NUD_NOARP | NUD_PERMANENT }, 'self and permanent by default, as bridge fdb add')
  t.match(fdbMessageFor({ index: 1, mac: '02:00:00:00:00:01', master: true, self: true, state: 'dynamic' }), { flags: NTF_SELF | NTF_MASTER, state: NUD_REACHABLE })
  const vx = fdbMessageFor({ index: 1, mac: '00:00:00:00:00:00', dst: '192.0.2.1', port: 4789, vni: 42, via: 3 })
  t.same(vx.attributes, { lladdr: '00:00:00:00:00:00', dst: '192.0.2.1', port: 4789, vni: 42, ifindex: 3 })
  const vxBytes = buildAddFdbRequest({ index: 1, mac: '00:00:00:00:00:00', dst: '192.0.2.1', port: 4789 })
  t.ok(vxBytes.includes(Buffer.from([0x06, 0x00, 0x06, 0x00, 0x12, 0xb5])), 'NDA_PORT in network byte order')
  t.equal(neighbourStateToString(NUD_NOARP | NUD_PERMANENT), 'NOARP|PERMANENT')
  t.equal(neighbourStateToString(0), 'NONE')
  t.throws(() => buildAddNeighbourRequest({ index: 1, address: 'nope', lladdr: '02:00:00:00:00:01' }), TypeError)
  t.throws(() => buildAddNeighbourRequest({ index: 1, address: '10.0.0.1', lladdr: '02:00:00:00:00:zz' }), TypeError)
  const list = buildListNeighboursRequest({ family: AF_INET6, index: 9 })
  t.same(decodeNeighbourMessage(list, 16, list.length).attributes, { ifindex: 9 })
  const fdb = buildListFdbRequest({ master: 4, index: 2 })
  t.same(decodeNeighbourMessage(fdb, 16, fdb.length).attributes, { master: 4 }, 'one filter attribute only')
  t.equal(fdb[16], AF_BRIDGE)
})

t.test('malformed messages raise NetlinkDecodeError only', async t => {
  t.throws(() => decodeNeighbourMessage(Buffer.alloc(11), 0, 11), NetlinkDecodeError)
  const badDst = Buffer.from('0200000003000000800000000700010001020300', 'hex')
  t.throws(() => decodeNeighbourMessage(badDst, 0, badDst.length), NetlinkDecodeError)
  for (const name of ['dump', 'fdb-dump']) {
    for (const [i, m] of messagesOf(loadFixture(`fixtures/neigh/${name}.json`).bytes).slice(0, 4).entries()) {
      const { bad, tried } = fuzzDecoder(m.bytes.subarray(16), decodeNeighbourMessage, i + 11)
      t.same(bad, [], `${name} message ${i}: ${tried} inputs`)
    }
  }
})

t.test('VXLAN FDB entries and NDA_PROTOCOL, against bridge -j fdb show / ip -j neigh show', async t => {
  const f = loadFixture('fixtures/neigh/fdb-dump-vxlan.json')
  const entries = messagesOf(f.bytes).filter(m => m.type === RTM_NEWNEIGH).map(m => decodeFdbEntry(m.bytes, 16, m.bytes.length))
  const names = new Map([[VA, 'va']])
  t.same(entries.map(e => {
    const o: Record<string, unknown> = { mac: e.mac, dst: e.dst }
    if (e.port !== undefined) o.port = e.port
    if (e.vni !== undefined) o.vni = e.vni
    if (e.via !== undefined) o.viaIf = names.get(e.via)
    o.flags = e.self ? ['self'] : []
    o.state = e.kind
    return o
  }), f.output)
  const p = loadFixture('fixtures/neigh/dump-protocol.json')
  const ours = messagesOf(p.bytes).filter(m => m.type === RTM_NEWNEIGH).map(m => decodeNeighbour(m.bytes, 16, m.bytes.length))
  const ip = p.output as Array<{ dst: string, protocol?: string }>
  t.same(ours.filter(n => n.protocol !== undefined).map(n => [n.address, n.protocol]), ip.filter(n => n.protocol !== undefined).map(n => [n.dst, 4]))
  t.equal(ip.find(n => n.protocol !== undefined)?.protocol, 'static', 'RTPROT_STATIC is 4')
})


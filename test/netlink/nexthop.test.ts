// Nexthop object codec and request builders against recorded iproute2
// requests and kernel replies (fixtures/nexthop/, see record.sh there), the
// replies checked against `ip -j nexthop show` / `ip -j route show`'s reading
// of the same bytes; routes that use nexthop objects (RTA_NH_ID).
import t from 'tap'
import { readdirSync } from 'node:fs'
import { loadFixture, normaliseSeqPid } from '../helpers/fixtures.js'
import { messagesOf, reencode } from '../helpers/route-codec.js'
import { fuzzDecoder } from '../helpers/fuzz.js'
import { nexthopAsIproute2, routeNexthopsAsIproute2 } from '../helpers/iproute2.js'
import { NLA_F_NESTED } from '../../src/netlink/attributes.js'
import { NetlinkDecodeError } from '../../src/netlink/errors.js'
import { AF_INET, AF_INET6, AF_UNSPEC, RTM_DELNEXTHOP, RTM_GETNEXTHOP, RTM_NEWNEXTHOP, RTM_NEWROUTE } from '../../src/netlink/route/rtnetlink.js'
import { LWTUNNEL_ENCAP_MPLS, RTA_NH_ID, RTN_BLACKHOLE, decodeRoute, decodeRouteMessage, encodeRouteMessage, type Route } from '../../src/netlink/route/route.js'
import { buildAddRouteRequest } from '../../src/netlink/route/routes.js'
import {
  NEXTHOP_GRP_TYPE_RES, NHA_ENCAP, NHA_GROUP, NHA_GROUP_TYPE, NHA_ID, NHA_OP_FLAG_RESP_GRP_RESVD_0, NHA_RES_GROUP,
  decodeNexthopMessage, encodeNexthopMessage
} from '../../src/netlink/route/nexthop.js'
import {
  buildAddNexthopRequest, buildDeleteNexthopRequest, buildGetNexthopRequest, buildListNexthopsRequest, buildReplaceNexthopRequest,
  decodeNexthop, describeNexthop, nexthopMessageFor, toNexthop
} from '../../src/netlink/route/nexthops.js'
import { indexNamer } from '../../src/netlink/route/interface-name.js'

const VA = 3 // veth "va" in the recorded namespaces
const VC = 5 // veth "vc"
const NAMES = new Map([[1, 'lo'], [2, 'vb'], [VA, 'va'], [4, 'vd'], [VC, 'vc']])

const FIXTURES = readdirSync(new URL('../../fixtures/nexthop/', import.meta.url)).filter(f => f.endsWith('.json')).map(f => f.slice(0, -5))

const REQUESTS: Array<[string, () => Buffer]> = [
  ['add-gateway', () => buildAddNexthopRequest({ id: 1, gateway: '10.1.0.254', oif: VA })],
  ['add-dev', () => buildAddNexthopRequest({ id: 4, oif: VA })],
  ['add-v6', () => buildAddNexthopRequest({ id: 6, gateway: '2001:db8::1', oif: VA })],
  ['add-blackhole', () => buildAddNexthopRequest({ id: 3, blackhole: true })],
  ['add-group', () => buildAddNexthopRequest({ id: 10, group: [{ id: 1, weight: 3 }, { id: 2 }] })],
  ['add-group-resilient', () => buildAddNexthopRequest({ id: 11, group: [{ id: 1 }, { id: 2 }], groupType: 'resilient', resilient: { buckets: 8, idleTimer: 60, unbalancedTimer: 120 } })],
  ['add-onlink', () => buildAddNexthopRequest({ id: 12, gateway: '10.9.0.1', oif: VA, onlink: true })],
  ['add-proto', () => buildAddNexthopRequest({ id: 14, gateway: '10.1.0.254', oif: VA, protocol: 4 })],
  ['add-fdb', () => buildAddNexthopRequest({ id: 20, gateway: '10.1.0.254', fdb: true })],
  ['add-fdb-group', () => buildAddNexthopRequest({ id: 21, group: [{ id: 20 }, { id: 22 }], fdb: true })],
  ['add-encap-mpls', () => buildAddNexthopRequest({ id: 13, encap: { mpls: '200' }, gateway: '10.1.0.254', oif: VA })],
  ['replace', () => buildReplaceNexthopRequest({ id: 1, gateway: '10.1.0.253', oif: VA })],
  ['del', () => buildDeleteNexthopRequest(1)],
  ['get-request', () => buildGetNexthopRequest(1)],
  ['dump-request', () => buildListNexthopsRequest()],
  ['dump-request-dev', () => buildListNexthopsRequest({ oif: VA })],
  ['dump-request-groups', () => buildListNexthopsRequest({ groups: true })],
  ['dump-request-fdb', () => buildListNexthopsRequest({ fdb: true })],
  ['route-add-nhid', () => buildAddRouteRequest({ dst: '10.20.0.0/16', nhId: 1 })]
]

t.test('the fixture set', async t => {
  for (const name of FIXTURES) {
    const f = loadFixture(`fixtures/nexthop/${name}.json`)
    t.match(f, { description: String, command: /^ip /, how: /strace/, recorded: /Linux/, direction: /^(request|reply)$/ }, name)
  }
})

t.test('builders reproduce iproute2 requests byte for byte', async t => {
  for (const [name, build] of REQUESTS) {
    const f = loadFixture(`fixtures/nexthop/${name}.json`)
    t.equal(f.direction, 'request', name)
    t.equal(normaliseSeqPid(build()).toString('hex'), normaliseSeqPid(f.bytes).toString('hex'), `${name}: ${f.command}`)
  }
  const covered = new Set(REQUESTS.map(r => r[0]))
  const requests = FIXTURES.filter(n => loadFixture(`fixtures/nexthop/${n}.json`).direction === 'request')
  t.same(requests.filter(n => !covered.has(n)), [], 'every recorded request has a builder check')
})

t.test('decode → encode gives the same bytes for every recorded message', async t => {
  let n = 0
  for (const name of FIXTURES) {
    for (const m of messagesOf(loadFixture(`fixtures/nexthop/${name}.json`).bytes)) {
      if (m.type === RTM_NEWROUTE) {
        t.equal(reencode(m, decodeRouteMessage(m.bytes, 16, m.bytes.length), encodeRouteMessage).toString('hex'), m.bytes.toString('hex'), `${name} route ${n++}`)
        continue
      }
      if (m.type !== RTM_NEWNEXTHOP && m.type !== RTM_DELNEXTHOP && m.type !== RTM_GETNEXTHOP) continue
      t.equal(reencode(m, decodeNexthopMessage(m.bytes, 16, m.bytes.length), encodeNexthopMessage).toString('hex'), m.bytes.toString('hex'), `${name} message ${n++}`)
    }
  }
  t.ok(n >= 40, `${n} messages`)
})

t.test('a kernel dump decodes to what ip -j nexthop show printed', async t => {
  const f = loadFixture('fixtures/nexthop/dump-reply.json')
  const ours = messagesOf(f.bytes).filter(m => m.type === RTM_NEWNEXTHOP).map(m => decodeNexthop(m.bytes, 16, m.bytes.length))
  const theirs = f.output as Array<Record<string, unknown>>
  t.equal(ours.length, theirs.length)
  ours.forEach((nh, i) => { t.same(nexthopAsIproute2(nh, NAMES), theirs[i], `id ${nh.id}`) })
  const byId = new Map(ours.map(nh => [nh.id, nh]))
  t.same(byId.get(10)?.group, [{ id: 1, weight: 3 }, { id: 2, weight: 1 }])
  t.equal(byId.get(10)?.family, AF_UNSPEC)
  t.same(byId.get(11)?.resilient, { buckets: 8, idleTimer: 60, unbalancedTimer: 120, unbalancedTime: 0 })
  t.match(byId.get(6), { family: AF_INET6, gateway: '2001:db8::1', oif: VA })
  t.match(byId.get(3), { blackhole: true, oif: undefined, family: AF_INET })
  const group = messagesOf(f.bytes).map(m => decodeNexthopMessage(m.bytes, 16, m.bytes.length)).find(m => m.attributes.id === 11)!
  t.equal(group.attributes.opFlags, NHA_OP_FLAG_RESP_GRP_RESVD_0, 'this kernel says weight_high is meaningful')
  t.equal(group.attributes.groupType, NEXTHOP_GRP_TYPE_RES)
  t.equal(group.attributeOrder!.find(x => (x & 0x3fff) === NHA_RES_GROUP), NHA_RES_GROUP | NLA_F_NESTED, 'the nest flag as the kernel sent it')
  const get = loadFixture('fixtures/nexthop/get-reply.json')
  const [one] = messagesOf(get.bytes)
  t.same(nexthopAsIproute2(decodeNexthop(one!.bytes, 16, one!.bytes.length), NAMES), (get.output as unknown[])[0])
})

t.test('16-bit group weights: weight_high counts only when the kernel says so', async t => {
  const req = buildAddNexthopRequest({ id: 30, group: [{ id: 1, weight: 1000 }, { id: 2, weight: 256 }] })
  const m = decodeNexthopMessage(req, 16, req.length)
  t.same(m.attributes.group, [{ id: 1, weight: 1000 }, { id: 2, weight: 256 }])
  const g = req.subarray(req.indexOf(Buffer.from([20, 0, NHA_GROUP, 0])) + 4)
  t.same([g[4], g[5], g[12], g[13]], [999 & 0xff, 999 >> 8, 255, 0], 'weight - 1 split into weight and weight_high')
  t.same(toNexthop(m).group, [{ id: 1, weight: (999 & 0xff) + 1 }, { id: 2, weight: 256 }], 'no NHA_OP_FLAGS: the low byte only, as iproute2 reads it')
  m.attributes.opFlags = NHA_OP_FLAG_RESP_GRP_RESVD_0
  t.same(toNexthop(m).group, [{ id: 1, weight: 1000 }, { id: 2, weight: 256 }])
  t.throws(() => buildAddNexthopRequest({ group: [{ id: 1, weight: 0 }] }), TypeError)
  t.throws(() => buildAddNexthopRequest({ group: [{ id: 1, weight: 65537 }] }), TypeError)
})

t.test('iproute2 requests decode to what was asked', async t => {
  const msg = (name: string) => {
    const [m] = messagesOf(loadFixture(`fixtures/nexthop/${name}.json`).bytes)
    return decodeNexthopMessage(m!.bytes, 16, m!.bytes.length)
  }
  t.same(msg('add-group-resilient').attributes.resGroup, { buckets: 8, idleTimer: 6000, unbalancedTimer: 12000, attributeOrder: [1, 2, 3] }, 'timers in clock ticks')
  t.same(msg('add-group-resilient').attributeOrder, [NHA_ID, NHA_GROUP, NHA_RES_GROUP | NLA_F_NESTED, NHA_GROUP_TYPE])
  const encap = msg('add-encap-mpls')
  t.equal(encap.attributes.encapType, LWTUNNEL_ENCAP_MPLS)
  t.equal(encap.attributes.encap!.type, NHA_ENCAP | NLA_F_NESTED)
  t.match(toNexthop(msg('add-fdb')), { fdb: true, gateway: '10.1.0.254', oif: undefined, family: AF_INET })
  t.match(toNexthop(msg('add-onlink')), { flags: 4 })
})

t.test('routes that use nexthop objects, against ip -j route show', async t => {
  for (const name of ['route-dump-reply', 'route-dump-reply-v6']) {
    const f = loadFixture(`fixtures/nexthop/${name}.json`)
    const routes = messagesOf(f.bytes).filter(m => m.type === RTM_NEWROUTE).map(m => decodeRoute(m.bytes, 16, m.bytes.length))
    const ip = f.output as Array<Record<string, unknown>>
    t.equal(routes.length, ip.length, name)
    routes.forEach((r: Route, i) => { t.same(routeNexthopsAsIproute2(r, NAMES), pick(ip[i]!), `${name}: ${r.dst}`) })
  }
  const f = loadFixture('fixtures/nexthop/route-dump-reply.json')
  const routes = messagesOf(f.bytes).filter(m => m.type === RTM_NEWROUTE).map(m => decodeRoute(m.bytes, 16, m.bytes.length))
  t.match(routes.find(r => r.nhId === 10), { dst: '10.21.0.0/16', multipath: [{ gateway: '10.1.0.254', oif: VA, weight: 3 }, { gateway: '10.2.0.254', oif: VC, weight: 1 }] })
  t.match(routes.find(r => r.nhId === 3), { type: RTN_BLACKHOLE })
  const [m] = messagesOf(loadFixture('fixtures/nexthop/route-add-nhid.json').bytes)
  t.same(decodeRouteMessage(m!.bytes, 16, m!.bytes.length).attributeOrder, [1, RTA_NH_ID])
})

/** The fields of an `ip -j route show` entry that say where a route goes. */
function pick (o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { dst: o.dst }
  for (const k of ['nhid', 'gateway', 'dev', 'nexthops']) if (o[k] !== undefined) out[k] = k === 'nexthops' ? (o[k] as Array<Record<string, unknown>>).map(n => ({ gateway: n.gateway, dev: n.dev, weight: n.weight })) : o[k]
  return out
}

t.test('builders validate and describe', async t => {
  t.throws(() => nexthopMessageFor({ gateway: 'x' }), TypeError)
  t.throws(() => nexthopMessageFor({ gateway: '10.0.0.1', family: AF_INET6 }), TypeError)
  t.throws(() => nexthopMessageFor({ group: [{ id: 1 }], gateway: '10.0.0.1' }), TypeError)
  t.equal(nexthopMessageFor({ id: 1, oif: 2 }).family, AF_INET, 'AF_INET by default, as iproute2')
  t.equal(describeNexthop({ id: 10, group: [{ id: 1, weight: 3 }, { id: 2 }] }, indexNamer), 'id 10 group 1,3/2')
  t.equal(describeNexthop({ id: 1, gateway: '10.0.0.1', oif: 3, onlink: true }, (i) => i === 3 ? 'eth0' : indexNamer(i)), 'id 1 via 10.0.0.1 dev eth0 onlink')
})

t.test('malformed messages raise NetlinkDecodeError only', async t => {
  t.throws(() => decodeNexthopMessage(Buffer.alloc(7), 0, 7), NetlinkDecodeError)
  for (const name of ['dump-reply', 'add-group-resilient', 'add-encap-mpls']) {
    for (const [i, m] of messagesOf(loadFixture(`fixtures/nexthop/${name}.json`).bytes).entries()) {
      const { bad, tried } = fuzzDecoder(m.bytes.subarray(16), decodeNexthop, i + 5)
      t.same(bad, [], `${name} message ${i}: ${tried} inputs`)
    }
  }
})


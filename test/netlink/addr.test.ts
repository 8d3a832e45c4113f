// Address codec and request builders against recorded iproute2 requests and
// kernel replies (fixtures/addr/).
import t from 'tap'
import { loadFixture, normaliseSeqPid } from '../helpers/fixtures.js'
import { messagesOf, reencode } from '../helpers/route-codec.js'
import { fuzzDecoder } from '../helpers/fuzz.js'
import { NetlinkDecodeError } from '../../src/netlink/errors.js'
import { NLMSG_ERROR, decodeErrorMessage } from '../../src/netlink/message.js'
import { RTM_DELADDR, RTM_NEWADDR, AF_INET, AF_INET6 } from '../../src/netlink/route/rtnetlink.js'
import {
  IFA_ADDRESS, IFA_BROADCAST, IFA_CACHEINFO, IFA_F_NODAD, IFA_F_NOPREFIXROUTE, IFA_F_PERMANENT, IFA_FLAGS, IFA_LABEL,
  IFA_LOCAL, RT_SCOPE_HOST, RT_SCOPE_LINK, decodeAddressMessage, encodeAddressMessage
} from '../../src/netlink/route/address.js'
import {
  broadcastOf, buildAddAddressRequest, buildDeleteAddressRequest, buildListAddressesRequest, buildReplaceAddressRequest,
  decodeAddress, addressMessageFor
} from '../../src/netlink/route/addresses.js'

const VA = 3 // the veth "va" in every recorded namespace

const REQUESTS: Array<[string, () => Buffer]> = [
  ['add-v4', () => buildAddAddressRequest({ index: VA, address: '10.1.0.1/24' })],
  ['add-v4-broadcast', () => buildAddAddressRequest({ index: VA, address: '10.1.0.2/24', broadcast: 'auto' })],
  ['add-v6-nodad', () => buildAddAddressRequest({ index: VA, address: '2001:db8::1/64', flags: IFA_F_NODAD })],
  ['add-v4-label-noprefixroute-lifetimes', () => buildAddAddressRequest({
    index: VA, address: '10.3.0.1/24', label: 'va:x', flags: IFA_F_NOPREFIXROUTE, validLifetime: 100, preferredLifetime: 50
  })],
  ['replace-v4', () => buildReplaceAddressRequest({ index: VA, address: '10.1.0.1/24' })],
  ['del-v4', () => buildDeleteAddressRequest({ index: VA, address: '10.1.0.1/24' })],
  ['del-v6', () => buildDeleteAddressRequest({ index: VA, address: '2001:db8::1/64' })]
]

t.test('builders reproduce iproute2 requests byte for byte', async t => {
  for (const [name, build] of REQUESTS) {
    const f = loadFixture(`fixtures/addr/${name}.json`)
    t.equal(f.direction, 'request')
    t.same(normaliseSeqPid(build()).toString('hex'), normaliseSeqPid(f.bytes).toString('hex'), `${name}: ${f.command}`)
  }
})

t.test('iproute2 requests decode to what was asked', async t => {
  const [m] = messagesOf(loadFixture('fixtures/addr/add-v4-label-noprefixroute-lifetimes.json').bytes)
  t.equal(m!.type, RTM_NEWADDR)
  const msg = decodeAddressMessage(m!.bytes, 16, m!.bytes.length)
  t.same(msg, {
    family: AF_INET,
    prefixLength: 24,
    flags: 0,
    scope: 0,
    index: VA,
    attributes: { local: '10.3.0.1', label: 'va:x', flags: IFA_F_NOPREFIXROUTE, address: '10.3.0.1', cacheInfo: { preferred: 50, valid: 100, created: 0, updated: 0 } },
    attributeOrder: [IFA_LOCAL, IFA_LABEL, IFA_FLAGS, IFA_ADDRESS, IFA_CACHEINFO]
  })
  const [d] = messagesOf(loadFixture('fixtures/addr/del-v6.json').bytes)
  t.equal(d!.type, RTM_DELADDR)
  const del = decodeAddress(d!.bytes, 16, d!.bytes.length)
  t.equal(del.cidr, '2001:db8::1/64')
  t.equal(del.family, AF_INET6)
})

t.test('address dump decodes to friendly addresses', async t => {
  const f = loadFixture('fixtures/addr/dump.json')
  const msgs = messagesOf(f.bytes)
  t.equal(msgs.length, 9)
  const all = msgs.map(m => decodeAddress(m.bytes, 16, m.bytes.length))
  t.same(all.map(a => `${a.index} ${a.cidr}`), [
    '1 127.0.0.1/8', '2 10.4.0.1/32', '3 10.1.0.5/24', '3 10.1.0.6/24',
    '1 ::1/128', '2 fe80::6852:eaff:feea:90ca/64', '3 2001:db8:1::5/64', '3 2001:db8::5/64', '3 fe80::cc12:71ff:fe7b:667f/64'
  ])
  const lo = all[0]!
  t.match(lo, { family: AF_INET, address: '127.0.0.1', label: 'lo', scope: RT_SCOPE_HOST, permanent: true, validLifetime: Infinity })
  const p2p = all[1]!
  t.match(p2p, { address: '10.4.0.1', local: '10.4.0.1', peer: '10.4.0.2', prefixLength: 32, label: 'vb' })
  const primary = all[2]!
  t.same(primary, {
    family: AF_INET,
    index: VA,
    address: '10.1.0.5',
    prefixLength: 24,
    cidr: '10.1.0.5/24',
    local: '10.1.0.5',
    peer: undefined,
    broadcast: '10.1.0.255',
    anycast: undefined,
    label: 'va:five',
    flags: IFA_F_PERMANENT,
    scope: 0,
    tentative: false,
    deprecated: false,
    dadFailed: false,
    permanent: true,
    secondary: false,
    noPrefixRoute: false,
    validLifetime: Infinity,
    preferredLifetime: Infinity,
    priority: undefined,
    protocol: undefined
  })
  t.match(all[3], { address: '10.1.0.6', secondary: true, broadcast: undefined, label: 'va' })
  t.match(all[6], { family: AF_INET6, address: '2001:db8:1::5', noPrefixRoute: true, tentative: false, flags: IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE | IFA_F_NODAD })
  t.match(all[7], { address: '2001:db8::5', noPrefixRoute: false, flags: IFA_F_PERMANENT | IFA_F_NODAD, local: undefined })
  // The link-local address was still running DAD when the dump was taken.
  t.match(all[8], { scope: RT_SCOPE_LINK, tentative: true, protocol: 3 })
})

t.test('decode → encode gives the same bytes for every recorded message', async t => {
  let n = 0
  for (const name of [...REQUESTS.map(r => r[0]), 'dump']) {
    for (const m of messagesOf(loadFixture(`fixtures/addr/${name}.json`).bytes)) {
      const decoded = decodeAddressMessage(m.bytes, 16, m.bytes.length)
      t.equal(reencode(m, decoded, encodeAddressMessage).toString('hex'), m.bytes.toString('hex'), `${name} message ${n}`)
      n++
    }
  }
  t.ok(n >= 16)
})

t.test('the EEXIST reply to a duplicate address', async t => {
  const f = loadFixture('fixtures/addr/error-eexist.json')
  const [m] = messagesOf(f.bytes)
  t.equal(m!.type, NLMSG_ERROR)
  const e = decodeErrorMessage(f.bytes, m!.start, m!.end, m!.flags)
  t.equal(e.errno, 17)
  t.equal(e.message, 'ipv4: Address already assigned')
  t.equal(e.request.type, RTM_NEWADDR)
})

t.test('broadcast and defaults', async t => {
  t.equal(broadcastOf(Uint8Array.of(10, 1, 0, 2), 24), '10.1.0.255')
  t.equal(broadcastOf(Uint8Array.of(10, 1, 0, 2), 8), '10.255.255.255')
  t.equal(broadcastOf(Uint8Array.of(192, 168, 7, 130), 25), '192.168.7.255')
  t.equal(addressMessageFor({ index: 1, address: '10.0.0.1/31', broadcast: 'auto' }).attributes.broadcast, undefined, '/31 has no broadcast')
  t.equal(addressMessageFor({ index: 1, address: '10.0.0.1/30', broadcast: 'auto' }).attributes.broadcast, '10.0.0.3')
  t.equal(addressMessageFor({ index: 1, address: '2001:db8::1/64', broadcast: 'auto' }).attributes.broadcast, undefined, 'no broadcast for IPv6')
  t.equal(addressMessageFor({ index: 1, address: '127.0.0.2/8' }).scope, RT_SCOPE_HOST, 'loopback addresses get host scope as with iproute2')
  t.equal(addressMessageFor({ index: 1, address: '10.0.0.1' }).prefixLength, 32)
  t.same(addressMessageFor({ index: 1, address: '10.0.0.1/24', peer: '10.0.0.9' }).attributes, { local: '10.0.0.1', address: '10.0.0.9' })
  t.throws(() => buildAddAddressRequest({ index: 1, address: '10.0.0.300/24' }), TypeError)
  t.throws(() => buildAddAddressRequest({ index: 1, address: '2001:db8::1/64', broadcast: '10.0.0.255' }), TypeError)
  t.throws(() => buildAddAddressRequest({ index: 1, address: '10.0.0.1/24', validLifetime: 10, preferredLifetime: 20 }), TypeError)
  // A bare IPv4 address is deleted by IFA_LOCAL alone (the kernel then ignores the prefix length).
  const bare = buildDeleteAddressRequest({ index: 1, address: '10.0.0.1' })
  t.equal(decodeAddressMessage(bare, 16, bare.length).attributes.address, undefined)
  const list = buildListAddressesRequest({ family: AF_INET6, index: 4 })
  t.same(decodeAddressMessage(list, 16, list.length), { family: AF_INET6, prefixLength: 0, flags: 0, scope: 0, index: 4, attributes: {}, attributeOrder: [] })
  t.equal(list.readUInt16LE(6), 0x301, 'NLM_F_REQUEST|NLM_F_DUMP')
})

t.test('malformed messages raise NetlinkDecodeError only', async t => {
  t.throws(() => decodeAddressMessage(Buffer.alloc(7), 0, 7), NetlinkDecodeError)
  // IFA_LOCAL of 5 bytes.
  const bad = Buffer.from('02180000030000000900020001020304050000', 'hex')
  t.throws(() => decodeAddressMessage(bad, 0, bad.length), NetlinkDecodeError)
  for (const name of ['dump', 'add-v4-label-noprefixroute-lifetimes']) {
    for (const [i, m] of messagesOf(loadFixture(`fixtures/addr/${name}.json`).bytes).entries()) {
      const { bad, tried } = fuzzDecoder(m.bytes.subarray(16), decodeAddressMessage, i + 1)
      t.same(bad, [], `${name} message ${i}: ${tried} inputs`)
    }
  }
})

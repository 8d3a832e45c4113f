// ctnetlink codec against bytes recorded from conntrack-tools 1.4.7 and the
// kernel (fixtures/conntrack, made by fixtures/conntrack/record.sh): our
// requests reproduce conntrack's byte for byte, and the kernel's replies
// decode to what conntrack itself printed for them (its XML, kept in the
// fixtures).
import t from 'tap'
import { readdirSync } from 'node:fs'
import { loadFixture, normaliseSeqPid } from '../helpers/fixtures.js'
import { asXmlFlow, parseConntrackXml } from '../helpers/conntrack.js'
import {
  NetlinkWriter, NetlinkDecodeError, AttributeReader, decodeErrorMessage, forEachMessage, NLMSG_ERROR, NLMSG_DONE, NFPROTO_IPV4, NFPROTO_IPV6,
  decodeConntrack, writeListConntrackRequest, writeGetConntrackRequest, writeDeleteConntrackRequest, tupleSpecOf, conntrackZone, ctnlMessageName,
  CTA_TUPLE_ORIG, CTA_ZONE, IPS_ASSURED, IPS_CONFIRMED, IPS_SEEN_REPLY, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPCTNL_MSG_CT_NEW,
  ctnlMessageType, type ConntrackEntry
} from '../../src/netlink/index.js'

const FIXTURES = readdirSync(new URL('../../fixtures/conntrack/', import.meta.url)).filter(f => f.endsWith('.json')).map(f => f.slice(0, -5))
const fx = (name: string): ReturnType<typeof loadFixture> => loadFixture(`fixtures/conntrack/${name}.json`)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function build (fill: (w: NetlinkWriter) => void): Buffer {
  const w = new NetlinkWriter(64)
  fill(w)
  return Buffer.from(w.bytes())
}

/** Every entry message of a recorded datagram (or dump), decoded. */
function entries (bytes: Uint8Array): ConntrackEntry[] {
  const out: ConntrackEntry[] = []
  forEachMessage(bytes, (type, _flags, _seq, _pid, start, end) => {
    const e = decodeConntrack(bytes, type, start, end)
    if (e !== undefined) out.push(e)
  })
  return out
}

/**
 * A recorded message with only the top-level attributes `keep` (nlmsg_len
 * fixed): what the kernel reads of a request the conntrack program fills
 * with more (it echoes the whole listed entry in a delete).
 */
function onlyAttributes (bytes: Buffer, keep: number[]): Buffer {
  const parts = [Buffer.from(bytes.subarray(0, 20))]
  const r = new AttributeReader(bytes, 20, bytes.readUInt32LE(0))
  while (r.next()) {
    if (!keep.includes(r.type)) continue
    const start = r.offset - 4
    parts.push(Buffer.from(bytes.subarray(start, start + ((r.length + 4 + 3) & ~3))))
  }
  const out = Buffer.concat(parts)
  out.writeUInt32LE(out.length, 0)
  return out
}

/** The first top-level attribute of type `type` of a recorded message, header and padding included. */
function attributeBytes (bytes: Buffer, type: number): Buffer {
  const r = new AttributeReader(bytes, 20, bytes.readUInt32LE(0))
  while (r.next()) if (r.type === type) return Buffer.from(bytes.subarray(r.offset - 4, r.offset + ((r.length + 3) & ~3)))
  throw new Error(`no attribute ${type}`)
}

const UDP = { src: '10.0.0.3', dst: '10.0.0.1', protocol: IPPROTO_UDP, srcPort: 53, dstPort: 999 }

const REQUESTS: Array<[string, () => Buffer]> = [
  ['list-request', () => build(w => writeListConntrackRequest(w))],
  ['list-ipv6-request', () => build(w => writeListConntrackRequest(w, { family: NFPROTO_IPV6 }))],
  ['list-mark-request', () => build(w => writeListConntrackRequest(w, { mark: 7 }))],
  ['list-mark-mask-request', () => build(w => writeListConntrackRequest(w, { mark: 7, markMask: 0xff }))],
  ['list-status-request', () => build(w => writeListConntrackRequest(w, { status: IPS_ASSURED }))],
  ['get-udp-request', () => build(w => writeGetConntrackRequest(w, UDP))],
  ['get-icmp-request', () => build(w => writeGetConntrackRequest(w, { src: '10.0.0.1', dst: '10.0.0.4', protocol: IPPROTO_ICMP, icmpType: 8, icmpCode: 0, icmpId: 77 }))],
  ['get-ipv6-request', () => build(w => writeGetConntrackRequest(w, { ...UDP, src: 'fd00::3', dst: 'fd00::1' }))],
  // deleteByAddress's dump: the address's family, as conntrack -D -s.
  ['delete-by-source-dump-request', () => build(w => writeListConntrackRequest(w, { family: NFPROTO_IPV4 }))]
]

t.test('builders reproduce conntrack requests byte for byte', async t => {
  for (const [name, make] of REQUESTS) {
    const f = fx(name)
    t.equal(f.direction, 'request', name)
    t.equal(hex(normaliseSeqPid(make())), hex(normaliseSeqPid(f.bytes)), `${name}: ${f.command}`)
  }
})

t.test('zone filter: conntrack 1.4.7 filters zones itself; ours is its request plus CTA_ZONE as conntrack encodes it', async t => {
  const plain = normaliseSeqPid(fx('list-zone-request').bytes)
  t.equal(hex(plain), hex(normaliseSeqPid(fx('list-request').bytes)), 'conntrack -L --zone sends the unfiltered request')
  const zone = attributeBytes(fx('insert-zone-request').bytes, CTA_ZONE)
  t.equal(hex(zone), '0600120000050000', 'CTA_ZONE 5 as conntrack -I --zone 5 sends it (be16, padded)')
  const expected = Buffer.concat([plain, zone])
  expected.writeUInt32LE(expected.length, 0)
  t.equal(hex(normaliseSeqPid(build(w => writeListConntrackRequest(w, { zone: 5 })))), hex(expected))
  // libnetfilter_conntrack's order when all filters are set: mark, mark mask, status, status mask, zone.
  const all = build(w => writeListConntrackRequest(w, { zone: 5, status: IPS_ASSURED, mark: 7, markMask: 0xff }))
  const mark = attributeBytes(fx('list-mark-mask-request').bytes, 8)
  const types: number[] = []
  const r = new AttributeReader(all, 20, all.length)
  while (r.next()) types.push(r.type)
  t.same(types, [8, 21, 3, 26, 18])
  t.equal(hex(all.subarray(20, 28)), hex(mark))
})

t.test('deletes: the tuple (and zone) of conntrack -D, the attributes the kernel reads', async t => {
  for (const [name, zone] of [['delete-by-source-request', undefined], ['delete-zone-request', 5]] as const) {
    const f = fx(name)
    const [listed] = entries(f.bytes) // conntrack echoes the listed entry: it decodes like one
    t.ok(listed, `${name} decodes`)
    t.equal(conntrackZone(listed!), zone ?? 0, `${name}: zone`)
    const ours = build(w => writeDeleteConntrackRequest(w, tupleSpecOf(listed!.original), zone !== undefined ? { zone } : {}))
    t.equal(hex(normaliseSeqPid(ours)), hex(normaliseSeqPid(onlyAttributes(f.bytes, [CTA_TUPLE_ORIG, CTA_ZONE]))), `${name}: ${f.command}`)
  }
  t.match(entries(fx('delete-by-source-request').bytes)[0]?.original, { src: '10.0.0.1', dst: '10.0.0.8', protocol: IPPROTO_UDP, srcPort: 5353, dstPort: 53 })
})

t.test('every recorded request has a builder check', async t => {
  const covered = new Set([...REQUESTS.map(r => r[0]), 'list-zone-request', 'delete-by-source-request', 'delete-zone-request', 'insert-zone-request'])
  t.same(FIXTURES.filter(n => fx(n).direction === 'request' && !covered.has(n)), [])
})

t.test('dump replies decode to what conntrack -L -o xml printed', async t => {
  for (const name of ['dump-reply', 'dump-traffic-reply', 'get-udp-reply']) {
    const f = fx(name)
    const xml = parseConntrackXml(f.output as string)
    const ours = entries(f.bytes)
    t.ok(xml.length > 0, `${name}: ${xml.length} flows in conntrack's output`)
    t.same(ours.map(asXmlFlow), xml, `${name}: every flow, field by field`)
  }
  const dump = entries(fx('dump-reply').bytes)
  const tcp = dump.find(e => e.original.dstPort === 80)!
  t.match(tcp, { family: NFPROTO_IPV4, zone: 5, mark: 7, tcp: { stateName: 'ESTABLISHED', state: 3 } })
  t.ok((tcp.status & IPS_ASSURED) !== 0 && (tcp.status & IPS_CONFIRMED) !== 0 && (tcp.status & IPS_SEEN_REPLY) === 0, 'assured, confirmed, unreplied')
  // conntrack -I set the ICMP fields; its XML does not show them.
  t.match(dump.find(e => e.original.protocol === IPPROTO_ICMP), { original: { icmpType: 8, icmpCode: 0, icmpId: 77 }, reply: { icmpType: 0, icmpCode: 0, icmpId: 77 } })
  // The DNATed entry: its reply comes from another address than the original went to.
  t.match(dump.find(e => e.original.dst === '192.0.2.10'), { original: { src: '10.0.0.5', srcPort: 4000, dstPort: 53 }, reply: { src: '10.1.0.7', dst: '10.0.0.5' }, mark: 9 })
  t.ok(dump.every(e => e.timestamp?.start !== undefined && e.timestamp.start > 0n), 'nf_conntrack_timestamp: every entry has its start time')
  t.same(dump.filter(e => e.family === NFPROTO_IPV6).map(e => e.original.src), ['fd00::1'])
  t.notOk(dump.some(e => e.unknown !== undefined || e.original.unknown !== undefined), 'every attribute the kernel sent is known')
  const traffic = entries(fx('dump-traffic-reply').bytes)
  t.match(traffic, [{ original: { src: '10.9.0.1', dst: '10.9.0.2', protocol: IPPROTO_UDP, dstPort: 9999 }, counters: { original: { packets: 1n } } }])
})

t.test('an insert request decodes as the entry conntrack -I was told to make', async t => {
  const [e] = entries(fx('insert-zone-request').bytes)
  t.match(e, {
    family: NFPROTO_IPV4, zone: 5, mark: 7, timeout: 100, status: IPS_ASSURED | IPS_CONFIRMED, // conntrack -I adds CONFIRMED
    original: { src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO_TCP, srcPort: 1234, dstPort: 80 },
    reply: { src: '10.0.0.2', dst: '10.0.0.1', srcPort: 80, dstPort: 1234 },
    tcp: { stateName: 'ESTABLISHED' }
  })
})

t.test('ENOENT for a missing entry', async t => {
  const f = fx('get-enoent-reply')
  let errno = 0
  forEachMessage(f.bytes, (type, flags, _s, _p, start, end) => { if (type === NLMSG_ERROR) errno = decodeErrorMessage(f.bytes, start, end, flags).errno })
  t.equal(errno, 2)
})

t.test('message names and types; malformed input is a NetlinkDecodeError', async t => {
  t.equal(ctnlMessageName(ctnlMessageType(IPCTNL_MSG_CT_NEW)), 'IPCTNL_MSG_CT_NEW')
  t.equal(ctnlMessageName(NLMSG_DONE), undefined)
  t.equal(decodeConntrack(Buffer.alloc(20), NLMSG_DONE, 0, 20), undefined, 'other types are not entries')
  const [m] = [fx('get-udp-reply').bytes]
  const len = m!.readUInt32LE(0)
  t.throws(() => decodeConntrack(m!, ctnlMessageType(IPCTNL_MSG_CT_NEW), 16, 18), NetlinkDecodeError)
  t.throws(() => decodeConntrack(m!.subarray(0, len - 3), ctnlMessageType(IPCTNL_MSG_CT_NEW), 16, len - 3), NetlinkDecodeError)
  const noTuples = Buffer.from(m!.subarray(16, 20)) // nfgenmsg alone
  t.throws(() => decodeConntrack(noTuples, ctnlMessageType(IPCTNL_MSG_CT_NEW), 0, 4), NetlinkDecodeError)
  t.throws(() => build(w => writeGetConntrackRequest(w, { ...UDP, dst: 'fd00::1' })), TypeError, 'mixed families')
  t.throws(() => build(w => writeGetConntrackRequest(w, { ...UDP, srcPort: 70000 })), TypeError, 'port out of range')
  t.throws(() => build(w => writeListConntrackRequest(w, { status: 0 })), TypeError, 'a zero status mask (EINVAL in the kernel)')
})

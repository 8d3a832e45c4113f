// ConntrackService against the kernel (root): two namespaces joined by a
// veth pair, an nft `ct state` rule so namespace A tracks its connections,
// real TCP and UDP traffic from A to a server in B, and a few entries made
// with `conntrack -I` (a zone, a mark, a DNATed reply). The conntrack
// program inside A is the oracle: what we list equals its `-L -o xml` (and
// with each filter, its -L with the same option); after deleteByAddress its
// -L no longer shows the address. Nothing outside the two namespaces is touched.
import t, { type Test } from 'tap'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rootSkip, withNamespaces, type TestNamespace } from '../helpers/netns.js'
import { asXmlFlow, parseConntrackXml, type XmlFlow } from '../helpers/conntrack.js'
import {
  ConntrackService, NetlinkHandle, NetlinkError, NetlinkWriter, NFPROTO_IPV4, NFPROTO_IPV6, IPS_ASSURED, IPPROTO_TCP, IPPROTO_UDP,
  writeListConntrackRequest, decodeConntrack, type ConntrackEntry
} from '../../src/netlink/index.js'

const CONNTRACK = '/usr/sbin/conntrack'
const skip = rootSkip !== false ? rootSkip : existsSync(CONNTRACK) ? false : `needs ${CONNTRACK} (Debian package conntrack) as the oracle`

function conntrack (ns: TestNamespace, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns.name, CONNTRACK, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}
const xml = (ns: TestNamespace, ...args: string[]): XmlFlow[] => parseConntrackXml(conntrack(ns, '-L', '-o', 'xml', ...args))

/** A flow without its timeout (it ticks between two reads), for comparing sets; key for sorting. */
const key = (f: XmlFlow): string => `${f.original.l3} ${f.original.protocol} ${f.original.src} ${f.original.sport ?? ''} ${f.original.dst} ${f.original.dport ?? ''} ${f.zone ?? 0}`
function comparable (flows: XmlFlow[]): Array<Omit<XmlFlow, 'timeout'>> {
  return flows.map(({ timeout: _t, ...rest }) => rest).sort((a, b) => key(a as XmlFlow) < key(b as XmlFlow) ? -1 : 1)
}

// A TCP and UDP echo server (B) and a client (A) that opens connections and keeps them open until killed.
const SERVER = `
const net = require('net'), dgram = require('dgram')
const keep = []
net.createServer(s => { keep.push(s); s.on('error', () => {}) }).listen(7777)
const u = dgram.createSocket('udp6'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(7778)
setTimeout(() => console.log('listening'), 50)`
const CLIENT = `
const net = require('net'), dgram = require('dgram')
const targets = [['10.77.0.2', 3], ['fd77::2', 2]]
let open = 0, want = 0
const keep = []
for (const [host, n] of targets) for (let i = 0; i < n; i++) {
  want++
  const s = net.connect({ host, port: 7777 }, () => { if (++open === want) udp() })
  s.on('error', e => { console.error(e.message); process.exit(1) })
  keep.push(s)
}
function udp () {
  let answers = 0
  const u4 = dgram.createSocket('udp4'), u6 = dgram.createSocket('udp6')
  for (const [u, host] of [[u4, '10.77.0.2'], [u6, 'fd77::2']]) {
    u.on('message', () => { if (++answers === 2) console.log('ready') })
    u.send('ping', 7778, host)
  }
  keep.push(u4, u6)
}`

function run (ns: TestNamespace, code: string, t: { teardown: (fn: () => void) => void }): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill() })
  return new Promise((resolve, reject) => {
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('exit', (c) => reject(new Error(`traffic process exited with ${String(c)}: ${err}`)))
    child.stdout.on('data', () => resolve(child))
  })
}

async function setUp (t: Test): Promise<{ a: TestNamespace, b: TestNamespace, svc: ConntrackService }> {
  const [a, b] = withNamespaces(t, 2)
  a!.ip('link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', b!.name)
  a!.ip('addr', 'add', '10.77.0.1/24', 'dev', 'a0')
  a!.ip('addr', 'add', 'fd77::1/64', 'dev', 'a0', 'nodad')
  a!.ip('link', 'set', 'a0', 'up')
  a!.ip('link', 'set', 'lo', 'up')
  b!.ip('addr', 'add', '10.77.0.2/24', 'dev', 'b0')
  b!.ip('addr', 'add', 'fd77::2/64', 'dev', 'b0', 'nodad')
  b!.ip('link', 'set', 'b0', 'up')
  b!.ip('link', 'set', 'lo', 'up')
  // Connection tracking in A only: a ct expression in its ruleset turns it on there.
  a!.sh(`nft add table inet t
nft 'add chain inet t out { type filter hook output priority 0; }'
nft 'add chain inet t in { type filter hook input priority 0; }'
nft add rule inet t out ct state new,established counter
nft add rule inet t in ct state established counter`)
  await run(b!, SERVER, t)
  await run(a!, CLIENT, t)
  // Entries the conntrack program makes: a zone, a mark, a reply from another address (DNAT), an unrelated one.
  conntrack(a!, '-I', '-p', 'tcp', '-s', '10.77.0.2', '-d', '10.0.0.9', '--sport', '4444', '--dport', '80', '--state', 'ESTABLISHED', '-t', '300', '-u', 'ASSURED', '--zone', '5', '--mark', '7')
  conntrack(a!, '-I', '-p', 'udp', '-s', '10.77.0.1', '-d', '192.0.2.10', '--sport', '4000', '--dport', '53', '-r', '10.77.0.2', '-q', '10.77.0.1', '--reply-port-src', '53', '--reply-port-dst', '4000', '-t', '300', '--mark', '7')
  conntrack(a!, '-I', '-p', 'udp', '-s', '10.0.0.3', '-d', '10.0.0.4', '--sport', '53', '--dport', '999', '-t', '300', '--mark', '0x107')
  const svc = ConntrackService.open({ namespace: a!.ns })
  t.teardown(() => svc.close())
  return { a: a!, b: b!, svc }
}

const holds = (f: XmlFlow, ip: string): boolean => [f.original.src, f.original.dst, f.reply.src, f.reply.dst].includes(ip)

/** The dump straight from the kernel, without the service's own check of the filters. */
async function kernelFiltered (svc: ConntrackService, filter: Parameters<typeof writeListConntrackRequest>[1]): Promise<ConntrackEntry[]> {
  const w = new NetlinkWriter()
  writeListConntrackRequest(w, filter)
  return await svc.socket.dump(w.bytes(), decodeConntrack, 'raw dump')
}

t.test('list equals conntrack -L -o xml, with and without filters', { skip }, async t => {
  const { a, svc } = await setUp(t)
  const all = await svc.list()
  const theirs = xml(a)
  t.ok(theirs.length >= 10, `${theirs.length} entries (5 TCP connections, 2 UDP exchanges, 3 inserted)`)
  t.same(comparable(all.map(asXmlFlow)), comparable(theirs), 'every entry, field by field')
  const late = all.filter(f => Math.abs((f.timeout ?? 0) - (theirs.find(x => key(x) === key(asXmlFlow(f)))?.timeout ?? -99)) > 2)
  t.same(late.map(f => key(asXmlFlow(f))), [], 'every timeout within 2 s of the one conntrack read after ours')
  const established = all.filter(e => e.original.protocol === IPPROTO_TCP && e.original.dstPort === 7777)
  t.equal(established.length, 5, 'the five TCP connections')
  t.ok(established.every(e => e.tcp?.stateName === 'ESTABLISHED' && (e.status & IPS_ASSURED) !== 0), 'established and assured')
  t.equal(all.filter(e => e.original.protocol === IPPROTO_UDP && e.original.dstPort === 7778).length, 2, 'the two UDP exchanges')

  const cases: Array<[string, Parameters<ConntrackService['list']>[0], string[]]> = [
    ['family ipv6', { family: NFPROTO_IPV6 }, ['-f', 'ipv6']],
    ['family ipv4', { family: NFPROTO_IPV4 }, ['-f', 'ipv4']],
    ['mark 7', { mark: 7 }, ['--mark', '7']],
    ['mark 7/0xff', { mark: 7, markMask: 0xff }, ['--mark', '7/0xff']],
    ['status ASSURED', { status: IPS_ASSURED }, ['-u', 'ASSURED']],
    ['zone 5', { zone: 5 }, ['--zone', '5']]
  ]
  for (const [what, filter, args] of cases) {
    const ours = await svc.list(filter)
    const expected = xml(a, ...args)
    t.ok(expected.length > 0 && expected.length < theirs.length, `${what}: conntrack shows ${expected.length} of ${theirs.length}`)
    t.same(comparable(ours.map(asXmlFlow)), comparable(expected), `${what}: as conntrack -L ${args.join(' ')}`)
    t.equal((await kernelFiltered(svc, filter)).length, expected.length, `${what}: filtered by the kernel`)
  }
})

t.test('get and delete by tuple', { skip }, async t => {
  const { a, svc } = await setUp(t)
  const [conn] = (await svc.list({ family: NFPROTO_IPV4 })).filter(e => e.original.dstPort === 7777)
  const tuple = { src: conn!.original.src, dst: conn!.original.dst, protocol: IPPROTO_TCP, srcPort: conn!.original.srcPort!, dstPort: 7777 }
  const got = await svc.get(tuple)
  const g = parseConntrackXml(conntrack(a, '-G', '-p', 'tcp', '-s', tuple.src, '-d', tuple.dst, '--sport', String(tuple.srcPort), '--dport', '7777', '-o', 'xml'))
  t.same(comparable([asXmlFlow(got)]).map(f => ({ ...f, use: 0 })), comparable(g).map(f => ({ ...f, use: 0 })), 'as conntrack -G (use counts the GET itself)')
  t.equal(got.id, conn!.id, 'the same entry')
  const zoned = (await svc.list({ zone: 5 }))[0]!
  t.match(await svc.get({ ...zoned.original, srcPort: zoned.original.srcPort!, dstPort: zoned.original.dstPort! }, { zone: 5 }), { zone: 5, mark: 7 })
  const missing = await svc.get({ ...zoned.original, srcPort: zoned.original.srcPort!, dstPort: zoned.original.dstPort! }).catch((e: unknown) => e)
  t.ok(missing instanceof NetlinkError && missing.code === 'ENOENT', 'not in zone 0')

  await svc.delete(tuple)
  t.notOk(xml(a).some(f => f.original.sport === tuple.srcPort && f.original.dport === 7777 && f.original.src === tuple.src), 'conntrack -L no longer shows it')
  const again = await svc.delete(tuple).catch((e: unknown) => e)
  t.ok(again instanceof NetlinkError && again.code === 'ENOENT', 'a second delete: ENOENT')
  t.match((again as Error).message, /IPCTNL_MSG_CT_DELETE tcp 10\.77\.0\.1:\d+ -> 10\.77\.0\.2:7777 in \/var\/run\/netns\/.*: ENOENT/, 'the error names the entry and the namespace')
})

t.test('deleteByAddress removes every entry holding the address, original or reply, in every zone', { skip }, async t => {
  const { a, svc } = await setUp(t)
  const before = xml(a)
  const ip = '10.77.0.2'
  const holding = before.filter(f => holds(f, ip))
  // The 3 TCP connections and the UDP exchange to B, the zone-5 entry from B, the DNATed entry whose reply comes from B.
  t.equal(holding.length, 6, 'conntrack shows 6 entries holding the address')
  t.ok(holding.some(f => f.original.dst !== ip && f.reply.src === ip), 'one holds it only as its reply source (DNAT)')
  t.ok(holding.some(f => f.zone === 5), 'one is in zone 5')
  t.equal(await svc.deleteByAddress(ip), 6, 'deleted 6')
  const after = xml(a)
  t.same(after.filter(f => holds(f, ip)), [], 'conntrack -L shows none of them')
  t.same(comparable(after), comparable(before.filter(f => !holds(f, ip))), 'and every other entry is still there')
  t.equal(await svc.deleteByAddress(ip), 0, 'again: nothing left, no error')

  // IPv6, through a handle on the namespace.
  const h = NetlinkHandle.open(a.ns)
  t.teardown(() => h.close())
  t.equal(await h.conntrack.deleteByAddress('fd77::2'), 3, 'the two TCP connections and the UDP exchange over IPv6')
  t.same(xml(a, '-f', 'ipv6'), [], 'conntrack -L -f ipv6 is empty')
  t.same(comparable((await h.conntrack.list()).map(asXmlFlow)), comparable(xml(a)), 'handle.conntrack lists the rest')
  await t.rejects(svc.deleteByAddress('10.77.0'), TypeError)
})

t.test('deleteByAddress with more entries than one datagram of deletes holds', { skip }, async t => {
  const [a] = withNamespaces(t, 1)
  // 700 UDP entries from 10.66.0.1 (three sendmsg of deletes), and 20 of another address that must stay.
  a!.sh(`i=0; while [ $i -lt 700 ]; do conntrack -I -p udp -s 10.66.0.1 -d 10.67.$((i / 250)).$((i % 250 + 1)) --sport 1000 --dport 53 -t 300 2>/dev/null; i=$((i+1)); done
i=0; while [ $i -lt 20 ]; do conntrack -I -p udp -s 10.66.0.2 -d 10.67.9.$((i + 1)) --sport 1000 --dport 53 -t 300 2>/dev/null; i=$((i+1)); done`)
  t.equal(xml(a!).length, 720, 'conntrack shows 720 entries')
  const svc = ConntrackService.open({ namespace: a!.ns })
  t.teardown(() => svc.close())
  t.equal(await svc.deleteByAddress('10.66.0.1'), 700)
  const left = xml(a!)
  t.equal(left.length, 20, 'conntrack shows 20 left')
  t.ok(left.every(f => f.original.src === '10.66.0.2'), 'all of the other address')
})

t.test('deleteByAddress of a dual-stack pod: both addresses in one dump', { skip }, async t => {
  const { a, svc } = await setUp(t)
  const ips = ['10.77.0.2', 'fd77::2']
  const holding = xml(a).filter(f => ips.some(ip => holds(f, ip)))
  t.equal(holding.length, 9, 'conntrack shows 9 entries holding one of them (6 IPv4, 3 IPv6)')
  let dumps = 0
  const dump = svc.socket.dump.bind(svc.socket)
  svc.socket.dump = (...args: Parameters<typeof dump>) => { dumps++; return dump(...args) }
  t.equal(await svc.deleteByAddress(ips), 9)
  t.equal(dumps, 1, 'one dump (each walks the whole kernel table)')
  t.same(xml(a).filter(f => ips.some(ip => holds(f, ip))), [], 'conntrack -L shows none of them')
  t.ok(xml(a).length > 0, 'the others stay')
  t.equal(await svc.deleteByAddress([]), 0, 'no address: nothing to do')
})

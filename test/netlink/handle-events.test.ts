// NetlinkHandle and route events, live (root, own namespaces): the handle acts
// in its namespace only, and events arrive decoded.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { NetNamespace, NetlinkHandle, subscribeRouteEvents, NetlinkError, type RouteEvent, type Overrun, type RouteSnapshot } from '../../src/netlink/index.js'
import { NetlinkSocket } from '../../src/netlink/socket.js'
import { rootSkip, withNamespaces } from '../helpers/netns.js'

t.test('a handle on a namespace by object, path and name', { skip: rootSkip }, async t => {
  const [a] = withNamespaces(t, 1)
  for (const target of [a!.ns, `/var/run/netns/${a!.name}`, a!.name]) {
    const h = NetlinkHandle.open(target)
    t.same((await h.links.list()).map(l => l.name), ['lo'], `only lo in ${String(typeof target === 'string' ? target : 'NetNamespace')}`)
    h.close()
  }
  const h = NetlinkHandle.open(a!.ns)
  await h.links.createVeth({ name: 'ha0', peerName: 'ha1' })
  const err = await h.links.createVeth({ name: 'ha0', peerName: 'ha2' }).catch((e: unknown) => e)
  t.ok(err instanceof NetlinkError, 'a duplicate link is a NetlinkError')
  t.equal((err as NetlinkError).code, 'EEXIST')
  t.match((err as NetlinkError).message, new RegExp(`ha0.*in /var/run/netns/${a!.name}: EEXIST`))
  t.same(a!.ipJson<Array<{ ifname: string }>>('link', 'show').map(l => l.ifname).sort(), ['ha0', 'ha1', 'lo'], 'ip -j sees the pair')
  h.close()
  t.throws(() => NetlinkHandle.open('/var/run/netns/tscni-no-such-namespace'), { code: 'ENOENT' })

  // A handle on a socket opened elsewhere acts where the socket was opened, and closes it.
  const socket = NetlinkSocket.open({ namespace: a!.ns })
  const on = NetlinkHandle.fromSocket(socket, a!.ns)
  t.equal(on.socket, socket)
  t.equal(on.namespace, a!.ns)
  t.same((await on.links.list()).map(l => l.name).sort(), ['ha0', 'ha1', 'lo'], 'its services act in the socket\'s namespace')
  t.same((await on.addresses.list({ index: 1 })).map(x => x.cidr), [], 'lo is down: no address')
  on.close()
  t.equal(socket.idle, false, 'close() closed the socket')
  t.equal(a!.ns.run(() => 'open'), 'open', 'the namespace is not the handle\'s to close')
})

t.test('events: links and addresses, decoded', { skip: rootSkip }, async t => {
  const [a] = withNamespaces(t, 1)
  const sub = subscribeRouteEvents(['link', 'ipv4-address'], { namespace: a!.ns })
  t.teardown(() => sub.close())
  const h = NetlinkHandle.open(a!.ns)
  t.teardown(() => h.close())
  await h.links.createVeth({ name: 'ev0', peerName: 'ev1' })
  const ev0 = await h.links.get('ev0')
  await h.addresses.add({ index: ev0.index, address: '10.20.30.1/24' })
  await h.links.delete('ev0')
  const seen: string[] = []
  for await (const ev of sub) {
    if ('kind' in ev) { t.fail('no overrun expected'); break }
    const e = ev as RouteEvent
    if ('link' in e) seen.push(`${e.type} ${e.link.name}`)
    if ('address' in e) seen.push(`${e.type} ${e.address.cidr}`)
    if (seen.includes('RTM_DELLINK ev0')) break
  }
  t.ok(seen.includes('RTM_NEWLINK ev0'), 'link creation')
  t.ok(seen.includes('RTM_NEWADDR 10.20.30.1/24'), 'address added')
  t.ok(seen.includes('RTM_DELLINK ev0'), 'link deletion')
})

// Overruns. The consumer "pauses" the hard way: the event loop is blocked
// (a synchronous `ip -batch` adding thousands of routes) while the kernel
// queues events for a small receive buffer, so it must drop some. Before
// NETLINK_NO_ENOBUFS the `netlink` addon aborted the process here (POLLERR
// from ENOBUFS reached its poll handler, which throws from a native callback).
function routeBatch (n: number, prefix: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tscni-routes-')), 'batch')
  writeFileSync(file, Array.from({ length: n }, (_, i) => `route add ${prefix}.${(i >> 8) & 255}.${i & 255}/32 dev lo`).join('\n') + '\n')
  return file
}
const withPrefix = (dst: string): string => dst.includes('/') ? dst : dst === 'default' ? '0.0.0.0/0' : `${dst}/32`

t.test('overrun: a flood to a consumer that pauses; the process lives, the consumer is told and resynchronised', { skip: rootSkip }, async t => {
  const [a] = withNamespaces(t, 1)
  a!.ip('link', 'set', 'lo', 'up')
  const file = routeBatch(5000, '10.50')
  t.teardown(() => rmSync(dirname(file), { recursive: true, force: true }))
  const sub = subscribeRouteEvents(['ipv4-route'], { namespace: a!.ns, receiveBufferSize: 64 * 1024, resync: true })
  t.teardown(() => sub.close())
  execFileSync('ip', ['-n', a!.name, '-batch', file]) // blocks this process: nothing reads the socket meanwhile
  let events = 0
  let overrun: Overrun | undefined
  let snapshot: RouteSnapshot | undefined
  // Read with next(): leaving a for-await loop would close the subscription.
  while (snapshot === undefined) {
    const { value: ev, done } = await sub.next()
    if (done === true) break
    if (!('kind' in ev)) events++
    else if (ev.kind === 'overrun') overrun ??= ev
    else snapshot = ev.snapshot
  }
  t.ok(overrun, 'an overrun item')
  t.ok((overrun?.error.dropped ?? 0) > 0, `the kernel dropped ${overrun?.error.dropped ?? 0} messages`)
  t.equal(overrun?.error.code, 'ENOBUFS')
  t.ok(events < 5000, `only ${events} of 5000 route events arrived before the overrun`)
  const ours = (snapshot?.routes ?? []).map(r => `${r.dst} ${r.table}`).sort()
  const ip = a!.ipJson<Array<{ dst: string, table?: string }>>('-4', 'route', 'show', 'table', 'all')
    .map(r => `${withPrefix(r.dst)} ${r.table === 'local' ? 255 : r.table === undefined || r.table === 'main' ? 254 : r.table}`).sort()
  t.equal(ours.filter(r => r.startsWith('10.50.')).length, 5000, 'the snapshot holds all 5000 routes')
  t.same(ours, ip, 'the snapshot equals ip -j -4 route show table all')
  // The subscription goes on after it: a new route still arrives as an event.
  execFileSync('ip', ['-n', a!.name, 'route', 'add', '10.51.0.1/32', 'dev', 'lo'])
  for await (const ev of sub) {
    if (!('kind' in ev) && 'route' in ev && ev.route.dst === '10.51.0.1/32') { t.pass('events flow again'); break }
  }
})

t.test('overrun of our own queue: a consumer that does not read for a while', { skip: rootSkip }, async t => {
  const [a] = withNamespaces(t, 1)
  a!.ip('link', 'set', 'lo', 'up')
  const sub = subscribeRouteEvents(['ipv4-route'], { namespace: a!.ns, maxQueued: 100 })
  t.teardown(() => sub.close())
  const h = NetlinkHandle.open(a!.ns)
  t.teardown(() => h.close())
  // The event loop runs (the socket is read) but nobody takes the events.
  for (let i = 0; i < 300; i++) await h.routes.add({ dst: `10.60.0.${i % 250}/32`, table: 100 + Math.floor(i / 250), oif: 1 })
  await new Promise(resolve => setTimeout(resolve, 100))
  const items: unknown[] = []
  while (items.length === 0 || !(items.at(-1) as { route?: { dst: string, table: number } }).route?.dst.startsWith('10.60.0.49/')) items.push((await sub.next()).value)
  t.match(items[0], { kind: 'overrun', error: { code: 'ENOBUFS', dropped: 100 } }, 'the queue was dropped and the consumer is told first')
  t.ok(items.length <= 100, `then at most a queue's worth: ${items.length} items`)
  t.match(items.at(-1), { type: 'RTM_NEWROUTE', route: { dst: '10.60.0.49/32', table: 101 } }, 'ending with the newest event')
  t.ok(sub.overruns >= 2, `${sub.overruns} overflows of a 100-item queue for 300 events`)
})

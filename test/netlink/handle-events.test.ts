// NetlinkHandle and route events, live (root, own namespaces): the handle acts
// in its namespace only, and events arrive decoded.
import t from 'tap'
import { NetNamespace, NetlinkHandle, subscribeRouteEvents, NetlinkError, type RouteEvent } from '../../src/netlink/index.js'
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

// Not tested here: an overflowing listener. Our socket turns ENOBUFS into an
// { kind: 'overrun' } item, but the `netlink` package's native addon aborts the
// process (std::terminate in ErrnoException, from Socket::PollHandler) when it
// reports ENOBUFS after a burst; see the README. Subscriptions therefore ask for
// a 4 MiB receive buffer by default.

// AddressService against the running kernel, in a throwaway namespace, with
// `ip -j addr show` as the independent oracle.
import t, { type Test } from 'tap'
import { withNamespaces, rootSkip, type TestNamespace } from '../helpers/netns.js'
import { NetlinkSocket } from '../../src/netlink/socket.js'
import { NetlinkError } from '../../src/netlink/errors.js'
import { AF_INET, AF_INET6 } from '../../src/netlink/route/rtnetlink.js'
import { IFA_F_NODAD, IFA_F_NOPREFIXROUTE, RT_SCOPE_LINK } from '../../src/netlink/route/address.js'
import { AddressService } from '../../src/netlink/route/addresses.js'

interface IpAddrInfo {
  family: string
  local: string
  address?: string
  prefixlen: number
  broadcast?: string
  scope: string
  label?: string
  nodad?: boolean
  noprefixroute?: boolean
  secondary?: boolean
  tentative?: boolean
  valid_life_time: number
  preferred_life_time: number
}

interface Setup { net: TestNamespace, addresses: AddressService, va: number, vb: number }

/** A namespace with an up veth pair va/vb and an AddressService on a socket inside it. */
function setup (t: Test): Setup {
  const [net] = withNamespaces(t, 1) as [TestNamespace]
  net.sh('ip link add va type veth peer name vb; ip link set va up; ip link set vb up')
  const socket = NetlinkSocket.open({ namespace: net.ns, extendedAck: true })
  t.teardown(() => { socket.close() })
  const index = (dev: string): number => net.ipJson<Array<{ ifindex: number }>>('link', 'show', 'dev', dev)[0]!.ifindex
  return { net, addresses: new AddressService(socket), va: index('va'), vb: index('vb') }
}

function ipAddrs (net: TestNamespace, dev: string): IpAddrInfo[] {
  return net.ipJson<Array<{ addr_info: IpAddrInfo[] }>>('addr', 'show', 'dev', dev)[0]!.addr_info
}

t.test('IPv4: add with broadcast and label, list, duplicate, delete', { skip: rootSkip }, async t => {
  const { net, addresses, va } = setup(t)
  await addresses.add({ index: va, address: '10.1.0.2/24', broadcast: 'auto', label: 'va:one' })
  const ip = ipAddrs(net, 'va').find(a => a.local === '10.1.0.2')
  t.match(ip, { family: 'inet', prefixlen: 24, broadcast: '10.1.0.255', label: 'va:one', scope: 'global' })

  const listed = (await addresses.list({ index: va, family: AF_INET })).find(a => a.address === '10.1.0.2')
  t.match(listed, { family: AF_INET, index: va, cidr: '10.1.0.2/24', broadcast: '10.1.0.255', label: 'va:one', permanent: true, tentative: false, validLifetime: Infinity })

  const err = await addresses.add({ index: va, address: '10.1.0.2/24' }).then(() => undefined, (e: unknown) => e)
  t.type(err, NetlinkError)
  const e = err as NetlinkError
  t.equal(e.code, 'EEXIST')
  t.equal(e.operation, 'RTM_NEWADDR 10.1.0.2/24 dev va', 'the operation names the address and the interface by name')
  t.equal(e.namespace, net.ns.path)
  t.match(e.message, /RTM_NEWADDR 10\.1\.0\.2\/24 dev va in \/var\/run\/netns\/.*: EEXIST/)

  // A second address in the subnet becomes secondary; a /30 with a peer.
  await addresses.add({ index: va, address: '10.1.0.3/24' })
  await addresses.add({ index: va, address: '10.4.0.1/30', peer: '10.4.0.2' })
  const all = await addresses.list({ index: va, family: AF_INET })
  t.match(all.find(a => a.address === '10.1.0.3'), { secondary: true, broadcast: undefined })
  t.match(all.find(a => a.address === '10.4.0.1'), { peer: '10.4.0.2', prefixLength: 30 })
  t.match(ipAddrs(net, 'va').find(a => a.local === '10.4.0.1'), { address: '10.4.0.2', prefixlen: 30 })

  await addresses.delete({ index: va, address: '10.1.0.2/24' })
  t.notOk(ipAddrs(net, 'va').some(a => a.local === '10.1.0.2'), 'gone from ip addr')
  t.notOk((await addresses.list({ index: va })).some(a => a.address === '10.1.0.2'), 'gone from list')
  const again = await addresses.delete({ index: va, address: '10.1.0.2/24' }).then(() => undefined, (e: unknown) => e)
  t.match(again, { code: 'EADDRNOTAVAIL', operation: 'RTM_DELADDR 10.1.0.2/24 dev va' })
})

t.test('IPv6: nodad, noprefixroute, lifetimes, replace, delete by bare address', { skip: rootSkip }, async t => {
  const { net, addresses, va } = setup(t)
  await addresses.add({ index: va, address: '2001:db8::1/64', flags: IFA_F_NODAD })
  await addresses.add({ index: va, address: '2001:db8:1::1/64', flags: IFA_F_NODAD | IFA_F_NOPREFIXROUTE })
  await addresses.add({ index: va, address: '2001:db8:2::1/64', flags: IFA_F_NODAD, validLifetime: 100, preferredLifetime: 50 })
  const ip = ipAddrs(net, 'va')
  t.match(ip.find(a => a.local === '2001:db8::1'), { family: 'inet6', prefixlen: 64, nodad: true })
  t.equal(ip.find(a => a.local === '2001:db8::1')?.noprefixroute, undefined)
  t.match(ip.find(a => a.local === '2001:db8:1::1'), { nodad: true, noprefixroute: true })
  const lft = ip.find(a => a.local === '2001:db8:2::1')!
  t.ok(lft.valid_life_time <= 100 && lft.valid_life_time >= 90, `valid lifetime ${lft.valid_life_time}`)
  t.ok(lft.preferred_life_time <= 50 && lft.preferred_life_time >= 40, `preferred lifetime ${lft.preferred_life_time}`)
  const routes = net.ipJson<Array<{ dst: string }>>('-6', 'route', 'show', 'dev', 'va').map(r => r.dst)
  t.ok(routes.includes('2001:db8::/64'), 'a prefix route for the plain address')
  t.notOk(routes.includes('2001:db8:1::/64'), 'no prefix route with IFA_F_NOPREFIXROUTE')

  const list = await addresses.list({ index: va, family: AF_INET6 })
  t.match(list.find(a => a.address === '2001:db8::1'), { tentative: false, noPrefixRoute: false, flags: Number })
  t.ok((list.find(a => a.address === '2001:db8::1')!.flags & IFA_F_NODAD) !== 0)
  t.match(list.find(a => a.address === '2001:db8:1::1'), { noPrefixRoute: true })
  const l = list.find(a => a.address === '2001:db8:2::1')!
  t.ok(l.validLifetime <= 100 && l.validLifetime >= 90 && l.preferredLifetime <= 50, 'lifetimes as ip shows them')
  t.match(list.find(a => a.address.startsWith('fe80:')), { scope: RT_SCOPE_LINK, prefixLength: 64 })
  t.same(new Set(list.map(a => a.cidr)), new Set(ip.map(a => `${a.local}/${a.prefixlen}`)), 'the same set as ip -6 addr')

  // replace: the lifetimes go back to forever.
  await addresses.replace({ index: va, address: '2001:db8:2::1/64', flags: IFA_F_NODAD })
  t.equal(ipAddrs(net, 'va').find(a => a.local === '2001:db8:2::1')?.valid_life_time, 4294967295)
  t.equal((await addresses.list({ index: va })).find(a => a.address === '2001:db8:2::1')?.validLifetime, Infinity)

  // A bare IPv6 address is deleted with its own prefix length.
  await addresses.delete({ index: va, address: '2001:db8:1::1' })
  t.notOk(ipAddrs(net, 'va').some(a => a.local === '2001:db8:1::1'))
})

t.test('DAD: a plain IPv6 address starts tentative, as ip reports', { skip: rootSkip }, async t => {
  const { net, addresses, va } = setup(t)
  await addresses.add({ index: va, address: '2001:db8:9::1/64' })
  const ours = (await addresses.list({ index: va })).find(a => a.address === '2001:db8:9::1')!
  const theirs = ipAddrs(net, 'va').find(a => a.local === '2001:db8:9::1')!
  // DAD takes about a second on veth; both reads happen well within it.
  t.equal(ours.tentative, true)
  t.equal(theirs.tentative, true)
})

t.test('list filters by interface and family', { skip: rootSkip }, async t => {
  const { addresses, va, vb } = setup(t)
  await addresses.add({ index: va, address: '10.1.0.1/24' })
  await addresses.add({ index: vb, address: '10.2.0.1/24' })
  await addresses.add({ index: vb, address: '2001:db8:b::1/64', flags: IFA_F_NODAD })
  const onVb = await addresses.list({ index: vb })
  t.ok(onVb.length >= 2 && onVb.every(a => a.index === vb))
  t.same((await addresses.list({ index: vb, family: AF_INET })).map(a => a.cidr), ['10.2.0.1/24'])
  const v4 = await addresses.list({ family: AF_INET })
  t.same(v4.map(a => a.cidr).sort(), ['10.1.0.1/24', '10.2.0.1/24'], 'no loopback address: lo is down in a new namespace')
  const err = await addresses.add({ index: 999, address: '10.9.0.1/24' }).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'ENODEV', operation: 'RTM_NEWADDR 10.9.0.1/24 dev index 999' }, 'an unknown index is named by number')
})

// RouteService against the running kernel, in a throwaway namespace, with
// `ip -j route show` as the independent oracle.
import t, { type Test } from 'tap'
import { withNamespaces, rootSkip, type TestNamespace } from '../helpers/netns.js'
import { NetlinkSocket } from '../../src/netlink/socket.js'
import { NetlinkError } from '../../src/netlink/errors.js'
import { AF_INET, AF_INET6 } from '../../src/netlink/route/rtnetlink.js'
import { RTPROT_BOOT, RTPROT_STATIC, RT_SCOPE_LINK, RT_TABLE_MAIN } from '../../src/netlink/route/route.js'
import { RouteService } from '../../src/netlink/route/routes.js'

interface IpRoute {
  dst: string
  gateway?: string
  dev?: string
  metric?: number
  protocol?: string
  scope?: string
  prefsrc?: string
  table?: string
  metrics?: Array<Record<string, number>>
  nexthops?: Array<{ gateway: string, dev: string, weight: number }>
}

interface Setup { net: TestNamespace, routes: RouteService, va: number, vc: number }

/** Two up veth pairs (va/vb 10.1.0.1/24 + 2001:db8::1/64, vc/vd 10.2.0.1/24 + 2001:db8:2::1/64) and a RouteService. */
function setup (t: Test): Setup {
  const [net] = withNamespaces(t, 1) as [TestNamespace]
  net.sh(`ip link add va type veth peer name vb; ip link add vc type veth peer name vd
    for d in va vb vc vd; do ip link set $d up; done
    ip addr add 10.1.0.1/24 dev va; ip addr add 10.2.0.1/24 dev vc
    ip -6 addr add 2001:db8::1/64 dev va nodad; ip -6 addr add 2001:db8:2::1/64 dev vc nodad`)
  const socket = NetlinkSocket.open({ namespace: net.ns, extendedAck: true })
  t.teardown(() => { socket.close() })
  const index = (dev: string): number => net.ipJson<Array<{ ifindex: number }>>('link', 'show', 'dev', dev)[0]!.ifindex
  return { net, routes: new RouteService(socket), va: index('va'), vc: index('vc') }
}

const ipRoutes = (net: TestNamespace, ...args: string[]): IpRoute[] => net.ipJson<IpRoute[]>('route', 'show', ...args)

async function failure (p: Promise<unknown>): Promise<NetlinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof NetlinkError)) throw new Error(`expected a NetlinkError, got ${String(err)}`)
  return err
}

t.test('default route, duplicate (EEXIST with context), get, delete', { skip: rootSkip }, async t => {
  const { net, routes, va } = setup(t)
  await routes.add({ dst: 'default', gateway: '10.1.0.254', oif: va })
  t.match(net.ipJson<IpRoute[]>('-d', 'route', 'show', 'default'), [{ dst: 'default', gateway: '10.1.0.254', dev: 'va', protocol: 'boot' }])
  const main = await routes.list({ family: AF_INET, table: RT_TABLE_MAIN })
  t.match(main.find(r => r.dst === '0.0.0.0/0'), { gateway: '10.1.0.254', oif: va, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: 0 })

  const dup = await failure(routes.add({ dst: 'default', gateway: '10.1.0.254', oif: va }))
  t.equal(dup.code, 'EEXIST')
  t.equal(dup.operation, 'RTM_NEWROUTE default via 10.1.0.254 dev va table 254')
  t.equal(dup.namespace, net.ns.path)

  const looked = await routes.get('10.9.1.1')
  t.match(looked, { dst: '10.9.1.1/32', gateway: '10.1.0.254', oif: va, prefsrc: '10.1.0.1', table: RT_TABLE_MAIN })
  const onLink = await routes.get('10.1.0.77')
  t.match(onLink, { gateway: undefined, oif: va })
  const unreachable = await failure(routes.get('2001:db8:99::1'))
  t.equal(unreachable.code, 'ENETUNREACH')

  await routes.delete({ dst: 'default', gateway: '10.1.0.254', oif: va })
  t.same(ipRoutes(net, 'default'), [])
  const gone = await failure(routes.delete({ dst: 'default', gateway: '10.1.0.254', oif: va }))
  t.equal(gone.code, 'ESRCH')
  t.match(gone.operation, /^RTM_DELROUTE default via 10\.1\.0\.254 dev va table 254$/)
})

t.test('table above 255, metrics, src and protocol, link scope', { skip: rootSkip }, async t => {
  const { net, routes, va, vc } = setup(t)
  await routes.add({ dst: '10.9.0.0/16', gateway: '10.1.0.254', oif: va, table: 1000 })
  t.match(ipRoutes(net, 'table', '1000'), [{ dst: '10.9.0.0/16', gateway: '10.1.0.254', dev: 'va' }])
  t.same(ipRoutes(net, '10.9.0.0/16'), [], 'not in main')
  const t1000 = await routes.list({ table: 1000 })
  t.equal(t1000.length, 1)
  t.match(t1000[0], { dst: '10.9.0.0/16', table: 1000, gateway: '10.1.0.254', oif: va })

  await routes.add({ dst: '10.7.0.0/16', gateway: '10.1.0.254', oif: va, priority: 100, metrics: { mtu: 1400, advmss: 1360 } })
  t.match(ipRoutes(net, '10.7.0.0/16'), [{ gateway: '10.1.0.254', metric: 100, metrics: [{ mtu: 1400, advmss: 1360 }] }])
  const metricRoute = (await routes.list({ family: AF_INET })).find(r => r.dst === '10.7.0.0/16')
  t.match(metricRoute, { priority: 100, metrics: { mtu: 1400, advmss: 1360 } })

  await routes.add({ dst: '10.5.0.0/16', gateway: '10.2.0.254', oif: vc, prefsrc: '10.1.0.1', protocol: RTPROT_STATIC })
  t.match(ipRoutes(net, '10.5.0.0/16'), [{ gateway: '10.2.0.254', dev: 'vc', prefsrc: '10.1.0.1', protocol: 'static' }])
  await routes.add({ dst: '10.6.0.0/24', oif: vc })
  t.match(ipRoutes(net, '10.6.0.0/24'), [{ dev: 'vc', scope: 'link' }])
  t.same((await routes.list({ oif: vc, family: AF_INET, table: RT_TABLE_MAIN })).map(r => r.dst).sort(), ['10.2.0.0/24', '10.5.0.0/16', '10.6.0.0/24'])
  t.same((await routes.list({ oif: vc, family: AF_INET })).map(r => r.dst).sort(), ['10.2.0.0/24', '10.2.0.1/32', '10.2.0.255/32', '10.5.0.0/16', '10.6.0.0/24'], 'every table: the local table too')
  t.match((await routes.list({ table: RT_TABLE_MAIN })).find(r => r.dst === '10.6.0.0/24'), { scope: RT_SCOPE_LINK })

  await routes.delete({ dst: '10.9.0.0/16', table: 1000 })
  t.same(ipRoutes(net, 'table', '1000'), [])
  t.same(await routes.list({ table: 1000 }), [])
})

t.test('multipath and ECMP', { skip: rootSkip }, async t => {
  const { net, routes, va, vc } = setup(t)
  await routes.add({ dst: '10.8.0.0/16', multipath: [{ gateway: '10.1.0.254', oif: va }, { gateway: '10.2.0.254', oif: vc, weight: 3 }] })
  t.match(ipRoutes(net, '10.8.0.0/16'), [{ dst: '10.8.0.0/16', nexthops: [{ gateway: '10.1.0.254', dev: 'va', weight: 1 }, { gateway: '10.2.0.254', dev: 'vc', weight: 3 }] }])
  t.match((await routes.list({ family: AF_INET })).find(r => r.dst === '10.8.0.0/16')?.multipath,
    [{ gateway: '10.1.0.254', oif: va, weight: 1 }, { gateway: '10.2.0.254', oif: vc, weight: 3 }])

  // IPv6, as the CNI plugins add routes (NLM_F_CREATE only): a second gateway joins the route.
  await routes.create({ dst: '2001:db8:7::/48', gateway: '2001:db8::fe', oif: va })
  await routes.create({ dst: '2001:db8:7::/48', gateway: '2001:db8:2::fe', oif: vc })
  const v6 = net.ipJson<IpRoute[]>('-6', 'route', 'show', '2001:db8:7::/48')
  t.match(v6, [{ nexthops: [{ gateway: '2001:db8::fe', dev: 'va' }, { gateway: '2001:db8:2::fe', dev: 'vc' }] }])
  t.match((await routes.list({ family: AF_INET6 })).find(r => r.dst === '2001:db8:7::/48')?.multipath,
    [{ gateway: '2001:db8::fe', oif: va }, { gateway: '2001:db8:2::fe', oif: vc }])

  // IPv4 append adds a second route to the same prefix.
  await routes.add({ dst: '10.3.0.0/16', gateway: '10.1.0.254', oif: va })
  await routes.append({ dst: '10.3.0.0/16', gateway: '10.2.0.254', oif: vc })
  t.equal(ipRoutes(net, '10.3.0.0/16').length, 2)
  t.equal((await routes.list({ family: AF_INET })).filter(r => r.dst === '10.3.0.0/16').length, 2)
  // A CNI-style create of an existing IPv4 route fails as upstream's does.
  t.equal((await failure(routes.create({ dst: '10.3.0.0/16', gateway: '10.1.0.254', oif: va }))).code, 'EEXIST')

  // replace: one route, the new gateway.
  await routes.replace({ dst: '10.8.0.0/16', gateway: '10.2.0.253', oif: vc })
  t.match(ipRoutes(net, '10.8.0.0/16'), [{ gateway: '10.2.0.253', dev: 'vc' }])
})

t.test('IPv6 default route via a link-local gateway', { skip: rootSkip }, async t => {
  const { net, routes, va } = setup(t)
  await routes.add({ dst: 'default', family: AF_INET6, gateway: 'fe80::1', oif: va })
  t.match(net.ipJson<IpRoute[]>('-6', 'route', 'show', 'default'), [{ dst: 'default', gateway: 'fe80::1', dev: 'va', metric: 1024 }])
  const route = (await routes.list({ family: AF_INET6, table: RT_TABLE_MAIN })).find(r => r.dst === '::/0')
  t.match(route, { family: AF_INET6, gateway: 'fe80::1', oif: va, priority: 1024 })
  t.match(await routes.get('2001:db8:99::1'), { gateway: 'fe80::1', oif: va })
  await routes.delete({ dst: '::/0', gateway: 'fe80::1', oif: va })
  t.same(net.ipJson('-6', 'route', 'show', 'default'), [])
})

t.test('list agrees with ip route show table all', { skip: rootSkip }, async t => {
  const { net, routes, va } = setup(t)
  await routes.add({ dst: 'default', gateway: '10.1.0.254', oif: va })
  await routes.add({ dst: '10.9.0.0/16', gateway: '10.1.0.254', oif: va, table: 1000 })
  const ours = (await routes.list({ family: AF_INET })).map(r => `${r.dst} ${r.table}`).sort()
  const theirs = net.ipJson<IpRoute[]>('-4', 'route', 'show', 'table', 'all').map(r => {
    const dst = r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`
    const table = r.table === undefined || r.table === 'main' ? 254 : r.table === 'local' ? 255 : Number(r.table)
    return `${dst} ${table}`
  }).sort()
  t.same(ours, theirs)
})

t.test('realms (RTA_FLOW) and RTA_VIA in routes.list, against ip -j route show', { skip: rootSkip }, async t => {
  const { net, routes, va, vc } = setup(t)
  await routes.add({ dst: '10.13.0.0/16', gateway: '10.1.0.254', oif: va, flow: 3 << 16 | 5 })
  await routes.add({ dst: '10.14.0.0/16', multipath: [{ gateway: '10.1.0.254', oif: va, flow: 7 }, { gateway: '10.2.0.254', oif: vc }] })
  await routes.add({ dst: '10.11.0.0/16', via: { family: AF_INET6, address: 'fe80::1' }, oif: va })
  net.ip('route', 'add', '10.15.0.0/16', 'via', '10.1.0.254', 'dev', 'va', 'realm', '12')
  const realm = (flow: { from?: string, to: string } | undefined): number | undefined => flow === undefined ? undefined : (Number(flow.from ?? 0) << 16) | Number(flow.to)
  const ip = net.ipJson<Array<Record<string, any>>>('route', 'show')
  const ours = await routes.list({ family: AF_INET, table: RT_TABLE_MAIN })
  for (const dst of ['10.13.0.0/16', '10.14.0.0/16', '10.15.0.0/16', '10.11.0.0/16']) {
    const j = ip.find(r => r.dst === dst)!
    const r = ours.find(x => x.dst === dst)!
    t.equal(r.flow, realm(j.flow), `${dst}: realms`)
    t.equal(r.via, j.via?.host, `${dst}: via`)
    t.same(r.multipath?.map(nh => nh.flow), j.nexthops?.map((nh: any) => realm(nh.flow)), `${dst}: realms per nexthop`)
  }
  t.equal(ours.find(x => x.dst === '10.13.0.0/16')!.flow, 3 << 16 | 5)
  t.equal(ours.find(x => x.dst === '10.15.0.0/16')!.flow, 12)
})

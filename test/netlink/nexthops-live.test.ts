// NexthopService and routes using nexthop objects against the running
// kernel, in a throwaway namespace, with `ip -j nexthop show` and
// `ip -j route show` as the independent oracle. Root only.
import t from 'tap'
import { withNamespaces, rootSkip, type TestNamespace } from '../helpers/netns.js'
import { nexthopAsIproute2, routeNexthopsAsIproute2 } from '../helpers/iproute2.js'
import { NetlinkHandle } from '../../src/netlink/handle.js'
import { NetlinkError } from '../../src/netlink/errors.js'
import { AF_INET, AF_INET6 } from '../../src/netlink/route/rtnetlink.js'
import { AttributeReader } from '../../src/netlink/attributes.js'
import { NHA_GROUP, NHMSG_SIZE } from '../../src/netlink/route/nexthop.js'
import { buildGetNexthopRequest } from '../../src/netlink/route/nexthops.js'

async function failure (p: Promise<unknown>): Promise<NetlinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof NetlinkError)) throw new Error(`expected a NetlinkError, got ${String(err)}`)
  return err
}

t.test('nexthop objects and routes that use them, against ip -j', { skip: rootSkip }, async t => {
  const [net] = withNamespaces(t, 1) as [TestNamespace]
  net.sh(`ip link add va type veth peer name vb; ip link add vc type veth peer name vd
    for d in lo va vb vc vd; do ip link set $d up; done
    ip addr add 10.1.0.1/24 dev va; ip addr add 10.2.0.1/24 dev vc; ip -6 addr add 2001:db8::5/64 dev va nodad`)
  const links = net.ipJson<Array<{ ifindex: number, ifname: string }>>('link', 'show')
  const names = new Map(links.map(l => [l.ifindex, l.ifname]))
  const index = (name: string): number => links.find(l => l.ifname === name)!.ifindex
  const h = NetlinkHandle.open(net.ns, { extendedAck: true })
  t.teardown(() => { h.close() })

  await h.nexthops.add({ id: 1, gateway: '10.1.0.254', oif: index('va') })
  await h.nexthops.add({ id: 2, gateway: '10.2.0.254', oif: index('vc'), protocol: 4 })
  await h.nexthops.add({ id: 3, blackhole: true })
  await h.nexthops.add({ id: 4, oif: index('va') })
  await h.nexthops.add({ id: 6, gateway: '2001:db8::1', oif: index('va') })
  await h.nexthops.add({ id: 10, group: [{ id: 1, weight: 3 }, { id: 2 }] })
  await h.nexthops.add({ id: 11, group: [{ id: 1 }, { id: 2, weight: 200 }], groupType: 'resilient', resilient: { buckets: 16, idleTimer: 30, unbalancedTimer: 90 } })
  await h.nexthops.add({ id: 20, gateway: '10.1.0.253', fdb: true })
  await h.nexthops.add({ id: 21, group: [{ id: 20 }], fdb: true })
  await h.nexthops.add({ gateway: '10.1.0.252', oif: index('va') }) // the kernel picks the id

  const ours = await h.nexthops.list()
  const theirs = net.ipJson<Array<Record<string, unknown>>>('nexthop', 'show')
  t.equal(ours.length, theirs.length, 'as many nexthops as ip shows')
  t.same(ours.map(nh => nexthopAsIproute2(nh, names)), theirs, 'every field as ip -j nexthop show prints it')
  // iproute2 6.1 predates 16-bit weights (it reads the low byte only): the kernel's own bytes are the oracle here.
  await h.nexthops.add({ id: 12, group: [{ id: 1 }, { id: 2, weight: 300 }] })
  t.same((await h.nexthops.get(12)).group, [{ id: 1, weight: 1 }, { id: 2, weight: 300 }], 'a 16-bit weight reads back (NHA_OP_FLAG_RESP_GRP_RESVD_0)')
  const raw = await h.socket.get(buildGetNexthopRequest(12), (buf, _type, start, end) => {
    const r = new AttributeReader(buf, start + NHMSG_SIZE, end)
    while (r.next()) if (r.type === NHA_GROUP) return [...r.bytes()]
    return undefined
  }, 'raw get')
  t.same(raw.slice(8, 16), [2, 0, 0, 0, 299 & 0xff, 299 >> 8, 0, 0], 'the kernel stores weight - 1 = 299 as weight 43, weight_high 1')
  await h.nexthops.delete(12)

  t.same((await h.nexthops.list({ groups: true })).map(nh => nh.id), [10, 11, 21], 'groups only')
  t.same((await h.nexthops.list({ fdb: true })).map(nh => nh.id), [20, 21], 'FDB nexthops only (this kernel ignores NHA_FDB in dumps: filtered here)')
  t.same((await h.nexthops.list({ oif: index('vc') })).map(nh => nh.id), [2], 'by device')

  await h.routes.add({ dst: '10.20.0.0/16', nhId: 1 })
  await h.routes.add({ dst: '10.21.0.0/16', nhId: 10 })
  await h.routes.add({ dst: '2001:db8:20::/48', nhId: 6 })
  for (const [family, flag] of [[AF_INET, '-4'], [AF_INET6, '-6']] as const) {
    const routes = (await h.routes.list({ family })).filter(r => r.nhId !== undefined)
    const ip = net.ipJson<Array<Record<string, any>>>(flag, 'route', 'show').filter(r => r.nhid !== undefined)
      .map(r => ({ dst: r.dst, nhid: r.nhid, gateway: r.gateway, dev: r.dev, nexthops: r.nexthops?.map((n: any) => ({ gateway: n.gateway, dev: n.dev, weight: n.weight })) }))
      .map(r => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)))
    t.same(routes.map(r => routeNexthopsAsIproute2(r, names)), ip, `${flag}: routes by nexthop id as ip -j route show prints them`)
  }

  // Replacing the object moves every route that uses it.
  await h.nexthops.replace({ id: 1, gateway: '10.1.0.250', oif: index('va') })
  t.equal((await h.routes.get('10.20.1.1')).gateway, '10.1.0.250')

  const dup = await failure(h.nexthops.add({ id: 1, gateway: '10.1.0.254', oif: index('va') }))
  t.equal(dup.code, 'EEXIST')
  t.equal(dup.operation, 'RTM_NEWNEXTHOP id 1 via 10.1.0.254 dev va')
  t.equal(dup.namespace, net.ns.path)

  await h.nexthops.delete(10)
  t.notOk(net.ipJson<Array<{ id: number }>>('nexthop', 'show').some(nh => nh.id === 10))
  t.notOk(net.ipJson<Array<{ dst: string }>>('route', 'show').some(r => r.dst === '10.21.0.0/16'), 'its route went with it')
  t.equal((await failure(h.nexthops.delete(10))).code, 'ENOENT')
  t.equal((await failure(h.nexthops.get(10))).code, 'ENOENT')
})

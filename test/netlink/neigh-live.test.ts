// NeighbourService against the running kernel, in a throwaway namespace,
// with `ip -j neigh show` and `bridge -j fdb show` as independent oracles.
import t, { type Test } from 'tap'
import { withNamespaces, rootSkip, type TestNamespace } from '../helpers/netns.js'
import { NetlinkSocket } from '../../src/netlink/socket.js'
import { NetlinkError } from '../../src/netlink/errors.js'
import { AF_INET, AF_INET6 } from '../../src/netlink/route/rtnetlink.js'
import { NTF_PROXY, NTF_ROUTER, NUD_NOARP, NUD_PERMANENT, NUD_REACHABLE } from '../../src/netlink/route/neighbour.js'
import { NeighbourService } from '../../src/netlink/route/neighbours.js'

interface IpNeigh { dst: string, lladdr?: string, state: string[], router?: null }
interface BridgeFdb { mac: string, ifname?: string, master?: string, state: string, flags: string[], vlan?: number }

interface Setup { net: TestNamespace, neighbours: NeighbourService, index: (dev: string) => number }

/** va/vb veth pair with addresses, vc/vd with vd a port of bridge br0, and a NeighbourService. */
function setup (t: Test): Setup {
  const [net] = withNamespaces(t, 1) as [TestNamespace]
  net.sh(`ip link add va type veth peer name vb; ip link add vc type veth peer name vd; ip link add br0 type bridge
    ip link set vd master br0
    for d in va vb vc vd br0; do ip link set $d up; done
    ip addr add 10.1.0.1/24 dev va; ip -6 addr add 2001:db8::1/64 dev va nodad`)
  const socket = NetlinkSocket.open({ namespace: net.ns, extendedAck: true })
  t.teardown(() => { socket.close() })
  const index = (dev: string): number => net.ipJson<Array<{ ifindex: number }>>('link', 'show', 'dev', dev)[0]!.ifindex
  return { net, neighbours: new NeighbourService(socket), index }
}

async function failure (p: Promise<unknown>): Promise<NetlinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof NetlinkError)) throw new Error(`expected a NetlinkError, got ${String(err)}`)
  return err
}

t.test('ARP and NDP entries: permanent, router flag, replace, duplicate, delete', { skip: rootSkip }, async t => {
  const { net, neighbours, index } = setup(t)
  const va = index('va')
  await neighbours.add({ index: va, address: '10.1.0.9', lladdr: '02:00:00:00:00:09' })
  await neighbours.add({ index: va, address: '2001:db8::9', lladdr: '02:00:00:00:00:19', flags: NTF_ROUTER })
  const ip = net.ipJson<IpNeigh[]>('neigh', 'show', 'dev', 'va')
  t.match(ip.find(n => n.dst === '10.1.0.9'), { lladdr: '02:00:00:00:00:09', state: ['PERMANENT'] })
  t.match(ip.find(n => n.dst === '2001:db8::9'), { lladdr: '02:00:00:00:00:19', state: ['PERMANENT'] })
  t.ok('router' in ip.find(n => n.dst === '2001:db8::9')!, 'ip shows the router flag')

  const ours = await neighbours.list({ index: va })
  t.match(ours.find(n => n.address === '10.1.0.9'), { family: AF_INET, index: va, lladdr: '02:00:00:00:00:09', state: NUD_PERMANENT, stateName: 'PERMANENT', router: false })
  t.match(ours.find(n => n.address === '2001:db8::9'), { family: AF_INET6, router: true, state: NUD_PERMANENT })
  t.same((await neighbours.list({ index: va, family: AF_INET })).map(n => n.address), ['10.1.0.9'])

  const dup = await failure(neighbours.add({ index: va, address: '10.1.0.9', lladdr: '02:00:00:00:00:10' }))
  t.equal(dup.code, 'EEXIST')
  t.equal(dup.operation, 'RTM_NEWNEIGH 10.1.0.9 lladdr 02:00:00:00:00:10 dev va')
  t.equal(dup.namespace, net.ns.path)

  await neighbours.replace({ index: va, address: '10.1.0.9', lladdr: '02:00:00:00:00:10', state: 'reachable' })
  t.match(net.ipJson<IpNeigh[]>('neigh', 'show', '10.1.0.9', 'dev', 'va'), [{ lladdr: '02:00:00:00:00:10', state: ['REACHABLE'] }])
  t.match((await neighbours.list({ index: va })).find(n => n.address === '10.1.0.9'), { lladdr: '02:00:00:00:00:10', state: NUD_REACHABLE })

  await neighbours.delete({ index: va, address: '10.1.0.9' })
  await neighbours.delete({ index: va, address: '2001:db8::9' })
  // A deleted entry may linger as FAILED/INCOMPLETE for a moment in ip's view; it has no lladdr then.
  t.notOk(net.ipJson<IpNeigh[]>('neigh', 'show', 'dev', 'va').some(n => n.lladdr !== undefined && (n.dst === '10.1.0.9' || n.dst === '2001:db8::9')))
  const gone = await failure(neighbours.delete({ index: va, address: '10.1.0.9' }))
  t.equal(gone.code, 'ENOENT')
})

t.test('bridge FDB: master entries (permanent, static), self entries, list filters, duplicate, delete', { skip: rootSkip }, async t => {
  const { net, neighbours, index } = setup(t)
  const vd = index('vd'); const br0 = index('br0'); const vc = index('vc')
  await neighbours.addFdb({ index: vd, mac: '02:00:00:00:00:0a', master: true })
  await neighbours.addFdb({ index: vd, mac: '02:00:00:00:00:0b', master: true, state: 'static' })
  await neighbours.addFdb({ index: br0, mac: '02:00:00:00:00:0c', self: true })
  const fdb = net.bridgeJson<BridgeFdb[]>('fdb', 'show', 'dev', 'vd')
  t.match(fdb.find(e => e.mac === '02:00:00:00:00:0a'), { master: 'br0', state: 'permanent' })
  t.match(fdb.find(e => e.mac === '02:00:00:00:00:0b'), { master: 'br0', state: 'static' })
  t.match(net.bridgeJson<BridgeFdb[]>('fdb', 'show', 'dev', 'br0').find(e => e.mac === '02:00:00:00:00:0c'), { state: 'permanent' })

  const ofBridge = await neighbours.listFdb({ master: br0 })
  t.ok(ofBridge.length > 0 && ofBridge.every(e => e.master === br0))
  t.match(ofBridge.find(e => e.mac === '02:00:00:00:00:0a'), { index: vd, master: br0, state: NUD_PERMANENT, kind: 'permanent', self: false })
  t.match(ofBridge.find(e => e.mac === '02:00:00:00:00:0b'), { index: vd, state: NUD_NOARP, kind: 'static' })
  const ofPort = await neighbours.listFdb({ index: vd })
  t.ok(ofPort.every(e => e.index === vd))
  // Every entry bridge lists for the port, we list too (the kernel's own port and multicast entries included).
  t.same(new Set(ofPort.map(e => e.mac)), new Set(fdb.map(e => e.mac)))
  const all = await neighbours.listFdb()
  t.ok(all.some(e => e.index === br0 && e.mac === '02:00:00:00:00:0c'), 'the bridge device entry')
  t.ok(all.some(e => e.index === vc), 'entries of devices outside the bridge (multicast self entries) are listed too')

  const dup = await failure(neighbours.addFdb({ index: vd, mac: '02:00:00:00:00:0a', master: true }))
  t.equal(dup.code, 'EEXIST')
  t.equal(dup.operation, 'RTM_NEWNEIGH AF_BRIDGE 02:00:00:00:00:0a dev vd master')

  await neighbours.deleteFdb({ index: vd, mac: '02:00:00:00:00:0a', master: true })
  t.notOk(net.bridgeJson<BridgeFdb[]>('fdb', 'show', 'dev', 'vd').some(e => e.mac === '02:00:00:00:00:0a'))
  t.notOk((await neighbours.listFdb({ index: vd })).some(e => e.mac === '02:00:00:00:00:0a'))
  const gone = await failure(neighbours.deleteFdb({ index: vd, mac: '02:00:00:00:00:0a', master: true }))
  t.equal(gone.code, 'ENOENT')

  // replace turns the static entry permanent.
  await neighbours.replaceFdb({ index: vd, mac: '02:00:00:00:00:0b', master: true })
  t.match(net.bridgeJson<BridgeFdb[]>('fdb', 'show', 'dev', 'vd').find(e => e.mac === '02:00:00:00:00:0b'), { state: 'permanent' })
})

t.test('proxy entries: add, list (NTF_PROXY dump) against ip -j neigh show proxy, delete', { skip: rootSkip }, async t => {
  const { net, neighbours, index } = setup(t)
  const va = index('va')
  const vb = index('vb')
  await neighbours.add({ index: va, address: '10.1.0.77', flags: NTF_PROXY })
  await neighbours.add({ index: vb, address: '10.1.0.78', flags: NTF_PROXY })
  await neighbours.add({ index: va, address: '2001:db8::77', flags: NTF_PROXY })
  await neighbours.add({ index: va, address: '10.1.0.9', lladdr: '02:00:00:00:00:09' }) // an ordinary entry: not a proxy
  const names = new Map([[va, 'va'], [vb, 'vb']])
  const ours = await neighbours.list({ proxy: true })
  const theirs = net.ipJson<Array<{ dst: string, dev: string, proxy?: null }>>('neigh', 'show', 'proxy')
  t.same(ours.map(n => ({ dst: n.address, dev: names.get(n.index), proxy: null })), theirs, 'the same entries, in the kernel\'s order')
  t.ok(ours.every(n => n.proxy && n.lladdr === undefined))
  t.same((await neighbours.list({ proxy: true, family: AF_INET6 })).map(n => n.address), ['2001:db8::77'])
  t.same((await neighbours.list({ proxy: true, index: vb })).map(n => n.address), ['10.1.0.78'])
  t.notOk((await neighbours.list()).some(n => n.proxy), 'the ordinary dump holds no proxy entry')
  t.ok((await neighbours.list()).some(n => n.address === '10.1.0.9'))

  // The kernel's proxy table ignores NLM_F_EXCL: adding an existing entry succeeds, as with `ip neigh add proxy`.
  net.ip('neigh', 'add', 'proxy', '10.1.0.78', 'dev', 'vb')
  await neighbours.add({ index: va, address: '10.1.0.77', flags: NTF_PROXY })
  t.equal(net.ipJson<unknown[]>('neigh', 'show', 'proxy').length, 3, 'still one entry each')
  await neighbours.delete({ index: va, address: '10.1.0.77', proxy: true })
  t.same(net.ipJson<Array<{ dst: string }>>('neigh', 'show', 'proxy', 'dev', 'va').map(n => n.dst), ['2001:db8::77'])
  t.equal((await failure(neighbours.delete({ index: va, address: '10.1.0.77', proxy: true }))).code, 'ENOENT')
})

// IP-reuse hygiene (issue 11 item 4), root, real traffic: a stale host
// neighbour entry for a new pod's address is removed; the new pod announces
// itself (gratuitous ARP, unsolicited IPv6 NA) so that peers holding the old
// holder's MAC learn the new one; after DEL no conntrack entry of the
// released address is left (conntrack -L as the oracle).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { NamespaceAgent } from '../../src/demo/probe.js'
import { NetlinkSocket } from '../../src/netlink/socket.js'
import { NetNamespace } from '../../src/netlink/netns.js'
import { NeighbourService } from '../../src/netlink/route/neighbours.js'
import { flushNeighbours } from '../../src/plugins/bridge/hygiene.js'
import { ip, ipJson, makeNamespace, nsPath, setupEnv, skipReason, sysctl, type Env } from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

const BOGUS = '02:00:00:00:00:99'
const DUAL = [[{ subnet: '10.77.0.0/24' }], [{ subnet: 'fd77::/64' }]]

function conf (env: Env, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return env.config({ isGateway: true, ...extra }, { ranges: DUAL, cniVersion: '1.1.0' })
}

/** The neighbour entry for addr on dev in ns (ip -j neigh), or undefined. */
function neighbour (ns: string, dev: string, addr: string): { lladdr?: string, state?: string[] } | undefined {
  return (ipJson(ns, 'neigh', 'show', 'dev', dev) as Array<{ dst: string, lladdr?: string, state?: string[] }>).find(n => n.dst === addr)
}

async function until (cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function agent (t: Teardown, ns: string, label: string): Promise<NamespaceAgent> {
  const a = await NamespaceAgent.start(nsPath(ns), label)
  t.teardown(async () => { await a.close() })
  return a
}

// End to end. Today the bridge's MAC pinning (every ADD sets it, which makes
// the kernel flush the bridge's whole neighbour table) removes these entries
// before our step does; the step is tested on its own below.
t.test('after ADD no stale (even permanent) host neighbour entry for its address is left: the node reaches the new pod', async t => {
  const env = setupEnv(t, 'hn')
  const c = conf(env)
  const first = env.run('ADD', c, { containerId: 'first', netns: nsPath(makeNamespace(t, 'hn-first')) })
  t.equal(first.code, 0, `first ADD${first.code !== 0 ? `: ${first.stdout}` : ''}`)
  // The next pod gets .3 and ::3; the node holds entries with the old holder's MAC.
  ip(env.node, 'neigh', 'replace', '10.77.0.3', 'lladdr', BOGUS, 'dev', 'tbr0', 'nud', 'permanent')
  ip(env.node, 'neigh', 'replace', 'fd77::3', 'lladdr', BOGUS, 'dev', 'tbr0', 'nud', 'permanent')
  const add = env.run('ADD', c)
  t.equal(add.code, 0, `ADD${add.code !== 0 ? `: ${add.stdout}` : ''}`)
  t.same(add.json.ips.map((i: { address: string }) => i.address), ['10.77.0.3/24', 'fd77::3/64'])
  t.not(neighbour(env.node, 'tbr0', '10.77.0.3')?.lladdr, BOGUS, 'the v4 entry with the old MAC is gone')
  t.not(neighbour(env.node, 'tbr0', 'fd77::3')?.lladdr, BOGUS, 'the v6 entry with the old MAC is gone')
  // Real traffic both ways: with the old MAC still pinned, the node's packets would go nowhere.
  const listener = await agent(t, env.pod, 'pod')
  const port = await listener.listen(0)
  const node = await agent(t, env.node, 'node')
  const v4 = await node.probe('10.77.0.3', port, 3000)
  t.ok(v4.ok, `the node reaches the new pod over IPv4${v4.error !== undefined ? `: ${v4.error}` : ''}`)
  // The gateway address on the bridge must have passed DAD before the node can use it.
  await until(() => !(ipJson(env.node, 'addr', 'show', 'dev', 'tbr0')[0]?.addr_info ?? []).some((a: { local: string, tentative?: boolean }) => a.local === 'fd77::1' && a.tentative === true), 'fd77::1 on tbr0 leaves DAD', 5000)
  const v6 = await node.probe('fd77::3', port, 3000)
  t.ok(v6.ok, `the node reaches the new pod over IPv6${v6.error !== undefined ? `: ${v6.error}` : ''}`)
  t.equal(sysctl(env.pod, 'net/ipv4/conf/eth0/arp_notify'), '1')
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/ndisc_notify'), '1')
})

t.test('flushNeighbours deletes the entries of the given addresses on the given interfaces, whatever their state, and nothing else', async t => {
  // The library call on its own: in the plugin, the bridge's MAC pinning (which
  // flushes the bridge's whole neighbour table) runs first and hides it.
  const ns = makeNamespace(t, 'hf')
  ip(ns, 'link', 'add', 'br9', 'type', 'bridge')
  ip(ns, 'link', 'set', 'br9', 'up')
  ip(ns, 'link', 'add', 'other9', 'type', 'veth', 'peer', 'name', 'other9p')
  ip(ns, 'link', 'set', 'other9', 'up')
  for (const [addr, dev, state] of [['10.9.0.3', 'br9', 'permanent'], ['fd09::3', 'br9', 'stale'], ['10.9.0.4', 'br9', 'reachable'], ['10.9.0.3', 'other9', 'permanent']]) {
    ip(ns, 'neigh', 'replace', addr!, 'lladdr', BOGUS, 'dev', dev!, 'nud', state!)
  }
  const index = (ipJson(ns, 'link', 'show', 'br9')[0] as { ifindex: number }).ifindex
  const handle = NetNamespace.open(nsPath(ns))
  const socket = NetlinkSocket.open({ namespace: handle })
  try {
    const deleted = await flushNeighbours(new NeighbourService(socket), [index], ['10.9.0.3', 'fd09::3', '10.9.0.5'])
    t.same(deleted.sort(), [`10.9.0.3 dev ${index}`, `fd09::3 dev ${index}`], 'the two entries there were; none for an address without one')
  } finally {
    socket.close()
    handle.close()
  }
  t.equal(neighbour(ns, 'br9', '10.9.0.3'), undefined, 'the permanent entry is gone')
  t.equal(neighbour(ns, 'br9', 'fd09::3'), undefined, 'the IPv6 entry is gone')
  t.equal(neighbour(ns, 'br9', '10.9.0.4')?.lladdr, BOGUS, 'another address\'s entry stays')
  t.equal(neighbour(ns, 'other9', '10.9.0.3')?.lladdr, BOGUS, 'the same address on another interface stays')
})

t.test('the new pod announces itself: a peer pod\'s stale entries take its MAC (gratuitous ARP, unsolicited NA)', async t => {
  const env = setupEnv(t, 'ha')
  const c = conf(env)
  const peer = makeNamespace(t, 'ha-peer')
  t.equal(env.run('ADD', c, { containerId: 'peer', netns: nsPath(peer) }).code, 0)
  // The peer talked to the old holder of .3 / ::3.
  ip(peer, 'neigh', 'replace', '10.77.0.3', 'lladdr', BOGUS, 'dev', 'eth0', 'nud', 'stale')
  ip(peer, 'neigh', 'replace', 'fd77::3', 'lladdr', BOGUS, 'dev', 'eth0', 'nud', 'stale')
  const add = env.run('ADD', c)
  t.equal(add.code, 0, `ADD${add.code !== 0 ? `: ${add.stdout}` : ''}`)
  const mac = add.json.interfaces[2].mac as string
  await until(() => neighbour(peer, 'eth0', '10.77.0.3')?.lladdr === mac, 'the peer\'s v4 entry takes the new MAC').catch(() => {})
  t.equal(neighbour(peer, 'eth0', '10.77.0.3')?.lladdr, mac, 'gratuitous ARP reached the peer')
  await until(() => neighbour(peer, 'eth0', 'fd77::3')?.lladdr === mac, 'the peer\'s v6 entry takes the new MAC').catch(() => {})
  t.equal(neighbour(peer, 'eth0', 'fd77::3')?.lladdr, mac, 'the unsolicited neighbour advertisement reached the peer')
})

t.test('DEL deletes the conntrack entries of the released addresses (a flow from the old pod)', async t => {
  const env = setupEnv(t, 'hc')
  const c = conf(env, { ipMasq: true })
  // A peer outside the node, as in the masquerade tests: the flow is forwarded and masqueraded.
  const outside = makeNamespace(t, 'hc-out')
  ip(env.node, 'link', 'add', 'wire0', 'type', 'veth', 'peer', 'name', 'wire1', 'netns', outside)
  ip(env.node, 'addr', 'add', '192.168.251.1/30', 'dev', 'wire0')
  ip(env.node, 'link', 'set', 'wire0', 'up')
  ip(outside, 'addr', 'add', '192.168.251.2/30', 'dev', 'wire1')
  ip(outside, 'link', 'set', 'wire1', 'up')
  const add = env.run('ADD', { ...c, isDefaultGateway: true })
  t.equal(add.code, 0, `ADD${add.code !== 0 ? `: ${add.stdout}` : ''}`)
  const listener = await agent(t, outside, 'out')
  const port = await listener.listen(0)
  const pod = await agent(t, env.pod, 'pod')
  const probe = await pod.probe('192.168.251.2', port)
  t.ok(probe.ok, `the pod reaches the outside through the node${probe.error !== undefined ? `: ${probe.error}` : ''}`)
  // A second, untouched flow from the node itself: it must survive the DEL.
  const node = await agent(t, env.node, 'node')
  t.ok((await node.probe('192.168.251.2', port)).ok)
  const entries = (): string => execFileSync('ip', ['netns', 'exec', env.node, 'conntrack', '-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  t.match(entries(), /src=10\.77\.0\.2 /, 'the pod\'s flow is tracked in the node')
  // No prevResult: the attachment record knows the addresses.
  const del = env.run('DEL', { ...c, isDefaultGateway: true })
  t.equal(del.code, 0, del.stdout + del.stderr)
  const after = entries()
  t.notMatch(after, /10\.77\.0\.2[ \n]/, 'no conntrack entry holds the released address')
  t.match(after, /src=192\.168\.251\.1 dst=192\.168\.251\.2 /, 'other entries stay')
})

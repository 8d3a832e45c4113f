// ipMasq, root integration: the plugin runs in a throwaway "node" namespace
// wired to a "peer" namespace that has no route back to the pod subnet, so a
// pod reaches the peer only when its traffic is masqueraded (the peer then
// sees the node's address). The ruleset is read back with `nft -j` and
// compared with upstream's nftables layout.
import t from 'tap'
import { NamespaceAgent } from '../../src/demo/probe.js'
import {
  OFFICIAL_BRIDGE, OFFICIAL_DIR, bridgeConfig, deleteNamespace, hostVeths, ip, ipFiles, makeNamespace, makeTempDir,
  nftRuleset, nsPath, runPlugin, runPluginAsync, setupEnv, skipReason, type Env
} from '../helpers/bridge.js'
import { UPSTREAM_MASQ_COMMENTS } from '../helpers/upstream-golden.js'
import { NODE_V4, NODE_V6, PEER_V4, PEER_V6, addPeer } from '../helpers/peer.js'
import { existsSync } from 'node:fs'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

const DUAL = [[{ subnet: '10.77.0.0/24' }], [{ subnet: 'fd77::/64' }]]

async function agent (t: Teardown, ns: string, label: string): Promise<NamespaceAgent> {
  const a = await NamespaceAgent.start(nsPath(ns), label)
  t.teardown(async () => { await a.close() })
  return a
}

/** The address a listener reports, without the IPv4-mapped prefix of a dual-stack socket. */
const plain = (a: string | undefined): string | undefined => a?.replace(/^::ffff:/, '')

const masqRules = (node: string): ReturnType<typeof nftRuleset>['rules'] =>
  nftRuleset(node).rules.filter(r => r.table === 'cni_plugins_masquerade' && r.chain === 'masq_checks')

function masqConfig (env: Env, extra: Record<string, unknown> = {}, name = 'mqnet'): Record<string, unknown> {
  return env.config({ isDefaultGateway: true, ipMasq: true, ...extra }, { ranges: DUAL, name })
}

t.test('a pod reaches a peer with no route back only through masquerading, in upstream\'s layout', async t => {
  const env = setupEnv(t, 'mq')
  const peer = addPeer(t, env.node)
  // Upstream's first container, so that the rule's comment is upstream's golden string.
  const golden = UPSTREAM_MASQ_COMMENTS[0]
  const conf = masqConfig(env, {}, golden.network)
  const add = env.run('ADD', conf, { containerId: golden.containerID, ifname: golden.ifname })
  t.equal(add.code, 0, `ADD with ipMasq succeeds${add.code !== 0 ? `: ${add.stdout} ${add.stderr}` : ''}`)
  t.same(add.json?.ips?.map((i: any) => i.address), ['10.77.0.2/24', 'fd77::2/64'])

  // A second pod on another network without ipMasq: the control.
  const pod2 = makeNamespace(t, 'mq-pod2')
  const plainConf = env.config({ isDefaultGateway: true }, { subnet: '10.78.0.0/24', name: 'plain', bridge: 'tbr1' })
  t.equal(env.run('ADD', plainConf, { containerId: 'ctr2', netns: nsPath(pod2) }).code, 0, 'ADD without ipMasq')

  const listener = await agent(t, peer, 'peer')
  const port = await listener.listen(0)
  const pod = await agent(t, env.pod, 'pod')
  const v4 = await pod.probe(PEER_V4, port)
  t.ok(v4.ok, `IPv4: the pod reaches the peer${v4.error !== undefined ? `: ${v4.error}` : ''}`)
  t.equal(plain(v4.seenFrom), NODE_V4, 'the peer sees the node\'s address, not the pod\'s')
  const v6 = await pod.probe(PEER_V6, port, 5000)
  t.ok(v6.ok, `IPv6: the pod reaches the peer${v6.error !== undefined ? `: ${v6.error}` : ''}`)
  t.equal(v6.seenFrom, NODE_V6, 'IPv6 is masqueraded too')
  const control = await (await agent(t, pod2, 'pod2')).probe(PEER_V4, port, 1500)
  t.notOk(control.ok, 'without ipMasq the peer cannot answer (no route back): the masquerade is what makes it work')

  const rs = nftRuleset(env.node)
  t.ok(rs.tables.some(x => x.family === 'inet' && x.name === 'cni_plugins_masquerade'), 'table inet cni_plugins_masquerade')
  const post = rs.chains.find(c => c.table === 'cni_plugins_masquerade' && c.name === 'postrouting')
  t.match(post, { family: 'inet', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' }, 'base chain postrouting: nat, postrouting, srcnat')
  t.ok(rs.chains.some(c => c.table === 'cni_plugins_masquerade' && c.name === 'masq_checks' && c.hook === undefined), 'regular chain masq_checks')
  t.same(rs.rules.filter(r => r.table === 'cni_plugins_masquerade' && r.chain === 'postrouting').map(r => r.text),
    ['ip daddr == 224.0.0.0/4 return', 'ip6 daddr == ff00::/8 return', 'goto masq_checks'])
  t.same(masqRules(env.node).map(r => [r.text, r.comment]), [
    ['ip saddr == 10.77.0.2 ip daddr != 10.77.0.0/24 masquerade', golden.comment],
    ['ip6 saddr == fd77::2 ip6 daddr != fd77::/64 masquerade', golden.comment]
  ], 'one rule per container address, with upstream\'s comment')

  const del = env.run('DEL', conf, { containerId: golden.containerID, ifname: golden.ifname })
  t.equal(del.code, 0, `DEL${del.code !== 0 ? `: ${del.stdout}` : ''}`)
  t.same(masqRules(env.node), [], 'DEL removes the container\'s rules')
  t.equal(nftRuleset(env.node).rules.filter(r => r.chain === 'postrouting').length, 3, 'the shared postrouting rules stay')
  t.same(ipFiles(env.dataDir, golden.network), [])
})

t.test('DEL after the pod namespace is gone removes the rules (upstream leaks them)', async t => {
  const env = setupEnv(t, 'mqgone')
  t.equal(env.run('ADD', masqConfig(env)).code, 0)
  t.equal(masqRules(env.node).length, 2)
  deleteNamespace(env.pod)
  const del = env.run('DEL', masqConfig(env))
  t.equal(del.code, 0, `DEL succeeds${del.code !== 0 ? `: ${del.stdout}` : ''}`)
  t.same(masqRules(env.node), [], 'nothing of the container remains')
  t.same(ipFiles(env.dataDir, 'mqnet'), [], 'the reservation is released')
  t.same(hostVeths(env.node), [], 'the veth went with the namespace')
  t.equal(env.run('DEL', masqConfig(env)).code, 0, 'a second DEL succeeds')
})

t.test('DEL removes exactly one container\'s rules; GC removes those of stale attachments', async t => {
  const env = setupEnv(t, 'mqgc')
  const conf = masqConfig(env, { cniVersion: '1.1.0' })
  const pods = ['ctr1', 'ctr2', 'ctr3'].map(id => ({ id, ns: id === 'ctr1' ? env.pod : makeNamespace(t, `mqgc-${id}`) }))
  for (const p of pods) t.equal(env.run('ADD', conf, { containerId: p.id, netns: nsPath(p.ns) }).code, 0, `ADD ${p.id}`)
  const ids = (): string[] => [...new Set(masqRules(env.node).map(r => /id: (\S+)$/.exec(r.comment ?? '')?.[1]))].sort() as string[]
  t.same(ids(), ['ctr1', 'ctr2', 'ctr3'])

  t.equal(env.run('DEL', conf, { containerId: 'ctr1' }).code, 0)
  t.same(ids(), ['ctr2', 'ctr3'], 'the other containers keep theirs')

  // Another network's rules on the same node are not GC's business.
  const other = env.config({ isDefaultGateway: true, ipMasq: true }, { subnet: '10.79.0.0/24', name: 'othernet', bridge: 'tbr2', cniVersion: '1.1.0' })
  const pod4 = makeNamespace(t, 'mqgc-ctr4')
  t.equal(env.run('ADD', other, { containerId: 'ctr4', netns: nsPath(pod4) }).code, 0)

  const gc = env.run('GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr2', ifname: 'eth0' }] }, { containerId: '', netns: '', ifname: '' })
  t.equal(gc.code, 0, `GC${gc.code !== 0 ? `: ${gc.stdout}` : ''}`)
  t.same(ids(), ['ctr2', 'ctr4'], 'ctr3\'s rules are collected; ctr2 (valid) and the other network\'s stay')
  t.same(ipFiles(env.dataDir, 'mqnet'), ['10.77.0.3', 'fd77::3'], 'host-local collected ctr3\'s reservation')
  const noList = env.run('GC', conf, { containerId: '', netns: '', ifname: '' })
  t.equal(noList.json?.code, 7, 'a GC without the list of valid attachments is refused (as host-local refuses it)')
  t.equal(noList.json?.msg, 'GC needs the list of valid attachments')
  t.same(ids(), ['ctr2', 'ctr4'], 'and removes nothing')
})

t.test('a repeated ADD of the same attachment replaces its stale rules', async t => {
  const env = setupEnv(t, 'mqstale')
  const conf = env.config({ isDefaultGateway: true, ipMasq: true }, { name: 'mqnet' })
  t.equal(env.run('ADD', conf).code, 0)
  t.same(masqRules(env.node).map(x => x.text), ['ip saddr == 10.77.0.2 ip daddr != 10.77.0.0/24 masquerade'])
  // The pod dies without a DEL, its IPAM state is lost, and the runtime
  // re-creates it under the same ID: the old rule is stale.
  deleteNamespace(env.pod)
  const again = makeNamespace(t, 'mqstale-again')
  const fresh = bridgeConfig({ bridge: 'tbr0', name: 'mqnet', dataDir: makeTempDir(t, 'mqstale2'), ranges: [[{ subnet: '10.77.0.0/24', rangeStart: '10.77.0.50' }]], extra: { isDefaultGateway: true, ipMasq: true } })
  const r = env.run('ADD', fresh, { netns: nsPath(again) })
  t.equal(r.code, 0, `second ADD${r.code !== 0 ? `: ${r.stdout}` : ''}`)
  t.same(masqRules(env.node).map(x => x.text), ['ip saddr == 10.77.0.50 ip daddr != 10.77.0.0/24 masquerade'], 'one rule, for the new address')
})

t.test('an ADD that fails after the rules were added takes them back', async t => {
  const env = setupEnv(t, 'mqfail')
  const r = env.run('ADD', masqConfig(env), { extraEnv: { TSCNI_FAIL_AFTER_STEP: 'ipMasq' } })
  t.not(r.code, 0, 'ADD fails')
  t.match(r.json?.msg, /failing after step ipMasq/)
  t.same(masqRules(env.node), [], 'no masquerade rule left')
  t.same(hostVeths(env.node), [], 'no veth left')
  t.same(ipFiles(env.dataDir, 'mqnet'), [], 'no reservation left')
})

t.test('20 concurrent ADDs with ipMasq leave 20 rules; 20 DELs leave none', async t => {
  const env = setupEnv(t, 'mq20')
  const conf = env.config({ isGateway: true, ipMasq: true }, { name: 'mqnet' })
  const pods = Array.from({ length: 20 }, (_, i) => ({ id: `c${i}`, ns: makeNamespace(t, `mq20-${i}`) }))
  const run = async (command: string): Promise<number[]> => (await Promise.all(pods.map(async p =>
    await runPluginAsync({ node: env.node, command, containerId: p.id, netns: nsPath(p.ns), ifname: 'eth0', config: conf })))).map(r => r.code)
  t.same(await run('ADD'), Array(20).fill(0), 'all ADDs succeed')
  const rules = masqRules(env.node)
  t.equal(rules.length, 20, '20 rules')
  t.equal(new Set(rules.map(r => r.comment)).size, 20, 'one per container')
  t.equal(nftRuleset(env.node).rules.filter(r => r.chain === 'postrouting').length, 3, 'postrouting was rewritten, never doubled')
  t.same(await run('DEL'), Array(20).fill(0), 'all DELs succeed')
  t.same(masqRules(env.node), [], 'no rule left')
  t.same(ipFiles(env.dataDir, 'mqnet'), [])
})

// The official plugin (Debian's 1.1.1) masquerades with iptables; compare what a pod sees, not rule text.
const officialSkip = !existsSync(OFFICIAL_BRIDGE) ? `${OFFICIAL_BRIDGE} is missing (containernetworking-plugins)` : undefined
t.test('differential: the official bridge and ours give the same reachability with ipMasq', { skip: officialSkip }, async t => {
  for (const who of ['official', 'ours'] as const) {
    const node = makeNamespace(t, `mqdiff-${who}`)
    const pod = makeNamespace(t, `mqdiff-${who}-pod`)
    const dataDir = makeTempDir(t, `mqdiff-${who}`)
    const peer = addPeer(t, node)
    const conf = bridgeConfig({ bridge: 'tbr0', name: 'mqdiff', dataDir, subnet: '10.77.0.0/24', extra: { isDefaultGateway: true, ipMasq: true } })
    const opts = who === 'official' ? { plugin: OFFICIAL_BRIDGE, path: OFFICIAL_DIR } : {}
    const add = runPlugin({ node, command: 'ADD', containerId: 'd1', netns: nsPath(pod), ifname: 'eth0', config: conf, ...opts })
    t.equal(add.code, 0, `${who}: ADD${add.code !== 0 ? `: ${add.stdout} ${add.stderr}` : ''}`)
    const listener = await agent(t, peer, 'peer')
    const port = await listener.listen(0)
    const probe = await (await agent(t, pod, who)).probe(PEER_V4, port)
    t.ok(probe.ok, `${who}: the pod reaches the peer${probe.error !== undefined ? `: ${probe.error}` : ''}`)
    t.equal(plain(probe.seenFrom), NODE_V4, `${who}: the peer sees the node's address`)
    const del = runPlugin({ node, command: 'DEL', containerId: 'd1', netns: nsPath(pod), ifname: 'eth0', config: conf, ...opts })
    t.equal(del.code, 0, `${who}: DEL`)
  }
})

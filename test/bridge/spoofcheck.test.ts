// macspoofchk, root integration: two pods on one bridge in a throwaway node
// namespace; the first pod's frames pass while it keeps its MAC and are
// dropped at the bridge once it changes it. The ruleset is read back with
// `nft -j` and compared with upstream's layout.
import t from 'tap'
import { NamespaceAgent } from '../../src/demo/probe.js'
import {
  deleteNamespace, hostVeths, ip, ipFiles, link, makeNamespace, nftRuleset, nsPath, setupEnv, skipReason
} from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

async function agent (t: Teardown, ns: string, label: string): Promise<NamespaceAgent> {
  const a = await NamespaceAgent.start(nsPath(ns), label)
  t.teardown(async () => { await a.close() })
  return a
}

const spoofRules = (node: string): ReturnType<typeof nftRuleset>['rules'] =>
  nftRuleset(node).rules.filter(r => r.family === 'bridge' && r.table === 'nat')
const spoofChains = (node: string): string[] =>
  nftRuleset(node).chains.filter(c => c.family === 'bridge' && c.table === 'nat').map(c => c.name).sort()

t.test('layout, honest frames pass, spoofed frames are dropped, DEL removes exactly one attachment', async t => {
  const env = setupEnv(t, 'sp')
  const conf = env.config({ macspoofchk: true }, { name: 'spnet' })
  const r1 = env.run('ADD', conf)
  t.equal(r1.code, 0, `ADD 1${r1.code !== 0 ? `: ${r1.stdout} ${r1.stderr}` : ''}`)
  const pod2 = makeNamespace(t, 'sp-pod2')
  const r2 = env.run('ADD', conf, { containerId: 'ctr2', netns: nsPath(pod2) })
  t.equal(r2.code, 0, 'ADD 2')
  const mac1 = r1.json.interfaces[2].mac as string
  const veth1 = r1.json.interfaces[1].name as string

  const base = nftRuleset(env.node).chains.find(c => c.family === 'bridge' && c.table === 'nat' && c.name === 'PREROUTING')
  t.match(base, { type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' }, 'base chain PREROUTING: filter, prerouting, -300, accept')
  t.same(spoofChains(env.node), ['PREROUTING', 'cni-br-iface-ctr1-eth0', 'cni-br-iface-ctr1-eth0-mac', 'cni-br-iface-ctr2-eth0', 'cni-br-iface-ctr2-eth0-mac'])
  const ctr1 = spoofRules(env.node).filter(r => r.comment === 'macspoofchk-ctr1-eth0').map(r => [r.chain, r.text])
  t.same(ctr1, [
    ['PREROUTING', `meta iifname == ${veth1} jump cni-br-iface-ctr1-eth0`],
    ['cni-br-iface-ctr1-eth0', 'jump cni-br-iface-ctr1-eth0-mac'],
    ['cni-br-iface-ctr1-eth0-mac', `ether saddr == ${mac1} return`],
    ['cni-br-iface-ctr1-eth0-mac', 'drop']
  ], 'upstream\'s rules, each with the comment macspoofchk-<id>-<ifname>')

  const listener = await agent(t, pod2, 'pod2')
  const port = await listener.listen(0)
  const pod1 = await agent(t, env.pod, 'pod1')
  const peer = (r2.json.ips[0].address as string).split('/')[0]!
  const honest = await pod1.probe(peer, port)
  t.ok(honest.ok, `an honest pod is heard${honest.error !== undefined ? `: ${honest.error}` : ''}`)

  ip(env.pod, 'link', 'set', 'eth0', 'address', '02:00:00:00:be:ef')
  ip(pod2, 'neigh', 'flush', 'all')
  const spoofed = await pod1.probe(peer, port, 1500)
  t.notOk(spoofed.ok, 'with another source MAC its frames are dropped')

  // The control: the same MAC change on a network without macspoofchk is heard.
  const ctlConf = env.config({}, { name: 'ctlnet', bridge: 'tbr1', subnet: '10.78.0.0/24' })
  const pod3 = makeNamespace(t, 'sp-pod3')
  const pod4 = makeNamespace(t, 'sp-pod4')
  t.equal(env.run('ADD', ctlConf, { containerId: 'ctr3', netns: nsPath(pod3) }).code, 0, 'ADD control 1')
  const r4 = env.run('ADD', ctlConf, { containerId: 'ctr4', netns: nsPath(pod4) })
  t.equal(r4.code, 0, 'ADD control 2')
  const ctlPort = await (await agent(t, pod4, 'pod4')).listen(0)
  ip(pod3, 'link', 'set', 'eth0', 'address', '02:00:00:00:be:ef')
  ip(pod4, 'neigh', 'flush', 'all')
  const control = await (await agent(t, pod3, 'pod3')).probe((r4.json.ips[0].address as string).split('/')[0]!, ctlPort)
  t.ok(control.ok, `without macspoofchk the changed MAC is heard: the drop above is the spoof check's${control.error !== undefined ? ` (${control.error})` : ''}`)

  ip(env.pod, 'link', 'set', 'eth0', 'address', mac1)
  ip(pod2, 'neigh', 'flush', 'all')
  const back = await pod1.probe(peer, port)
  t.ok(back.ok, `its own MAC again: heard again${back.error !== undefined ? `: ${back.error}` : ''}`)

  t.equal(env.run('DEL', conf).code, 0, 'DEL 1')
  t.same(spoofChains(env.node), ['PREROUTING', 'cni-br-iface-ctr2-eth0', 'cni-br-iface-ctr2-eth0-mac'], 'ctr1\'s chains are gone, ctr2\'s stay')
  t.same(spoofRules(env.node).map(r => r.comment), Array(4).fill('macspoofchk-ctr2-eth0'), 'only ctr2\'s rules remain')
  t.equal(env.run('DEL', conf).code, 0, 'a second DEL succeeds')
})

t.test('DEL after the pod namespace is gone removes the chains and the jump', async t => {
  const env = setupEnv(t, 'spgone')
  const conf = env.config({ macspoofchk: true }, { name: 'spnet' })
  t.equal(env.run('ADD', conf).code, 0)
  deleteNamespace(env.pod)
  const del = env.run('DEL', conf)
  t.equal(del.code, 0, `DEL${del.code !== 0 ? `: ${del.stdout}` : ''}`)
  t.same(spoofChains(env.node), ['PREROUTING'])
  t.same(spoofRules(env.node), [])
  t.same(ipFiles(env.dataDir, 'spnet'), [])
})

t.test('an ADD that fails after the spoof check (here in IPAM) takes its rules back', async t => {
  const env = setupEnv(t, 'spfail')
  const r = env.run('ADD', env.config({ macspoofchk: true }, { name: 'spnet' }), { extraEnv: { TSCNI_FAIL_AFTER_STEP: 'ipam' } })
  t.not(r.code, 0, 'ADD fails')
  t.same(spoofRules(env.node), [], 'no rule left')
  t.same(spoofChains(env.node).filter(c => c !== 'PREROUTING'), [], 'no chain left')
  t.same(hostVeths(env.node), [])
  t.same(ipFiles(env.dataDir, 'spnet'), [])
})

t.test('L2 with macspoofchk: the rules follow the container MAC the runtime asked for', async t => {
  const env = setupEnv(t, 'spl2')
  const conf = env.config({ macspoofchk: true, runtimeConfig: { mac: '02:11:22:33:44:55' } }, { l2: true, name: 'spl2' })
  const r = env.run('ADD', conf)
  t.equal(r.code, 0, `ADD${r.code !== 0 ? `: ${r.stdout}` : ''}`)
  t.equal(link(env.pod, 'eth0')?.address, '02:11:22:33:44:55')
  t.ok(spoofRules(env.node).some(x => x.text === 'ether saddr == 02:11:22:33:44:55 return'), 'ether saddr == the requested MAC')
  t.equal(env.run('DEL', conf).code, 0)
  t.same(spoofRules(env.node), [])
})

t.test('a repeated ADD of the same attachment replaces its rules (upstream adds a second jump)', async t => {
  const env = setupEnv(t, 'spstale')
  const conf = env.config({ macspoofchk: true }, { l2: true, name: 'spl2' })
  t.equal(env.run('ADD', conf).code, 0)
  // The pod dies without a DEL; the runtime re-creates it under the same ID.
  deleteNamespace(env.pod)
  const again = makeNamespace(t, 'spstale-again')
  const r = env.run('ADD', conf, { netns: nsPath(again) })
  t.equal(r.code, 0, `second ADD${r.code !== 0 ? `: ${r.stdout}` : ''}`)
  const rules = spoofRules(env.node)
  t.same(rules.filter(x => x.chain === 'PREROUTING').map(x => x.text), [`meta iifname == ${r.json.interfaces[1].name as string} jump cni-br-iface-ctr1-eth0`], 'one jump, from the new host veth')
  t.same(rules.filter(x => x.chain === 'cni-br-iface-ctr1-eth0-mac').map(x => x.text), [`ether saddr == ${r.json.interfaces[2].mac as string} return`, 'drop'], 'the new MAC')
})

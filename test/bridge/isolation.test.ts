// Issue 12 item 5, root integration: "isolate": true drops forwarded
// traffic between isolated networks, in our own nf_tables table. Real
// traffic between pods of three networks on one node (two isolated, one
// not), the ruleset read back with `nft -j`, and the rules' lifetime: they
// go with the bridge's last port (DEL, GC, a failed ADD).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { NamespaceAgent } from '../../src/demo/probe.js'
import { bridgeConfig, deleteNamespace, ip, makeNamespace, nftRuleset, nsPath, setupEnv, skipReason, type Env } from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

const TABLE = 'tscni_isolation'

function net (env: Env, which: 'a' | 'b' | 'c', isolate: boolean): Record<string, unknown> {
  const n = { a: 81, b: 82, c: 83 }[which]
  return bridgeConfig({
    cniVersion: '1.1.0',
    name: `net${which}`,
    bridge: `tbr${which}`,
    dataDir: env.dataDir,
    subnet: `10.${n}.0.0/24`,
    extra: { isDefaultGateway: true, ...(isolate ? { isolate: true } : {}) }
  })
}

async function agent (t: Teardown, ns: string, label: string): Promise<NamespaceAgent> {
  const a = await NamespaceAgent.start(nsPath(ns), label)
  t.teardown(async () => { await a.close() })
  return a
}

/** Our table's rules as `chain: text` lines, sorted; [] when the table is gone. */
function ourRules (node: string): string[] {
  return nftRuleset(node).rules.filter(r => r.table === TABLE).map(r => `${r.chain}: ${r.text} # ${r.comment ?? ''}`).sort()
}

const rulesOf = (bridge: string): string[] => [
  `forward: meta iifname == ${bridge} meta oifname != ${bridge} goto isolated_out # tscni isolate ${bridge}`,
  `isolated_out: meta oifname == ${bridge} drop # tscni isolate ${bridge}`
]

t.test('isolated networks cannot reach each other; within one, to the gateway and to other networks they can', async t => {
  const env = setupEnv(t, 'iso')
  const pods = { a1: env.pod, a2: makeNamespace(t, 'iso-a2'), b1: makeNamespace(t, 'iso-b1'), c1: makeNamespace(t, 'iso-c1') }
  const addr: Record<string, string> = {}
  const plan: Array<[keyof typeof pods, 'a' | 'b' | 'c', boolean]> = [['a1', 'a', true], ['a2', 'a', true], ['b1', 'b', true], ['c1', 'c', false]]
  for (const [pod, which, isolate] of plan) {
    const r = env.run('ADD', net(env, which, isolate), { containerId: pod, netns: nsPath(pods[pod]) })
    t.equal(r.code, 0, `ADD ${pod}${r.code !== 0 ? `: ${r.stdout} ${r.stderr}` : ''}`)
    addr[pod] = (r.json?.ips?.[0]?.address as string).split('/')[0]!
  }

  const rs = nftRuleset(env.node)
  t.ok(rs.tables.some(x => x.family === 'inet' && x.name === TABLE), `table inet ${TABLE}`)
  t.match(rs.chains.find(c => c.table === TABLE && c.name === 'forward'), { family: 'inet', type: 'filter', hook: 'forward', prio: 0, policy: 'accept' }, 'base chain: filter, forward, priority filter, accept')
  t.ok(rs.chains.some(c => c.table === TABLE && c.name === 'isolated_out' && c.hook === undefined), 'regular chain isolated_out')
  t.same(ourRules(env.node), [...rulesOf('tbra'), ...rulesOf('tbrb')].sort(), 'two rules per isolated bridge (a second pod adds none), none for the open network')

  const agents: Record<string, NamespaceAgent> = {}
  const ports: Record<string, number> = {}
  for (const pod of Object.keys(pods) as Array<keyof typeof pods>) {
    agents[pod] = await agent(t, pods[pod], pod)
    ports[pod] = await agents[pod].listen(0)
  }
  const nodeAgent = await agent(t, env.node, 'node')
  const nodePort = await nodeAgent.listen(0)
  const reach = async (from: string, to: string): Promise<boolean> => {
    const r = await agents[from]!.probe(addr[to]!, ports[to]!, 1500)
    return r.ok && r.answeredBy === to
  }

  t.ok(await reach('a1', 'a2'), 'within an isolated network: allowed')
  t.ok((await agents.a1!.probe('10.81.0.1', nodePort, 1500)).ok, 'to its gateway (the node): allowed')
  t.ok(await reach('a1', 'c1'), 'to a network without isolate: allowed')
  t.ok(await reach('c1', 'a1'), 'from a network without isolate: allowed')
  t.notOk(await reach('a1', 'b1'), 'a → b, both isolated: dropped')
  t.notOk(await reach('b1', 'a1'), 'b → a: dropped')

  // The control: without our table the same probe passes, so the drop was ours.
  execFileSync('ip', ['netns', 'exec', env.node, 'nft', 'delete', 'table', 'inet', TABLE])
  t.ok(await reach('a1', 'b1'), 'with our table removed by hand, a → b works: the rules are what blocked it')
  const again = env.run('ADD', net(env, 'a', true), { containerId: 'a3', netns: nsPath(makeNamespace(t, 'iso-a3')) })
  t.equal(again.code, 0, 'the next ADD of an isolated network')
  t.same(ourRules(env.node), rulesOf('tbra'), 'puts its bridge\'s rules back (b\'s come back with b\'s next ADD)')
  t.ok(await reach('b1', 'a1'), 'isolation is between registered bridges: b has no rules yet, so b → a passes')
  t.equal(env.run('ADD', net(env, 'b', true), { containerId: 'b2', netns: nsPath(makeNamespace(t, 'iso-b2')) }).code, 0, 'the next ADD on b')
  t.notOk(await reach('b1', 'a1'), 'b → a is dropped again')
  t.notOk(await reach('a1', 'b1'), 'a → b too')
})

t.test('the rules go with the bridge\'s last port: DEL, and GC for ports that vanished', async t => {
  const env = setupEnv(t, 'isodel')
  const a2 = makeNamespace(t, 'isodel-a2')
  const b1 = makeNamespace(t, 'isodel-b1')
  const runOK = (cmd: string, conf: unknown, opts: Record<string, string>): void => {
    const r = env.run(cmd, conf, opts)
    t.equal(r.code, 0, `${cmd} ${opts.containerId ?? ''}${r.code !== 0 ? `: ${r.stdout} ${r.stderr}` : ''}`)
  }
  runOK('ADD', net(env, 'a', true), { containerId: 'a1', netns: env.podPath })
  runOK('ADD', net(env, 'a', true), { containerId: 'a2', netns: nsPath(a2) })
  runOK('ADD', net(env, 'b', true), { containerId: 'b1', netns: nsPath(b1) })
  runOK('DEL', net(env, 'a', true), { containerId: 'a1', netns: env.podPath })
  t.same(ourRules(env.node), [...rulesOf('tbra'), ...rulesOf('tbrb')].sort(), 'a2 still uses bridge a: its rules stay')
  runOK('DEL', net(env, 'a', true), { containerId: 'a2', netns: nsPath(a2) })
  t.same(ourRules(env.node), rulesOf('tbrb'), 'the DEL of a\'s last port removes a\'s rules, b\'s stay')
  runOK('DEL', net(env, 'a', true), { containerId: 'a2', netns: nsPath(a2) })
  t.same(ourRules(env.node), rulesOf('tbrb'), 'a repeated DEL is fine and touches nothing')

  // b1's namespace dies without a DEL: the veth goes with it, the rules stay until GC.
  deleteNamespace(b1)
  t.same(ourRules(env.node), rulesOf('tbrb'))
  const gc = env.run('GC', { ...net(env, 'b', true), 'cni.dev/valid-attachments': [] }, { containerId: '', netns: '', ifname: '' })
  t.equal(gc.code, 0, `GC${gc.code !== 0 ? `: ${gc.stdout}` : ''}`)
  t.same(ourRules(env.node), [], 'GC removed the portless bridge\'s rules')
  t.notOk(nftRuleset(env.node).tables.some(x => x.name === TABLE), 'and the table with the last of them')

  // A bridge that no longer exists: GC of any isolated network sweeps its rules.
  runOK('ADD', net(env, 'b', true), { containerId: 'b2', netns: nsPath(makeNamespace(t, 'isodel-b2')) })
  runOK('ADD', net(env, 'a', true), { containerId: 'a4', netns: env.podPath })
  ip(env.node, 'link', 'del', 'tbrb')
  const gcA = env.run('GC', { ...net(env, 'a', true), 'cni.dev/valid-attachments': [{ containerID: 'a4', ifname: 'eth0' }] }, { containerId: '', netns: '', ifname: '' })
  t.equal(gcA.code, 0)
  t.same(ourRules(env.node), rulesOf('tbra'), 'bridge b is gone: its rules are swept; a has a port: kept')
})

t.test('a failed ADD takes back the rules it added, not those others use', async t => {
  const env = setupEnv(t, 'isorb')
  const fail = env.run('ADD', net(env, 'a', true), { containerId: 'x1', extraEnv: { TSCNI_FAIL_AFTER_STEP: 'isolate' } })
  t.equal(fail.code, 1)
  t.same(ourRules(env.node), [], 'the first ADD failed after adding them: removed')
  t.notOk(nftRuleset(env.node).tables.some(x => x.name === TABLE), 'no table left')
  const ok = env.run('ADD', net(env, 'a', true), { containerId: 'x2' })
  t.equal(ok.code, 0)
  const pod2 = makeNamespace(t, 'isorb-2')
  const fail2 = env.run('ADD', net(env, 'a', true), { containerId: 'x3', netns: nsPath(pod2), extraEnv: { TSCNI_FAIL_AFTER_STEP: 'ipam' } })
  t.equal(fail2.code, 1)
  t.same(ourRules(env.node), rulesOf('tbra'), 'a failed ADD that found them in place leaves them')
})

// GC that sweeps (issue 11 item 7) and the one-pass reconciler (item 2),
// root, with `tscni gc` / `tscni reconcile` run in the node namespace as an
// operator runs them. Oracles: nft -j, ip -j, the files on disk; real
// masqueraded traffic after `nft flush ruleset`.
import t from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { NamespaceAgent } from '../../src/demo/probe.js'
import { BIN_DIR, deleteNamespace, hostVeths, ip, ipFiles, makeNamespace, nsPath, setupEnv, skipReason, type Env } from '../helpers/bridge.js'
import { addKilledAfter, ourRules, recordFiles, SHARED_ONLY } from '../helpers/attachments.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)
const TSCNI = join(BIN_DIR, 'tscni')

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

function conf (env: Env, extra: Record<string, unknown> = {}, opts: { name?: string, subnet?: string, bridge?: string } = {}): Record<string, unknown> {
  return env.config({ isDefaultGateway: true, ipMasq: true, macspoofchk: true, ...extra }, { cniVersion: '1.1.0', ...opts })
}

/** `tscni ARGS…` in the node namespace. */
function tscni (env: Env, args: string[], input?: string): { code: number, stdout: string, stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', env.node, TSCNI, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TSCNI_STATE_DIR: env.stateDir, CNI_PATH: BIN_DIR },
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {})
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

const nft = (node: string, ...args: string[]): string => execFileSync('ip', ['netns', 'exec', node, 'nft', ...args], { encoding: 'utf8' })

/** What GC and reconcile may change, as text. */
function world (env: Env, networks = ['tnet']): unknown {
  return {
    rules: ourRules(env.node),
    foreign: nft(env.node, 'list', 'table', 'inet', 'mine'),
    veths: hostVeths(env.node).map(l => l.ifname).sort(),
    ips: networks.map(n => ipFiles(env.dataDir, n)),
    records: Object.keys(recordFiles(env.stateDir))
  }
}

/** The operator's own table and a rule of theirs in the shared bridge nat PREROUTING chain: never ours to touch. */
function foreignRules (env: Env): void {
  nft(env.node, 'add', 'table', 'inet', 'mine')
  nft(env.node, 'add', 'chain', 'inet', 'mine', 'input', '{ type filter hook input priority 0 ; }')
  nft(env.node, 'add', 'rule', 'inet', 'mine', 'input', 'tcp', 'dport', '22', 'accept')
}

t.test('GC removes each kind of orphan of its network and nothing else; --dry-run changes nothing', async t => {
  const env = setupEnv(t, 'gc')
  const c = conf(env)
  const other = conf(env, {}, { name: 'onet', subnet: '10.79.0.0/24', bridge: 'tbr9' })
  // keep: a valid attachment; stale: one the runtime forgot; killed: an ADD killed after its veth; onet: another network's.
  t.equal(env.run('ADD', c).code, 0, 'ADD keep')
  const stalePod = makeNamespace(t, 'gc-stale')
  t.equal(env.run('ADD', c, { containerId: 'stale', netns: nsPath(stalePod) }).code, 0, 'ADD stale')
  await addKilledAfter(env, c, 'ipMasq', { containerId: 'killed', netns: nsPath(makeNamespace(t, 'gc-killed')) })
  t.equal(env.run('ADD', other, { containerId: 'other', netns: nsPath(makeNamespace(t, 'gc-other')) }).code, 0, 'ADD in another network')
  foreignRules(env)
  nft(env.node, 'add', 'rule', 'bridge', 'nat', 'PREROUTING', 'ether', 'saddr', '02:00:00:00:00:01', 'drop', 'comment', '"operator"')
  t.equal(hostVeths(env.node).length, 4)

  const validFile = join(env.stateDir, 'valid.json')
  writeFileSync(validFile, JSON.stringify([{ containerID: 'ctr1', ifname: 'eth0' }]))
  const confFile = join(env.stateDir, 'tnet.conflist')
  writeFileSync(confFile, JSON.stringify({ cniVersion: '1.1.0', name: 'tnet', plugins: [{ ...c, name: undefined, cniVersion: undefined }] }))

  const before = world(env, ['tnet', 'onet'])
  const dry = tscni(env, ['gc', '--conflist', confFile, '--valid-attachments', validFile, '--dry-run'])
  t.equal(dry.code, 0, dry.stderr)
  t.same(world(env, ['tnet', 'onet']), before, '--dry-run changed nothing')
  const expected = [
    /^bridge: would remove masquerade rule "[0-9a-f-]+, net: tnet, if: eth0, id: stale"$/m,
    /^bridge: would remove masquerade rule "[0-9a-f-]+, net: tnet, if: eth0, id: killed"$/m,
    /^bridge: would remove spoof-check chains cni-br-iface-killed-eth0 and cni-br-iface-killed-eth0-mac$/m,
    /^bridge: would remove spoof-check chains cni-br-iface-stale-eth0 and cni-br-iface-stale-eth0-mac$/m,
    /^bridge: would delete host veth veth[0-9a-f]{8}$/m,
    /^bridge: would remove attachment record killed:eth0$/m,
    /^bridge: would remove attachment record stale:eth0$/m,
    /^host-local: would release 10\.77\.0\.3$/m,
    /^host-local: would release 10\.77\.0\.4$/m
  ]
  for (const re of expected) t.match(dry.stdout, re)
  t.notMatch(dry.stdout, /ctr1|onet|other|operator/, 'nothing of the valid attachment or of another network')

  const real = tscni(env, ['gc', '--conflist', confFile, '--valid-attachments', '-'], JSON.stringify({ 'cni.dev/valid-attachments': [{ containerID: 'ctr1', ifname: 'eth0' }] }))
  t.equal(real.code, 0, real.stderr)
  for (const re of expected) t.match(real.stdout, new RegExp(re.source.replace('would remove', 'removed').replace('would delete', 'deleted').replace('would release', 'released'), 'm'))
  t.equal(hostVeths(env.node).length, 2, 'the stale and the killed attachment\'s veths are gone')
  t.same(ipFiles(env.dataDir, 'tnet'), ['10.77.0.2'], 'only the valid reservation is left')
  t.same(Object.keys(recordFiles(env.stateDir)).filter(k => k.endsWith('.json')), ['onet/other:eth0.json', 'tnet/ctr1:eth0.json'])
  const rules = ourRules(env.node)
  t.same(rules.chains.filter(x => x.includes('cni-br-iface')), ['bridge nat cni-br-iface-ctr1-eth0', 'bridge nat cni-br-iface-ctr1-eth0-mac', 'bridge nat cni-br-iface-other-eth0', 'bridge nat cni-br-iface-other-eth0-mac'])
  t.same(rules.rules.filter(x => x.includes('masquerade #')).map(x => x.replace(/.*, net: /, '')).sort(), ['onet, if: eth0, id: other', 'tnet, if: eth0, id: ctr1'])
  t.ok(rules.rules.some(x => x.endsWith('# operator')), 'the operator\'s rule in PREROUTING stays')
  t.match(nft(env.node, 'list', 'table', 'inet', 'mine'), /tcp dport 22 accept/, 'the operator\'s table stays')
  // Nothing more to do: a second run removes nothing.
  const again = tscni(env, ['gc', '--conflist', confFile, '--valid-attachments', validFile])
  t.match(again.stdout, /^0 item\(s\) removed$/m)
})

async function agent (t: Teardown, ns: string, label: string): Promise<NamespaceAgent> {
  const a = await NamespaceAgent.start(nsPath(ns), label)
  t.teardown(async () => { await a.close() })
  return a
}

t.test('reconcile after `nft flush ruleset`: our rules back as ADD wrote them, masqueraded traffic flows again', async t => {
  const env = setupEnv(t, 'rc')
  const c = conf(env)
  // A peer with no route back to the pods: it answers only masqueraded traffic.
  const peer = makeNamespace(t, 'rc-peer')
  ip(env.node, 'link', 'add', 'wire0', 'type', 'veth', 'peer', 'name', 'wire1', 'netns', peer)
  ip(env.node, 'addr', 'add', '192.168.251.1/30', 'dev', 'wire0')
  ip(env.node, 'link', 'set', 'wire0', 'up')
  ip(peer, 'addr', 'add', '192.168.251.2/30', 'dev', 'wire1')
  ip(peer, 'link', 'set', 'wire1', 'up')
  const add1 = env.run('ADD', c)
  t.equal(add1.code, 0)
  const pod2 = makeNamespace(t, 'rc-pod2')
  t.equal(env.run('ADD', c, { containerId: 'ctr2', netns: nsPath(pod2) }).code, 0)
  const listener = await agent(t, peer, 'peer')
  const port = await listener.listen(0)
  const pod = await agent(t, env.pod, 'pod')
  t.ok((await pod.probe('192.168.251.2', port)).ok, 'masqueraded before the flush')
  const before = ourRules(env.node)

  nft(env.node, 'flush', 'ruleset')
  t.same(ourRules(env.node), { chains: [], rules: [] })
  t.notOk((await pod.probe('192.168.251.2', port, 1500)).ok, 'after the flush the peer cannot answer')

  const dry = tscni(env, ['reconcile', '--dry-run'])
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout, /^would repair shared: table inet cni_plugins_masquerade is missing$/m)
  t.match(dry.stdout, /^would repair tnet ctr1\/eth0 \(veth[0-9a-f]{8}\): /m)
  t.match(dry.stdout, /^2 record\(s\): 2 would repair, 0 intact, 0 skipped, 0 error\(s\) \(dry run: nothing changed\)$/m)
  t.same(ourRules(env.node), { chains: [], rules: [] }, '--dry-run changed nothing')

  const r = tscni(env, ['reconcile'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^2 record\(s\): 2 repaired, 0 intact, 0 skipped, 0 error\(s\)$/m)
  t.same(ourRules(env.node), before, 'the same rules and chains as ADD wrote')
  const probe = await pod.probe('192.168.251.2', port)
  t.ok(probe.ok, `masqueraded traffic flows again${probe.error !== undefined ? `: ${probe.error}` : ''}`)
  t.equal(probe.seenFrom?.replace(/^::ffff:/, ''), '192.168.251.1', 'the peer sees the node\'s address')

  const json = JSON.parse(tscni(env, ['reconcile', '--json']).stdout)
  t.same({ records: json.records, intact: json.intact, repaired: json.repaired.length }, { records: 2, intact: 2, repaired: 0 }, 'a second pass finds nothing to do')
  const check = env.run('CHECK', { ...c, prevResult: add1.json })
  t.equal(check.code, 0, `CHECK passes after the reconcile${check.code !== 0 ? `: ${check.stdout}` : ''}`)
})

t.test('reconcile never re-creates what a DEL removed, nor rules of dead or half-made attachments, nor touches foreign rules', async t => {
  const env = setupEnv(t, 'rn')
  const c = conf(env)
  t.equal(env.run('ADD', c).code, 0, 'ADD live')
  const gonePod = makeNamespace(t, 'rn-gone')
  t.equal(env.run('ADD', c, { containerId: 'deleted', netns: nsPath(gonePod) }).code, 0, 'ADD deleted')
  t.equal(env.run('DEL', c, { containerId: 'deleted', netns: nsPath(gonePod) }).code, 0, 'DEL deleted')
  const deadPod = makeNamespace(t, 'rn-dead')
  t.equal(env.run('ADD', c, { containerId: 'dead', netns: nsPath(deadPod) }).code, 0, 'ADD dead')
  deleteNamespace(deadPod) // the pod is gone, no DEL came: its veth went with it
  await addKilledAfter(env, c, 'ipMasq', { containerId: 'killed', netns: nsPath(makeNamespace(t, 'rn-killed')) })
  foreignRules(env)
  // Everything of ours gone, the operator's rules kept (a firewall reload of ours only).
  nft(env.node, 'delete', 'table', 'inet', 'cni_plugins_masquerade')
  nft(env.node, 'delete', 'table', 'bridge', 'nat')
  nft(env.node, 'add', 'table', 'bridge', 'nat')
  nft(env.node, 'add', 'chain', 'bridge', 'nat', 'PREROUTING', '{ type filter hook prerouting priority -300 ; }')
  nft(env.node, 'add', 'rule', 'bridge', 'nat', 'PREROUTING', 'ether', 'saddr', '02:00:00:00:00:01', 'drop', 'comment', '"operator"')
  const mine = nft(env.node, 'list', 'table', 'inet', 'mine')

  const r = tscni(env, ['reconcile'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^repaired tnet ctr1\/eth0 /m)
  t.match(r.stdout, /^skipped tnet dead\/eth0: host veth veth[0-9a-f]{8} is gone: not live/m)
  t.match(r.stdout, /^skipped tnet killed\/eth0: its ADD has not finished \(or was killed\): not live$/m)
  t.notMatch(r.stdout, /deleted\/eth0/, 'the DELeted attachment has no record any more')
  const rules = ourRules(env.node)
  t.same(rules.chains.filter(x => x.includes('cni-br-iface')), ['bridge nat cni-br-iface-ctr1-eth0', 'bridge nat cni-br-iface-ctr1-eth0-mac'], 'only the live attachment\'s chains')
  t.same(rules.rules.filter(x => x.includes('masquerade #')).map(x => x.replace(/.*, id: /, '')), ['ctr1'], 'only the live attachment\'s masquerade rule')
  t.ok(rules.rules.some(x => x.endsWith('# operator')), 'the operator\'s PREROUTING rule stays')
  t.equal(rules.rules.filter(x => x.startsWith('bridge nat PREROUTING')).length, 2, 'the operator\'s rule and our one jump')
  t.equal(nft(env.node, 'list', 'table', 'inet', 'mine'), mine, 'the operator\'s table is untouched')
  t.same(rules.chains.filter(x => !x.includes('cni-br-iface')), SHARED_ONLY.chains)
})

t.test('reconcile skips a record whose DEL (or ADD) holds its lock', async t => {
  const env = setupEnv(t, 'rl')
  const c = conf(env)
  t.equal(env.run('ADD', c).code, 0)
  nft(env.node, 'flush', 'ruleset')
  const record = join(env.stateDir, 'attachments', 'tnet', 'ctr1:eth0.json')
  t.ok(existsSync(record))
  // What a DEL in progress does: hold the record's flock.
  const holder = spawn('flock', [record, 'sleep', '30'], { stdio: 'ignore', detached: true })
  const release = (): void => { try { process.kill(-holder.pid!, 'SIGKILL') } catch {} }
  t.teardown(release)
  for (let i = 0; i < 100 && spawnSync('flock', ['-n', record, 'true']).status === 0; i++) spawnSync('sleep', ['0.02'])
  const busy = tscni(env, ['reconcile'])
  t.match(busy.stdout, /^skipped tnet ctr1\/eth0: busy \(an ADD or DEL is at work\) or removed$/m)
  t.same(ourRules(env.node), { chains: [], rules: [] }, 'nothing re-created under a DEL')
  release()
  await new Promise(resolve => holder.on('close', resolve))
  t.match(tscni(env, ['reconcile']).stdout, /^1 record\(s\): 1 repaired/m)
})

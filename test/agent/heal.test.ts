// Self-healing with the agent up: our masquerade and spoof-check rules come
// back after `nft flush ruleset` in the node namespace, masqueraded traffic
// flows again, a DEL's rules never come back, a deleted or changed bridge is
// counted. Root only; plugins run through the agent inside a throwaway node
// namespace, traffic only between namespaces the test made.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { NamespaceAgent } from '../../src/demo/probe.js'
import { ip, nftRuleset, nsPath, setupEnv, skipReason } from '../helpers/bridge.js'
import { startAgent, type TestAgent } from '../helpers/agent.js'
import { NODE_V4, PEER_V4, addPeer } from '../helpers/peer.js'

const skip = skipReason() ?? (spawnSync('nft', ['--version']).status === 0 ? undefined : 'needs nft (nftables) as the oracle')

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

async function probeAgent (t: Teardown, ns: string, label: string): Promise<NamespaceAgent> {
  const a = await NamespaceAgent.start(nsPath(ns), label)
  t.teardown(async () => { await a.close() })
  return a
}

const ours = (node: string): { masq: number, spoofChains: number } => {
  const r = nftRuleset(node)
  return {
    masq: r.rules.filter(x => x.table === 'cni_plugins_masquerade' && x.chain === 'masq_checks' && x.text.includes('masquerade')).length,
    spoofChains: r.chains.filter(c => c.table === 'nat' && c.name.startsWith('cni-br-iface-')).length
  }
}

/** Polls until cond() holds (at most limitMs); returns the milliseconds it took, or undefined. */
async function until (cond: () => boolean, limitMs = 5000): Promise<number | undefined> {
  const start = performance.now()
  while (performance.now() - start < limitMs) {
    if (cond()) return Math.round(performance.now() - start)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return undefined
}

const watch = async (a: TestAgent): Promise<Record<string, number>> => (await a.status()).watch

t.test('nft flush ruleset with the agent up: the rules come back and masqueraded traffic flows again', { skip }, async t => {
  const agent = await startAgent(t)
  const env = setupEnv(t, 'heal')
  const peer = addPeer(t, env.node)
  const conf = env.config({ isDefaultGateway: true, ipMasq: true, macspoofchk: true })
  const add = env.run('ADD', conf, { extraEnv: { TSCNI_AGENT_SOCKET: agent.socket } })
  t.equal(add.code, 0, add.stdout + add.stderr)
  t.same(ours(env.node), { masq: 1, spoofChains: 2 }, 'the masquerade rule and the two spoof-check chains')
  const listener = await probeAgent(t, peer, 'peer')
  const port = await listener.listen(0)
  const pod = await probeAgent(t, env.pod, 'pod')
  const before = await pod.probe(PEER_V4, port)
  t.ok(before.ok, `reaches the peer: ${before.error ?? ''}`)
  t.equal(before.seenFrom?.replace(/^::ffff:/, ''), NODE_V4, 'masqueraded')

  const flush = spawnSync('ip', ['netns', 'exec', env.node, 'nft', 'flush', 'ruleset'], { encoding: 'utf8' })
  t.equal(flush.status, 0, flush.stderr)
  const took = await until(() => { const o = ours(env.node); return o.masq === 1 && o.spoofChains === 2 })
  t.not(took, undefined, 'the rules, chains and tables are back')
  t.comment(`back after ${took ?? '?'} ms`)
  const w = await watch(agent)
  t.ok(w.attachmentsRepaired >= 1, `counted: ${JSON.stringify(w)}`)
  t.ok(w.sharedRepaired >= 1, 'the shared tables and chains too')
  t.match(agent.log(), /put back the rules of tnet ctr1\/eth0/, 'logged')
  const after = await pod.probe(PEER_V4, port)
  t.ok(after.ok, `reaches the peer again: ${after.error ?? ''}`)
  t.equal(after.seenFrom?.replace(/^::ffff:/, ''), NODE_V4, 'masqueraded again')

  // A changed bridge and a deleted one are counted (and logged).
  ip(env.node, 'link', 'set', 'tbr0', 'mtu', '1400')
  t.not(await until(() => false, 300), 0)
  t.equal((await watch(agent)).bridgesChanged, 1, 'MTU change counted')
  t.match(agent.log(), /bridge tbr0 changed/)

  const del = env.run('DEL', conf, { extraEnv: { TSCNI_AGENT_SOCKET: agent.socket } })
  t.equal(del.code, 0, del.stdout)
  t.same(ours(env.node).masq, 0, 'DEL removed the masquerade rule')
  // Another deletion in the node (it would trigger a pass): the DEL's rules never come back.
  spawnSync('ip', ['netns', 'exec', env.node, 'nft', 'flush', 'ruleset'])
  await until(() => false, 500)
  t.same(ours(env.node), { masq: 0, spoofChains: 0 }, 'what the DEL removed stays removed')
  t.equal((await watch(agent)).hosts, 0, 'the node is no longer watched (no record left there)')
})

t.test('a deleted bridge of live attachments is counted', { skip }, async t => {
  const agent = await startAgent(t)
  const env = setupEnv(t, 'heal2')
  const conf = env.config({ ipMasq: true })
  t.equal(env.run('ADD', conf, { extraEnv: { TSCNI_AGENT_SOCKET: agent.socket } }).code, 0)
  await until(() => false, 200)
  ip(env.node, 'link', 'del', 'tbr0')
  t.not(await until(() => agent.log().includes('bridge tbr0 of live attachments was deleted'), 3000), undefined, 'logged')
  t.equal((await watch(agent)).bridgesMissing, 1, 'counted')
  t.equal(env.run('DEL', conf, { extraEnv: { TSCNI_AGENT_SOCKET: agent.socket } }).code, 0, 'DEL still succeeds')
})

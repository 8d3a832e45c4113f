// Kill-safe to the last file (issue 11 item 3), root: an ADD killed with
// SIGKILL right after each of its steps (TSCNI_HANG_AFTER_STEP makes it wait
// there) leaves nothing behind once the DEL that follows has run, also when
// the pod namespace is gone first or CNI_NETNS is empty, or once a GC runs
// instead of the DEL. The attachment record is what lets them find the host
// veth. Oracles: ip -j, nft -j, the files on disk.
import t from 'tap'
import { deleteNamespace, hostVeths, ipFiles, link, setupEnv, skipReason, type Env } from '../helpers/bridge.js'
import { addKilledAfter, assertNothingLeft, ourRules, recordFiles } from '../helpers/attachments.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

/** Everything that writes state: the record, a veth, both nf_tables features, IPAM, a gateway. */
function fullConfig (env: Env): Record<string, unknown> {
  return env.config({ isGateway: true, ipMasq: true, macspoofchk: true }, { cniVersion: '1.1.0' })
}

const STEPS = ['veth', 'host port', 'macspoofchk', 'ipam', 'ipMasq', 'neighbours', 'container', 'gateway', 'port state', 'result', 'record']

t.test('the records: "adding" before the veth exists, "ready" at the end, gone after DEL or a failed ADD', async t => {
  const env = setupEnv(t, 'rec')
  const conf = fullConfig(env)
  const add = env.run('ADD', conf)
  t.equal(add.code, 0, add.stdout + add.stderr)
  const recs = recordFiles(env.stateDir)
  t.same(Object.keys(recs), ['tnet/ctr1:eth0.json'], 'one record, named <network>/<containerID>:<ifname>.json')
  const r = recs['tnet/ctr1:eth0.json']
  const [veth] = hostVeths(env.node)
  t.match(r, {
    version: 1, plugin: 'bridge', network: 'tnet', containerID: 'ctr1', ifname: 'eth0', netns: env.podPath, state: 'ready',
    bridge: 'tbr0', hostVeth: veth?.ifname, ips: ['10.77.0.2/24'], ipMasq: true, macspoofchk: true, containerMac: add.json.interfaces[2].mac
  })
  t.equal(env.run('DEL', conf).code, 0)
  t.same(recordFiles(env.stateDir), {}, 'DEL removes the record')

  const failed = env.run('ADD', conf, { extraEnv: { TSCNI_FAIL_AFTER_STEP: 'result' } })
  t.equal(failed.code, 1)
  t.same(recordFiles(env.stateDir), {}, 'a failed ADD\'s rollback removes the record')

  const hanging = await addKilledAfter(env, conf, 'veth')
  t.match(hanging, /hanging after step veth/)
  const adding = recordFiles(env.stateDir)['tnet/ctr1:eth0.json']
  t.equal(adding?.state, 'adding', 'killed after the veth: the record says "adding"')
  t.ok(link(env.node, adding?.hostVeth), 'and names the host veth that exists')
  t.equal(env.run('DEL', conf).code, 0)
  assertNothingLeft(t, env)
})

t.test('killed after each step, then DEL: nothing left', async t => {
  for (const step of STEPS) {
    await t.test(step, async t => {
      const env = setupEnv(t, 'ks')
      const conf = fullConfig(env)
      await addKilledAfter(env, conf, step)
      const del = env.run('DEL', conf)
      t.equal(del.code, 0, del.stdout + del.stderr)
      assertNothingLeft(t, env)
    })
  }
})

t.test('killed, then the pod namespace is deleted, then DEL: nothing left', async t => {
  for (const step of ['veth', 'ipam', 'ipMasq', 'container', 'result']) {
    await t.test(step, async t => {
      const env = setupEnv(t, 'kp')
      const conf = fullConfig(env)
      await addKilledAfter(env, conf, step)
      deleteNamespace(env.pod)
      const del = env.run('DEL', conf)
      t.equal(del.code, 0, del.stdout + del.stderr)
      assertNothingLeft(t, env, { pod: '' })
    })
  }
})

t.test('killed, then DEL with an empty CNI_NETNS (the pod still there): the recorded host veth goes', async t => {
  for (const step of ['veth', 'host port', 'ipMasq', 'container', 'result']) {
    await t.test(step, async t => {
      const env = setupEnv(t, 'ke')
      const conf = fullConfig(env)
      await addKilledAfter(env, conf, step)
      t.equal(hostVeths(env.node).length, 1, 'the killed ADD left its veth')
      const del = env.run('DEL', conf, { netns: '' })
      t.equal(del.code, 0, del.stdout + del.stderr)
      assertNothingLeft(t, env)
    })
  }
})

t.test('killed, and no DEL comes: GC removes the veth, the rules, the reservation and the record', async t => {
  for (const step of ['veth', 'macspoofchk', 'ipMasq', 'result', 'record']) {
    await t.test(step, async t => {
      const env = setupEnv(t, 'kg')
      const conf = fullConfig(env)
      await addKilledAfter(env, conf, step)
      const gc = env.run('GC', { ...conf, 'cni.dev/valid-attachments': [] }, { containerId: '', netns: '', ifname: '' })
      t.equal(gc.code, 0, gc.stdout + gc.stderr)
      assertNothingLeft(t, env)
    })
  }
})

t.test('GC keeps what is valid', async t => {
  const env = setupEnv(t, 'kv')
  const conf = fullConfig(env)
  t.equal(env.run('ADD', conf).code, 0)
  const before = { veths: hostVeths(env.node).map(l => l.ifname), rules: ourRules(env.node), ips: ipFiles(env.dataDir, 'tnet'), records: recordFiles(env.stateDir) }
  const gc = env.run('GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr1', ifname: 'eth0' }] }, { containerId: '', netns: '', ifname: '' })
  t.equal(gc.code, 0, gc.stdout + gc.stderr)
  t.same({ veths: hostVeths(env.node).map(l => l.ifname), rules: ourRules(env.node), ips: ipFiles(env.dataDir, 'tnet'), records: recordFiles(env.stateDir) }, before, 'nothing of a valid attachment is touched')
})

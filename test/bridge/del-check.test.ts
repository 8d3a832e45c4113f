// DEL (idempotent, best effort), CHECK (detects a removed address or route,
// works for L2), GC and STATUS (forwarded to IPAM).
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deleteNamespace, hostVeths, ip, ipFiles, link, makeTempDir, setupEnv, skipReason } from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

t.test('DEL removes the pair and the reservation; twice is fine', async t => {
  const env = setupEnv(t)
  const conf = env.config({ isGateway: true })
  t.equal(env.run('ADD', conf).code, 0)
  t.same(ipFiles(env.dataDir, 'tnet'), ['10.77.0.2'])
  for (const round of [1, 2]) {
    const r = env.run('DEL', conf)
    t.equal(r.code, 0, `DEL ${round} succeeds`)
    t.equal(r.stdout, '', 'DEL prints nothing')
  }
  t.same(hostVeths(env.node), [], 'host veth gone')
  t.equal(link(env.pod, 'eth0'), undefined, 'container interface gone')
  t.same(ipFiles(env.dataDir, 'tnet'), [], 'reservation released')
  t.ok(link(env.node, 'tbr0'), 'the bridge stays')
})

t.test('DEL after the pod namespace is gone still releases the IP', async t => {
  const env = setupEnv(t)
  const conf = env.config()
  t.equal(env.run('ADD', conf).code, 0)
  deleteNamespace(env.pod)
  const r = env.run('DEL', conf)
  t.equal(r.code, 0, r.stdout)
  t.same(ipFiles(env.dataDir, 'tnet'), [])
  t.same(hostVeths(env.node), [], 'the kernel removed the pair with the namespace')
})

t.test('DEL after the interface is gone, and DEL without CNI_NETNS', async t => {
  const env = setupEnv(t)
  const conf = env.config()
  t.equal(env.run('ADD', conf).code, 0)
  ip(env.pod, 'link', 'del', 'eth0')
  t.equal(env.run('DEL', conf).code, 0)
  t.same(ipFiles(env.dataDir, 'tnet'), [])
  t.equal(env.run('ADD', conf, { containerId: 'ctr2' }).code, 0)
  const r = env.run('DEL', conf, { containerId: 'ctr2', netns: '' })
  t.equal(r.code, 0)
  t.same(ipFiles(env.dataDir, 'tnet'), [], 'IPAM DEL only')
  t.notOk(link(env.pod, 'eth0'), 'without CNI_NETNS the pair goes through its host end, found by the attachment record')
  t.same(hostVeths(env.node), [])
})

t.test('DEL of a never-configured container succeeds', async t => {
  const env = setupEnv(t)
  t.equal(env.run('DEL', env.config(), { containerId: 'never' }).code, 0)
})

t.test('DEL with CNI_NETNS naming something that is not a namespace fails', async t => {
  const env = setupEnv(t)
  const dir = makeTempDir(t, 'notns')
  const file = join(dir, 'plain')
  writeFileSync(file, '')
  const r = env.run('DEL', env.config(), { netns: file })
  t.equal(r.code, 1)
  t.match(r.json?.msg, /^unknown FS magic on ".*plain": [0-9a-f]+$/)
})

t.test('DEL with an invalid config still releases the IP', async t => {
  const env = setupEnv(t)
  t.equal(env.run('ADD', env.config()).code, 0)
  const r = env.run('DEL', env.config({ vlan: 5000 }))
  t.equal(r.code, 0)
  t.same(ipFiles(env.dataDir, 'tnet'), [])
})

t.test('CHECK passes after ADD and detects a removed address and a removed route', async t => {
  const env = setupEnv(t)
  const conf = env.config({ isDefaultGateway: true })
  const add = env.run('ADD', conf)
  t.equal(add.code, 0)
  const withPrev = { ...conf, prevResult: add.json }
  t.equal(env.run('CHECK', withPrev).code, 0, 'CHECK right after ADD')

  ip(env.pod, 'route', 'del', 'default')
  let r = env.run('CHECK', withPrev)
  t.equal(r.code, 1)
  t.match(r.json?.msg, /^Expected Route \{Dst:0\.0\.0\.0\/0 GW:10\.77\.0\.1\} not found in routing table$/)
  ip(env.pod, 'route', 'add', 'default', 'via', '10.77.0.1')
  t.equal(env.run('CHECK', withPrev).code, 0, 'CHECK passes again once the route is back')

  ip(env.pod, 'addr', 'del', '10.77.0.2/24', 'dev', 'eth0')
  r = env.run('CHECK', withPrev)
  t.equal(r.code, 1)
  t.equal(r.json?.msg, 'Failed to match addr 10.77.0.2/24 on interface eth0')

  const noPrev = env.run('CHECK', conf)
  t.equal(noPrev.json?.msg, 'Required prevResult missing')
})

t.test('CHECK: a gw-less route matches by destination; host veth and bridge are verified', async t => {
  const env = setupEnv(t)
  // isGateway pins the bridge MAC, so releasing the port below changes nothing else.
  const conf = env.config({ isGateway: true })
  ;(conf.ipam as any).routes = [{ dst: '10.200.0.0/16' }]
  const add = env.run('ADD', conf)
  t.equal(add.code, 0)
  t.same(add.json.routes, [{ dst: '10.200.0.0/16' }])
  t.equal(env.run('CHECK', { ...conf, prevResult: add.json }).code, 0)
  ip(env.node, 'link', 'set', add.json.interfaces[1].name, 'nomaster')
  const r = env.run('CHECK', { ...conf, prevResult: add.json })
  // Upstream's message, then what is wrong (check-rules.ts).
  t.match(r.json?.msg, /^CNI veth created for bridge tbr0 was not found: host veth veth[0-9a-f]{8} is not a port of bridge tbr0 \(it has no master\)$/)
})

t.test('L2 CHECK works (upstream fails with "no plugin name provided")', async t => {
  const env = setupEnv(t)
  const conf = env.config({}, { l2: true })
  const add = env.run('ADD', conf)
  t.equal(add.code, 0)
  t.equal(env.run('CHECK', { ...conf, prevResult: add.json }).code, 0)
  const wrongMac = structuredClone(add.json)
  wrongMac.interfaces[2].mac = '0a:00:00:00:00:99'
  const r = env.run('CHECK', { ...conf, prevResult: wrongMac })
  t.match(r.json?.msg, /^Interface eth0 Mac 0a:00:00:00:00:99 doesn't match container Mac/)
})

t.test('GC and STATUS are forwarded to IPAM', async t => {
  const env = setupEnv(t)
  const conf = env.config({}, { cniVersion: '1.1.0' })
  t.equal(env.run('ADD', conf).code, 0)
  t.equal(env.run('ADD', conf, { containerId: 'ctr2', ifname: 'eth1' }).code, 0)
  t.same(ipFiles(env.dataDir, 'tnet'), ['10.77.0.2', '10.77.0.3'])
  const gc = env.run('GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr2', ifname: 'eth1' }] }, { containerId: '', netns: '', ifname: '' })
  t.equal(gc.code, 0, gc.stdout)
  t.same(ipFiles(env.dataDir, 'tnet'), ['10.77.0.3'], 'the stale reservation was collected by host-local')
  t.notOk(link(env.pod, 'eth0'), 'GC deleted the stale attachment\'s veth (found by its record)')
  t.ok(link(env.pod, 'eth1'), 'the valid attachment\'s interface stays')
  t.equal(env.run('STATUS', conf, { containerId: '', netns: '', ifname: '' }).code, 0)
  const masq = env.run('STATUS', { ...conf, ipMasq: true, macspoofchk: true }, { containerId: '', netns: '', ifname: '' })
  t.equal(masq.code, 0, `ipMasq and macspoofchk are served${masq.code !== 0 ? `: ${masq.stdout}` : ''}`)
  const full = env.run('STATUS', env.config({}, { cniVersion: '1.1.0', subnet: '10.78.0.0/30' }), { containerId: '', netns: '', ifname: '' })
  t.equal(full.code, 0, 'a /30 with its one address free is ready')
  t.equal(env.run('ADD', env.config({}, { cniVersion: '1.1.0', subnet: '10.78.0.0/30', name: 'tiny' }), { containerId: 'ctr3', ifname: 'eth2' }).code, 0)
  const tiny = env.config({}, { cniVersion: '1.1.0', subnet: '10.78.0.0/30', name: 'tiny' })
  t.equal(env.run('STATUS', tiny, { containerId: '', netns: '', ifname: '' }).code, 0, 'a full range is ready unless the IPAM config opts in')
  const exhausted = env.run('STATUS', { ...tiny, ipam: { ...(tiny.ipam as object), statusFailsWhenFull: true } }, { containerId: '', netns: '', ifname: '' })
  t.equal(exhausted.json?.code, 50, 'the IPAM plugin\'s STATUS failure is passed on')
})

// A failed ADD leaves nothing behind: no veth on either side, no IP
// reservation (IPAM DEL is called), and the bridge is never removed.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN_DIR, globalAddresses, hostVeths, ip, ipFiles, link, makeTempDir, setupEnv, skipReason, writeFakeIpam } from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

t.test('a failing IPAM: its error is passed through, the veth is removed, IPAM DEL is called', async t => {
  const env = setupEnv(t)
  const dir = makeTempDir(t, 'fakeipam')
  const log = join(dir, 'calls.log')
  writeFakeIpam(dir, 'failipam', `echo "$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME" >> ${log}
if [ "$CNI_COMMAND" = ADD ]; then
  printf '{"cniVersion":"1.0.0","code":11,"msg":"pool exhausted","details":"try later"}'
  exit 1
fi
exit 0`)
  const r = env.run('ADD', { ...env.config(), ipam: { type: 'failipam' } }, { path: `${dir}:${BIN_DIR}` })
  t.equal(r.code, 1)
  t.same(r.json, { cniVersion: '1.0.0', code: 11, msg: 'pool exhausted', details: 'try later (ADD step "ipam" failed)' }, 'the IPAM error\'s code, msg and details, and the step that failed')
  t.same(hostVeths(env.node), [], 'no host veth left')
  t.equal(link(env.pod, 'eth0'), undefined, 'no container interface left')
  t.ok(link(env.node, 'tbr0'), 'the bridge stays')
  t.same(readFileSync(log, 'utf8').trim().split('\n'), ['ADD ctr1 eth0', 'DEL ctr1 eth0'], 'IPAM ADD, then IPAM DEL on rollback')
})

t.test('a failure after IPAM (bridge address conflict): no veth, no IP file left', async t => {
  const env = setupEnv(t)
  ip(env.node, 'link', 'add', 'tbr0', 'type', 'bridge')
  ip(env.node, 'addr', 'add', '10.99.0.1/24', 'dev', 'tbr0')
  const r = env.run('ADD', env.config({ isGateway: true }))
  t.equal(r.code, 1)
  t.match(r.json?.msg, /already has an IP address different from 10\.77\.0\.1\/24/)
  t.same(hostVeths(env.node), [], 'no host veth left')
  t.equal(link(env.pod, 'eth0'), undefined, 'no container interface left')
  t.same(ipFiles(env.dataDir, 'tnet'), [], 'the IP was released')
  t.same(globalAddresses(env.node, 'tbr0'), ['10.99.0.1/24'], 'the bridge and its address untouched')
})

t.test('a failure while configuring the container (unreachable route gateway): rolled back', async t => {
  const env = setupEnv(t)
  const conf = env.config()
  ;(conf.ipam as any).routes = [{ dst: '10.200.0.0/16', gw: '192.168.99.1' }]
  const r = env.run('ADD', conf)
  t.equal(r.code, 1)
  t.match(r.json?.msg, /^failed to add route '10\.200\.0\.0\/16 via 192\.168\.99\.1 dev eth0 metric 0 \(Scope: universe, Table: 0\)': .*ENETUNREACH/)
  t.same(hostVeths(env.node), [])
  t.equal(link(env.pod, 'eth0'), undefined)
  t.same(ipFiles(env.dataDir, 'tnet'), [])
})

t.test('the container name exists: official error, the existing interface untouched, nothing left', async t => {
  const env = setupEnv(t)
  ip(env.pod, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0')
  const r = env.run('ADD', env.config())
  t.equal(r.code, 1)
  t.match(r.json?.msg, /^container veth name \("eth0"\) peer provided \("veth[0-9a-f]{8}"\) already exists$/)
  t.equal(link(env.pod, 'eth0')?.linkinfo?.info_kind, 'veth', 'the existing eth0 is still there')
  t.equal(link(env.pod, 'other0')?.ifname, 'other0')
  t.same(hostVeths(env.node), [])
  t.same(ipFiles(env.dataDir, 'tnet'), [], 'IPAM was never called')
})

t.test('a missing CNI_NETNS fails before anything is created', async t => {
  const env = setupEnv(t)
  const r = env.run('ADD', env.config(), { netns: '/var/run/netns/tscni-does-not-exist' })
  t.equal(r.code, 1)
  t.equal(r.json?.msg, 'failed to open netns "/var/run/netns/tscni-does-not-exist": failed to Statfs "/var/run/netns/tscni-does-not-exist": no such file or directory')
  t.equal(link(env.node, 'tbr0'), undefined, 'not even the bridge')
})

t.test('L2 with cniVersion 0.2.0 cannot be expressed: refused with nothing left behind', async t => {
  const env = setupEnv(t)
  const r = env.run('ADD', env.config({}, { l2: true, cniVersion: '0.2.0' }))
  t.equal(r.code, 1)
  t.equal(r.json?.msg, 'cannot convert: no valid IP addresses')
  t.same(hostVeths(env.node), [])
  t.equal(link(env.pod, 'eth0'), undefined)
})

t.test('CNI_NETNS naming the plugin\'s own namespace is refused before anything is created', async t => {
  const env = setupEnv(t)
  const r = env.run('ADD', env.config(), { netns: '/proc/self/ns/net' })
  t.equal(r.code, 1)
  t.equal(r.json?.code, 8)
  t.equal(link(env.node, 'tbr0'), undefined)
})

// The ADD result in every result format: 0.3.x/0.4.0 (struct order,
// `version`, `"dns": {}`), 1.0.0/1.1.0 (sorted keys, no empty dns), 0.2.0
// (ip4/ip6), and an L2 network that 0.2.0 cannot express.
import t from 'tap'
import { hostVeths, link, setupEnv, skipReason } from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

for (const version of ['0.3.1', '0.4.0']) {
  t.test(`result ${version}`, async t => {
    const env = setupEnv(t)
    const r = env.run('ADD', env.config({ isDefaultGateway: true }, { cniVersion: version }))
    t.equal(r.code, 0, r.stdout)
    const res = r.json
    t.same(Object.keys(res), ['cniVersion', 'interfaces', 'ips', 'routes', 'dns'], 'Go struct order')
    t.equal(res.cniVersion, version)
    t.same(res.dns, {}, '"dns": {} always present')
    t.same(Object.keys(res.interfaces[2]), ['name', 'mac', 'sandbox'])
    t.same(res.ips, [{ version: '4', interface: 2, address: '10.77.0.2/24', gateway: '10.77.0.1' }])
    t.same(res.routes, [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }])
    t.equal(res.interfaces[1].name, hostVeths(env.node)[0]?.ifname)
    t.match(r.stdout, /^\{\n {4}"cniVersion"/, '4-space indent')
  })
}

for (const version of ['1.0.0', '1.1.0']) {
  t.test(`result ${version}`, async t => {
    const env = setupEnv(t)
    const r = env.run('ADD', env.config({ isDefaultGateway: true }, { cniVersion: version }))
    t.equal(r.code, 0, r.stdout)
    const res = r.json
    t.same(Object.keys(res), ['cniVersion', 'interfaces', 'ips', 'routes'], 'sorted keys, empty dns omitted')
    t.same(Object.keys(res.interfaces[2]), ['mac', 'name', 'sandbox'])
    t.same(res.ips, [{ address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 2 }])
    t.equal(res.interfaces[2].mac, link(env.pod, 'eth0')?.address)
    t.equal(res.interfaces[2].sandbox, env.podPath)
  })
}

t.test('result 0.2.0: ip4 with gateway and routes', async t => {
  const env = setupEnv(t)
  const r = env.run('ADD', env.config({ isDefaultGateway: true }, { cniVersion: '0.2.0' }))
  t.equal(r.code, 0, r.stdout)
  t.same(r.json, { cniVersion: '0.2.0', ip4: { ip: '10.77.0.2/24', gateway: '10.77.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }] }, dns: {} })
})

t.test('L2 with 0.2.0 and 0.1.0: cannot convert, nothing created', async t => {
  const env = setupEnv(t)
  for (const version of ['0.2.0', '0.1.0']) {
    const r = env.run('ADD', env.config({}, { l2: true, cniVersion: version }))
    t.equal(r.code, 1)
    t.equal(r.json?.msg, 'cannot convert: no valid IP addresses')
  }
  t.equal(link(env.node, 'tbr0'), undefined, 'refused before the bridge')
  t.same(hostVeths(env.node), [])
  t.equal(link(env.pod, 'eth0'), undefined)
})

t.test('L2 with 0.4.0 and 1.1.0: interfaces only', async t => {
  const env = setupEnv(t)
  const r4 = env.run('ADD', env.config({}, { l2: true, cniVersion: '0.4.0' }))
  t.same(Object.keys(r4.json), ['cniVersion', 'interfaces', 'dns'])
  const r11 = env.run('ADD', env.config({}, { l2: true, cniVersion: '1.1.0' }), { containerId: 'ctr2', ifname: 'eth1' })
  t.same(Object.keys(r11.json), ['cniVersion', 'interfaces'])
  t.equal(r11.json.interfaces.length, 3)
})

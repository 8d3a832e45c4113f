// bridge ADD, option by option, run exactly as a runtime runs it (bin/bridge
// in a throwaway "node" namespace, the container in a "pod" namespace) and
// checked against the kernel with iproute2.
import t from 'tap'
import {
  addresses, bridgeJson, globalAddresses, hostVeths, ip, ipFiles, link, links, routes, setupEnv, skipReason, sysctl, type Env
} from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

/** ADD that must succeed; returns the parsed result. */
function addOK (t: Tap.Test, env: Env, conf: unknown, opts = {}): any {
  const r = env.run('ADD', conf, opts)
  t.equal(r.code, 0, `ADD succeeds${r.code !== 0 ? `: ${r.stdout} ${r.stderr}` : ''}`)
  return r.json
}

t.test('L3 defaults: bridge, veth pair, addresses, sysctls, result', async t => {
  const env = setupEnv(t)
  const res = addOK(t, env, env.config())
  const br = link(env.node, 'tbr0')
  t.ok(br, 'the bridge exists')
  t.equal(br?.linkinfo?.info_kind, 'bridge')
  t.equal(br?.mtu, 1500, 'default MTU')
  t.ok(br?.flags.includes('UP'), 'bridge up')
  t.equal(br?.linkinfo?.info_data?.vlan_filtering, 0, 'no vlan_filtering')
  t.equal(br?.promiscuity, 0, 'not promiscuous')

  const veths = hostVeths(env.node)
  t.equal(veths.length, 1, 'one host veth named veth + 8 hex')
  const hv = veths[0]!
  t.equal(hv.master, 'tbr0', 'enslaved to the bridge')
  t.equal(hv.operstate, 'UP', 'host veth up')
  t.equal(sysctl(env.node, `net/ipv6/conf/${hv.ifname}/disable_ipv6`), '1', 'IPv6 off on the host veth (no MLD/ND flood)')
  t.equal(addresses(env.node, hv.ifname).length, 0, 'the host veth has no address, not even link-local')
  t.equal(sysctl(env.node, `net/ipv6/conf/${hv.ifname}/accept_ra`), '0')
  t.equal(sysctl(env.node, 'net/ipv6/conf/tbr0/accept_ra'), '0')
  // The node namespace started from the kernel's defaults (makeNamespace writes them), whatever the root namespace has.
  t.equal(sysctl(env.node, 'net/ipv4/ip_forward'), '0', 'no forwarding without isGateway')

  const eth0 = link(env.pod, 'eth0')
  t.equal(eth0?.linkinfo?.info_kind, 'veth')
  t.equal(eth0?.operstate, 'UP')
  const v4 = addresses(env.pod, 'eth0').filter(a => a.family === 'inet')
  t.same(v4.map(a => [a.local, a.prefixlen, a.broadcast]), [['10.77.0.2', 24, '10.77.0.255']], 'address with broadcast')
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/accept_dad'), '0')
  t.equal(sysctl(env.pod, 'net/ipv4/conf/eth0/arp_notify'), '1')
  t.same(ipFiles(env.dataDir, 'tnet'), ['10.77.0.2'])

  t.same(Object.keys(res).sort(), ['cniVersion', 'interfaces', 'ips'], 'no routes or dns in this result')
  t.equal(res.cniVersion, '1.0.0')
  t.equal(res.interfaces.length, 3)
  t.same(res.interfaces[0], { name: 'tbr0', mac: link(env.node, 'tbr0')?.address }, 'bridge with its current MAC')
  t.same(res.interfaces[1], { name: hv.ifname, mac: hv.address })
  t.same(res.interfaces[2], { name: 'eth0', mac: eth0?.address, sandbox: env.podPath })
  t.same(res.ips, [{ address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 2 }])
})

t.test('mtu applies to a new bridge and both veth ends', async t => {
  const env = setupEnv(t)
  addOK(t, env, env.config({ mtu: 1400 }))
  t.equal(link(env.node, 'tbr0')?.mtu, 1400)
  t.equal(hostVeths(env.node)[0]?.mtu, 1400)
  t.equal(link(env.pod, 'eth0')?.mtu, 1400)
})

t.test('isGateway: gateway on the bridge, forwarding, pinned bridge MAC', async t => {
  const env = setupEnv(t)
  const res = addOK(t, env, env.config({ isGateway: true }))
  t.same(globalAddresses(env.node, 'tbr0'), ['10.77.0.1/24'])
  t.equal(sysctl(env.node, 'net/ipv4/ip_forward'), '1')
  const brMac = link(env.node, 'tbr0')?.address
  t.equal(res.interfaces[0].mac, brMac)
  t.not(res.interfaces[1].mac, brMac, 'the bridge MAC is its own, not a port MAC')
  t.same(routes(env.pod).filter(r => r.dst === 'default'), [], 'no default route without isDefaultGateway')
  // A second container, then the first one leaves: the bridge MAC stays.
  addOK(t, env, env.config({ isGateway: true }), { containerId: 'ctr2', ifname: 'eth1' })
  t.equal(env.run('DEL', env.config({ isGateway: true })).code, 0)
  t.equal(link(env.node, 'tbr0')?.address, brMac, 'bridge MAC stable across ADD/DEL')
})

t.test('isDefaultGateway: default route in the container and in the result', async t => {
  const env = setupEnv(t)
  const res = addOK(t, env, env.config({ isDefaultGateway: true }))
  const def = routes(env.pod).filter(r => r.dst === 'default')
  t.equal(def.length, 1)
  t.equal(def[0].gateway, '10.77.0.1')
  t.equal(def[0].dev, 'eth0')
  t.equal(routes(env.pod, '-4', 'proto', 'boot').filter(r => r.dst === 'default').length, 1, 'RTPROT_BOOT as upstream')
  t.same(res.routes, [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }])
  t.same(globalAddresses(env.node, 'tbr0'), ['10.77.0.1/24'], 'isDefaultGateway implies isGateway')
})

t.test('isDefaultGateway with an IPAM default route without gw adds it once (upstream fails with file exists)', async t => {
  const env = setupEnv(t)
  const conf = env.config({ isDefaultGateway: true })
  ;(conf.ipam as any).routes = [{ dst: '0.0.0.0/0' }]
  const res = addOK(t, env, conf)
  t.same(res.routes, [{ dst: '0.0.0.0/0' }])
  t.equal(routes(env.pod).filter(r => r.dst === 'default' && r.gateway === '10.77.0.1').length, 1)
})

t.test('dual stack with isGateway: both gateways, both forwarding sysctls', async t => {
  const env = setupEnv(t)
  const res = addOK(t, env, env.config({ isDefaultGateway: true }, { ranges: [[{ subnet: '10.77.0.0/24' }], [{ subnet: 'fd00:77::/64' }]] }))
  t.same(globalAddresses(env.node, 'tbr0').sort(), ['10.77.0.1/24', 'fd00:77::1/64'])
  t.equal(sysctl(env.node, 'net/ipv6/conf/all/forwarding'), '1')
  t.same(globalAddresses(env.pod, 'eth0').sort(), ['10.77.0.2/24', 'fd00:77::2/64'])
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/keep_addr_on_down'), '1')
  t.same(res.routes, [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }, { dst: '::/0', gw: 'fd00:77::1' }])
  const def6 = routes(env.pod, '-6').filter(r => r.dst === 'default')
  t.equal(def6[0]?.gateway, 'fd00:77::1')
})

t.test('forceAddress: a different bridge address is an error without it, replaced with it', async t => {
  const env = setupEnv(t)
  ip(env.node, 'link', 'add', 'tbr0', 'type', 'bridge')
  ip(env.node, 'addr', 'add', '10.99.0.1/24', 'dev', 'tbr0')
  const r = env.run('ADD', env.config({ isGateway: true }))
  t.equal(r.code, 1)
  t.equal(r.json?.msg, 'failed to set bridge addr: "tbr0" already has an IP address different from 10.77.0.1/24')
  t.same(globalAddresses(env.node, 'tbr0'), ['10.99.0.1/24'], 'address unchanged')
  addOK(t, env, env.config({ isGateway: true, forceAddress: true }))
  t.same(globalAddresses(env.node, 'tbr0'), ['10.77.0.1/24'], 'replaced')
})

t.test('IPv6: a non-overlapping bridge address stays, an overlapping one is an error', async t => {
  const env = setupEnv(t)
  ip(env.node, 'link', 'add', 'tbr0', 'type', 'bridge')
  ip(env.node, 'addr', 'add', 'fd00:99::1/64', 'dev', 'tbr0', 'nodad')
  addOK(t, env, env.config({ isGateway: true }, { subnet: 'fd00:77::/64' }))
  t.same(globalAddresses(env.node, 'tbr0').sort(), ['fd00:77::1/64', 'fd00:99::1/64'], 'non-overlapping v6 accumulate')
  const env2 = setupEnv(t, 'b6')
  ip(env2.node, 'link', 'add', 'tbr0', 'type', 'bridge')
  ip(env2.node, 'addr', 'add', 'fd00:77::99/64', 'dev', 'tbr0', 'nodad')
  const r = env2.run('ADD', env2.config({ isGateway: true }, { subnet: 'fd00:77::/64' }))
  t.equal(r.code, 1)
  t.match(r.json?.msg, /already has an IP address different from fd00:77::1\/64/)
})

t.test('hairpinMode and portIsolation set the port flags; off by default', async t => {
  const env = setupEnv(t)
  addOK(t, env, env.config({ hairpinMode: true, portIsolation: true }))
  const hv = hostVeths(env.node)[0]!
  const port = bridgeJson(env.node, '-d', 'link', 'show', 'dev', hv.ifname)[0]
  t.equal(port.hairpin, true)
  t.equal(port.isolated, true)
  addOK(t, env, env.config(), { containerId: 'ctr2', ifname: 'eth1' })
  const other = hostVeths(env.node).find(l => l.ifname !== hv.ifname)!
  const port2 = bridgeJson(env.node, '-d', 'link', 'show', 'dev', other.ifname)[0]
  t.equal(port2.hairpin, false)
  t.equal(port2.isolated, false)
})

t.test('promiscMode puts the bridge in promiscuous mode; with hairpinMode it is refused', async t => {
  const env = setupEnv(t)
  addOK(t, env, env.config({ promiscMode: true }))
  t.ok(link(env.node, 'tbr0')?.flags.includes('PROMISC'))
  const r = env.run('ADD', env.config({ promiscMode: true, hairpinMode: true }), { containerId: 'ctr2', ifname: 'eth1' })
  t.equal(r.code, 1)
  t.equal(r.json?.msg, 'cannot set hairpin mode and promiscuous mode at the same time')
})

t.test('enabledad: accept_dad=1 and enhanced_dad=1 in the container', async t => {
  const env = setupEnv(t)
  addOK(t, env, env.config({ enabledad: true }, { subnet: 'fd00:77::/64' }))
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/accept_dad'), '1')
  t.equal(sysctl(env.pod, 'net/ipv6/conf/eth0/enhanced_dad'), '1')
  t.same(globalAddresses(env.pod, 'eth0'), ['fd00:77::2/64'])
})

t.test('L2: no IPAM, container up, no addresses; disableContainerInterface leaves it down', async t => {
  const env = setupEnv(t)
  const res = addOK(t, env, env.config({}, { l2: true }))
  t.equal(link(env.pod, 'eth0')?.operstate, 'UP')
  t.same(globalAddresses(env.pod, 'eth0'), [])
  t.equal(res.ips, undefined)
  t.not(res.interfaces[0].mac, res.interfaces[1].mac, 'an L2 bridge has a MAC of its own, pinned (upstream: the port MAC)')
  t.equal(res.interfaces[0].mac, link(env.node, 'tbr0')?.address)
  const r = addOK(t, env, env.config({ disableContainerInterface: true }, { l2: true }), { containerId: 'ctr2', ifname: 'eth1' })
  t.ok(r, 'ADD with disableContainerInterface')
  const eth1 = link(env.pod, 'eth1')
  t.notOk(eth1?.flags.includes('UP'), 'container end left down')
  const refused = env.run('ADD', env.config({ disableContainerInterface: true }), { containerId: 'ctr3', ifname: 'eth2' })
  t.equal(refused.json?.msg, 'cannot use IPAM when DisableContainerInterface flag is set')
  t.equal(link(env.pod, 'eth2'), undefined)
})

t.test('container MAC: runtimeConfig > args.cni.mac > CNI_ARGS MAC', async t => {
  const env = setupEnv(t)
  const a = '0a:58:00:00:00:01'; const b = '0a:58:00:00:00:02'; const c = '0a:58:00:00:00:03'
  let res = addOK(t, env, env.config({}, { l2: true }), { cniArgs: `IgnoreUnknown=1;MAC=${a};K8S_POD_NAME=x` })
  t.equal(link(env.pod, 'eth0')?.address, a, 'CNI_ARGS MAC')
  t.equal(res.interfaces[2].mac, a)
  res = addOK(t, env, env.config({ args: { cni: { mac: b } } }, { l2: true }), { containerId: 'c2', ifname: 'eth1', cniArgs: `MAC=${a}` })
  t.equal(link(env.pod, 'eth1')?.address, b, 'args.cni.mac beats CNI_ARGS')
  res = addOK(t, env, env.config({ args: { cni: { mac: b } }, runtimeConfig: { mac: c } }, { l2: true }), { containerId: 'c3', ifname: 'eth2', cniArgs: `MAC=${a}` })
  t.equal(link(env.pod, 'eth2')?.address, c, 'runtimeConfig.mac beats both')
  t.equal(res.interfaces[2].mac, c)
  const bad = env.run('ADD', env.config({}, { l2: true }), { containerId: 'c4', ifname: 'eth3', cniArgs: 'FOO=1' })
  t.equal(bad.code, 1)
  t.match(bad.json?.msg, /ARGS: unknown args \["FOO=1"\]/)
})

t.test('vlan options: a clear error on this kernel, nothing left behind', async t => {
  const env = setupEnv(t)
  const r = env.run('ADD', env.config({ vlan: 100 }))
  t.equal(r.code, 1)
  t.match(r.json?.msg, /vlan: 100 needs bridge VLAN filtering, which this kernel lacks/)
  t.equal(link(env.node, 'tbr0'), undefined, 'no bridge was created')
  // An existing bridge (no vlan_filtering): the port VLAN fails the same way, after the veth existed.
  ip(env.node, 'link', 'add', 'tbr0', 'type', 'bridge')
  const r2 = env.run('ADD', env.config({ vlanTrunk: [{ id: 5 }] }))
  t.equal(r2.code, 1)
  t.match(r2.json?.msg, /needs bridge VLAN filtering, which this kernel lacks/)
  t.same(hostVeths(env.node), [], 'veth rolled back')
  t.equal(link(env.pod, 'eth0'), undefined)
  t.same(ipFiles(env.dataDir, 'tnet'), [])
  const r3 = env.run('ADD', env.config({ vlan: 5000 }))
  t.equal(r3.json?.msg, 'invalid VLAN ID 5000 (must be between 0 and 4094)')
})

t.test('an unknown ipMasqBackend is refused before anything is created', async t => {
  const env = setupEnv(t)
  const r = env.run('ADD', env.config({ ipMasq: true, ipMasqBackend: 'pf' }))
  t.equal(r.code, 1)
  t.equal(r.json?.code, 7)
  t.equal(r.json?.msg, 'unknown ipmasq backend "pf"')
  t.same(links(env.node).map(l => l.ifname), ['lo'], 'nothing created')
  t.same(ipFiles(env.dataDir, 'tnet'), [])
})

t.test('an existing link of the bridge name that is not a bridge', async t => {
  const env = setupEnv(t)
  ip(env.node, 'link', 'add', 'tbr0', 'type', 'veth', 'peer', 'name', 'tbr0p')
  const r = env.run('ADD', env.config())
  t.equal(r.code, 1)
  t.equal(r.json?.msg, 'failed to create bridge "tbr0": "tbr0" already exists but is not a bridge')
  t.same(hostVeths(env.node), [])
})

t.test('dns from the config replaces the IPAM dns', async t => {
  const env = setupEnv(t)
  const res = addOK(t, env, env.config({ dns: { nameservers: ['10.0.0.10'], search: ['svc.local'] } }))
  t.same(res.dns, { nameservers: ['10.0.0.10'], search: ['svc.local'] })
})

t.test('IPAM: our host-local runs in process; another host-local on CNI_PATH is exec\'d', async t => {
  const { readFileSync } = await import('node:fs')
  const { hasStrace, makeTempDir, straceWrapper } = await import('../helpers/bridge.js')
  if (!hasStrace) { t.skip('strace is not installed'); return }
  const env = setupEnv(t)
  const [wrapper, log] = straceWrapper(makeTempDir(t, 'exec'), 'bridge', '-e trace=execve')
  const execs = (): string[] => readFileSync(log, 'utf8').split('\n').filter(l => l.includes('execve(') && !l.includes('ENOENT'))
  addOK(t, env, env.config(), { plugin: wrapper })
  const ours = execs()
  t.equal(ours.filter(l => /execve\("[^"]*\/node"/.test(l)).length, 1, 'a single Node process: host-local ran in process')
  t.notOk(ours.some(l => l.includes('bin/host-local')), 'bin/host-local was not exec\'d')
  t.same(ipFiles(env.dataDir, 'tnet'), ['10.77.0.2'])
  addOK(t, env, env.config(), { plugin: wrapper, path: '/usr/lib/cni', containerId: 'ctr2', ifname: 'eth1' })
  t.ok(execs().some(l => l.includes('execve("/usr/lib/cni/host-local"')), 'the official host-local was exec\'d')
  t.same(ipFiles(env.dataDir, 'tnet'), ['10.77.0.2', '10.77.0.3'], 'both share the store')
})

t.test('forwarding sysctls are only written when not already 1', async t => {
  const { readFileSync } = await import('node:fs')
  const { hasStrace, makeTempDir, straceWrapper, writeSysctlIn } = await import('../helpers/bridge.js')
  if (!hasStrace) { t.skip('strace is not installed'); return }
  const env = setupEnv(t)
  const [wrapper, log] = straceWrapper(makeTempDir(t, 'fwd'), 'bridge', '-e trace=openat')
  t.equal(sysctl(env.node, 'net/ipv4/ip_forward'), '0', 'the node namespace starts with forwarding off (the kernel default, written by makeNamespace)')
  addOK(t, env, env.config({ isGateway: true }), { plugin: wrapper })
  const opens = (): string[] => readFileSync(log, 'utf8').split('\n').filter(l => l.includes('/proc/sys/net/ipv4/ip_forward'))
  t.ok(opens().some(l => l.includes('O_WRONLY')), 'written when 0')
  t.equal(sysctl(env.node, 'net/ipv4/ip_forward'), '1')
  writeSysctlIn(env.node, 'net/ipv4/ip_forward', '1')
  addOK(t, env, env.config({ isGateway: true }), { plugin: wrapper, containerId: 'ctr2', ifname: 'eth1' })
  const second = opens()
  t.ok(second.some(l => l.includes('O_RDONLY')), 'read when already 1')
  t.notOk(second.some(l => l.includes('O_WRONLY')), 'not rewritten when already 1')
})

t.test('a mistyped config is explained field by field by the built plugin', async t => {
  const env = setupEnv(t)
  const r = env.run('ADD', env.config({ mtu: 'big', hairpinMode: 'yes' }))
  t.equal(r.code, 1)
  t.equal(r.json?.code, 7)
  t.equal(r.json?.msg, 'failed to load netconf')
  t.match(r.json?.details, /mtu: expected number or "auto", got string "big"/)
  t.match(r.json?.details, /hairpinMode: expected boolean, got string "yes"/)
  t.same(links(env.node).map(l => l.ifname), ['lo'], 'nothing created')
})

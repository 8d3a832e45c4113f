// The runtime harness (src/demo/runtime.ts) against libcni's rules, first
// with recording plugins that log what they receive, then with our real
// loopback + bridge + host-local chain in throwaway namespaces.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CniPluginError, CniRuntime, buildPluginConfig, parseConfigList, versionAtLeast, type NetworkConfigList } from '../../src/demo/runtime.js'
import { NamespaceAgent } from '../../src/demo/probe.js'
import { NetNamespace } from '../../src/netlink/netns.js'
import {
  PLUGIN_DIR, addresses, links, makeNamespace, makeTempDir, nsPath, pluginSkipReason, reservations, routes4, writeNodeScript
} from '../helpers/runtime.js'

// A plugin that logs its type, CNI_* variables and stdin, then answers as told.
const RECORDER = `
const fs = require('node:fs')
const type = require('node:path').basename(process.argv[1])
const cmd = process.env.CNI_COMMAND
const input = cmd === 'VERSION' ? '' : fs.readFileSync(0, 'utf8')
const conf = input ? JSON.parse(input) : {}
const env = {}
for (const k of ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH']) env[k] = process.env[k]
fs.appendFileSync(process.env.RECORDER_LOG, JSON.stringify({ type, env, conf }) + '\\n')
if (conf.fail === cmd) {
  process.stdout.write(JSON.stringify({ cniVersion: conf.cniVersion, code: 107, msg: 'told to fail', details: type }))
  process.exit(1)
}
if (conf.crash === cmd) { process.stderr.write('boom'); process.exit(3) }
if (cmd === 'VERSION') process.stdout.write(JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['1.0.0', '1.1.0'] }) + '\\n')
if (cmd === 'ADD') {
  const prev = conf.prevResult ?? { cniVersion: conf.cniVersion }
  prev.interfaces = [...(prev.interfaces ?? []), { name: type }]
  process.stdout.write(JSON.stringify(prev))
}
`

interface Logged { type: string, env: Record<string, string | undefined>, conf: Record<string, unknown> }

function recorderSetup (t: Test): { runtime: CniRuntime, read: () => Logged[], dir: string } {
  const dir = makeTempDir(t, 'rec')
  for (const name of ['rec-a', 'rec-b', 'rec-c']) writeNodeScript(join(dir, name), RECORDER)
  const log = join(dir, 'log.jsonl')
  const runtime = new CniRuntime({ pluginDirs: [join(dir, 'nothing-here'), dir], env: { ...process.env, RECORDER_LOG: log } })
  let consumed = 0
  const read = (): Logged[] => {
    let lines: string[] = []
    try { lines = readFileSync(log, 'utf8').split('\n').filter(l => l !== '') } catch {}
    const fresh = lines.slice(consumed).map(l => JSON.parse(l) as Logged)
    consumed = lines.length
    return fresh
  }
  return { runtime, read, dir }
}

const recList = (over: Partial<NetworkConfigList> = {}, b: Record<string, unknown> = {}): NetworkConfigList => ({
  cniVersion: '1.0.0',
  name: 'recnet',
  plugins: [
    { type: 'rec-a', capabilities: { portMappings: true, mac: false }, own: 'a' },
    { type: 'rec-b', capabilities: { mac: true, ips: true }, ...b },
    { type: 'rec-c' }
  ],
  ...over
})

t.test('ADD runs the chain in order, injecting name, cniVersion, prevResult and declared capabilities', async t => {
  const { runtime, read, dir } = recorderSetup(t)
  const list = recList()
  const rt = {
    containerId: 'ctr-1',
    netns: '/var/run/netns/whatever',
    ifName: 'eth0',
    args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'p1']] as Array<[string, string]>,
    capabilityArgs: { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }], mac: 'c2:11:22:33:44:55', bandwidth: { ingressRate: 1 } }
  }
  const result = await runtime.add(list, rt)
  t.same(result.interfaces, [{ name: 'rec-a' }, { name: 'rec-b' }, { name: 'rec-c' }], 'each plugin saw the previous result')
  const calls = read()
  t.same(calls.map(c => c.type), ['rec-a', 'rec-b', 'rec-c'])
  for (const c of calls) {
    t.equal(c.conf.name, 'recnet')
    t.equal(c.conf.cniVersion, '1.0.0')
    t.same(c.env, {
      CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ctr-1', CNI_NETNS: '/var/run/netns/whatever', CNI_IFNAME: 'eth0',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=p1', CNI_PATH: `${join(dir, 'nothing-here')}:${dir}`
    })
  }
  const [a, b, c] = calls as [Logged, Logged, Logged]
  t.notOk('prevResult' in a.conf, 'the first plugin gets no prevResult')
  t.same(b.conf.prevResult, { cniVersion: '1.0.0', interfaces: [{ name: 'rec-a' }] })
  t.same(c.conf.prevResult, { cniVersion: '1.0.0', interfaces: [{ name: 'rec-a' }, { name: 'rec-b' }] })
  t.same(a.conf.runtimeConfig, { portMappings: rt.capabilityArgs.portMappings }, 'declared true and supplied only')
  t.same(b.conf.runtimeConfig, { mac: 'c2:11:22:33:44:55' }, 'ips declared but not supplied: left out')
  t.notOk('runtimeConfig' in c.conf, 'no capabilities, no runtimeConfig')
  t.same(a.conf.capabilities, { portMappings: true, mac: false }, 'capabilities stay in the config, as libcni leaves them')
  t.equal(a.conf.own, 'a', 'the plugin\'s own keys pass through')
  t.same(runtime.cache.get('recnet', 'ctr-1', 'eth0')?.result, result, 'the final result is cached')
})

t.test('CHECK and DEL get the cached result; DEL runs in reverse and forgets it', async t => {
  const { runtime, read } = recorderSetup(t)
  const list = recList()
  const rt = { containerId: 'ctr-2', netns: '/var/run/netns/x', ifName: 'net1' }
  const result = await runtime.add(list, rt)
  read()
  await runtime.check(list, rt)
  const checks = read()
  t.same(checks.map(c => [c.type, c.env.CNI_COMMAND]), [['rec-a', 'CHECK'], ['rec-b', 'CHECK'], ['rec-c', 'CHECK']])
  for (const c of checks) t.same(c.conf.prevResult, result)
  await runtime.del(list, rt)
  const dels = read()
  t.same(dels.map(c => [c.type, c.env.CNI_COMMAND]), [['rec-c', 'DEL'], ['rec-b', 'DEL'], ['rec-a', 'DEL']], 'reverse order')
  for (const c of dels) t.same(c.conf.prevResult, result, 'prevResult = the cached final ADD result')
  t.equal(runtime.cache.get('recnet', 'ctr-2', 'net1'), undefined, 'cache entry gone')
  await runtime.del(list, rt)
  const again = read()
  t.equal(again.length, 3, 'a second DEL still runs every plugin')
  for (const c of again) t.notOk('prevResult' in c.conf, 'without a cached result there is no prevResult')

  await runtime.add(recList({ cniVersion: '0.3.1' }), rt)
  read()
  await runtime.del(recList({ cniVersion: '0.3.1' }), rt)
  for (const c of read()) t.notOk('prevResult' in c.conf, 'libcni passes no prevResult on DEL before 0.4.0')
  await t.rejects(runtime.check(recList({ cniVersion: '0.3.1' }), rt), /does not support the CHECK command/)
  await runtime.check(recList({ disableCheck: true }), rt)
  t.equal(read().length, 0, 'disableCheck: no plugin runs')
})

t.test('a plugin error becomes a CniPluginError naming the plugin; the chain stops there', async t => {
  const { runtime, read } = recorderSetup(t)
  const rt = { containerId: 'ctr-3', netns: '/x', ifName: 'eth0' }
  const err = await runtime.add(recList({}, { fail: 'ADD' }), rt).then(() => undefined, (e: unknown) => e)
  t.type(err, CniPluginError)
  const e = err as CniPluginError
  t.equal(e.plugin, 'rec-b')
  t.equal(e.command, 'ADD')
  t.equal(e.code, 107)
  t.equal(e.msg, 'told to fail')
  t.equal(e.details, 'rec-b')
  t.equal(e.exitCode, 1)
  t.match(e.message, /rec-b ADD failed: error 107: told to fail/)
  t.same(read().map(c => c.type), ['rec-a', 'rec-b'], 'rec-c never ran')
  t.equal(runtime.cache.get('recnet', 'ctr-3', 'eth0'), undefined, 'a failed ADD caches nothing')

  const crash = await runtime.add(recList({}, { crash: 'ADD' }), rt).then(() => undefined, (e: unknown) => e) as CniPluginError
  t.type(crash, CniPluginError)
  t.equal(crash.code, 0, 'no error JSON: code 0')
  t.equal(crash.exitCode, 3)
  t.match(crash.msg, /exit status 3.*boom/)

  await t.rejects(runtime.add(recList({ plugins: [{ type: 'rec-a' }, { type: 'no-such-plugin' }] }), rt), /failed to find plugin "no-such-plugin" in path/)
  await t.rejects(runtime.add(recList(), { ...rt, containerId: '-bad id' }), /invalid characters in containerID/)
  await t.rejects(runtime.add(recList(), { ...rt, ifName: 'a-very-long-ifname' }), /invalid interface name/)
  await t.rejects(runtime.add(recList({ plugins: [{ type: '../rec-a' }] }), rt), /invalid plugin name/)
})

t.test('GC: stale cached attachments are DELeted, then every plugin gets GC with the valid attachments', async t => {
  const { runtime, read } = recorderSetup(t)
  const list = recList({ cniVersion: '1.1.0' })
  await runtime.add(list, { containerId: 'keep', netns: '/a', ifName: 'eth0' })
  await runtime.add(list, { containerId: 'stale', netns: '/b', ifName: 'eth0', args: [['K', 'V']] })
  read()
  const valid = [{ containerID: 'keep', ifname: 'eth0' }]
  await runtime.gc(list, valid)
  const calls = read()
  t.same(calls.map(c => [c.type, c.env.CNI_COMMAND]), [
    ['rec-c', 'DEL'], ['rec-b', 'DEL'], ['rec-a', 'DEL'],
    ['rec-a', 'GC'], ['rec-b', 'GC'], ['rec-c', 'GC']
  ])
  for (const c of calls.slice(0, 3)) {
    t.equal(c.env.CNI_CONTAINERID, 'stale')
    t.equal(c.env.CNI_NETNS, '/b', 'the synthesised DEL has the cached netns path')
    t.equal(c.env.CNI_ARGS, 'K=V', 'and the args of the ADD')
  }
  for (const c of calls.slice(3)) {
    t.same(c.conf['cni.dev/valid-attachments'], valid)
    t.same(c.conf['cni.dev/attachments'], valid, 'the legacy key too')
    t.notOk('prevResult' in c.conf)
    t.same([c.env.CNI_CONTAINERID, c.env.CNI_NETNS, c.env.CNI_IFNAME, c.env.CNI_ARGS], ['', '', '', ''])
    t.ok((c.env.CNI_PATH ?? '').length > 0, 'CNI_PATH is set for GC')
  }
  t.same(runtime.cache.list('recnet').map(e => e.containerId), ['keep'])

  await runtime.gc(recList({ cniVersion: '1.0.0' }), [])
  t.same(read().map(c => c.env.CNI_COMMAND), ['DEL', 'DEL', 'DEL'], 'before 1.1.0: only the stale DEL, no GC')
  await runtime.gc(recList({ cniVersion: '1.1.0', disableGC: true }), [])
  t.same(read(), [], 'disableGC')

  const gcFail = recList({ cniVersion: '1.1.0' }, { fail: 'GC' })
  await t.rejects(runtime.gc(gcFail, []), /rec-b GC failed/)
  t.same(read().map(c => c.type), ['rec-a', 'rec-b', 'rec-c'], 'a GC error does not stop the others')
})

t.test('VERSION, STATUS and helpers', async t => {
  const { runtime, read } = recorderSetup(t)
  t.same(await runtime.version('rec-a'), { cniVersion: '1.1.0', supportedVersions: ['1.0.0', '1.1.0'] })
  await runtime.status(recList({ cniVersion: '1.1.0' }))
  t.same(read().filter(c => c.env.CNI_COMMAND === 'STATUS').map(c => c.type), ['rec-a', 'rec-b', 'rec-c'])
  t.ok(versionAtLeast('1.0.0', '0.4.0'))
  t.ok(versionAtLeast('0.4.0', '0.4.0'))
  t.notOk(versionAtLeast('0.3.1', '0.4.0'))
  t.notOk(versionAtLeast('', '0.2.0'), 'empty = 0.1.0')
  t.same(buildPluginConfig(recList(), { type: 'x', name: 'overridden', cniVersion: '0.1.0' }, {}), { type: 'x', name: 'recnet', cniVersion: '1.0.0' })
  t.throws(() => parseConfigList('{"name":"n","cniVersion":"1.0.0","plugins":[]}'), /no plugins/)
  t.throws(() => parseConfigList('[1'), /not JSON/)
  t.equal(parseConfigList('{"name":"n","cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}').plugins[0]?.type, 'bridge')
})

// ---- the real chain ----

const skip = pluginSkipReason()

function realList (dataDir: string, subnet: string, cniVersion = '1.0.0'): NetworkConfigList {
  return {
    cniVersion,
    name: 'e2enet',
    plugins: [
      { type: 'loopback' },
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir }
      }
    ]
  }
}

t.test('our loopback + bridge + host-local through the runtime: ADD, CHECK, traffic, DEL', { skip }, async t => {
  const node = makeNamespace(t, 'node')
  const pods = [makeNamespace(t, 'pod1'), makeNamespace(t, 'pod2')]
  const dataDir = makeTempDir(t, 'data')
  const nodeNs = NetNamespace.openNamed(node)
  t.teardown(() => { nodeNs.close() })
  const runtime = new CniRuntime({ pluginDirs: [PLUGIN_DIR], namespace: nodeNs })
  const list = realList(dataDir, '10.250.3.0/24')
  const conf = (i: number): { containerId: string, netns: string, ifName: string } => ({ containerId: `e2e-pod-${i}`, netns: nsPath(pods[i] as string), ifName: 'eth0' })

  const results = []
  for (let i = 0; i < pods.length; i++) results.push(await runtime.add(list, conf(i)))
  for (const [i, r] of results.entries()) {
    const ifaces = r.interfaces as Array<{ name: string, mac?: string, sandbox?: string }>
    t.equal(ifaces.length, 3, 'bridge, host veth, container')
    t.equal(ifaces[0]?.name, 'cni0')
    t.match(ifaces[1]?.name, /^veth[0-9a-f]{8}$/)
    t.same([ifaces[2]?.name, ifaces[2]?.sandbox], ['eth0', nsPath(pods[i] as string)])
    t.same(r.ips, [{ interface: 2, address: `10.250.3.${i + 2}/24`, gateway: '10.250.3.1' }])
  }
  t.same(reservations(dataDir, 'e2enet'), ['10.250.3.2', '10.250.3.3'])
  t.equal(readFileSync(join(dataDir, 'e2enet', '10.250.3.2'), 'utf8'), 'e2e-pod-0\r\neth0')

  // Kernel state, read with iproute2.
  const nodeLinks = links(node)
  const bridge = nodeLinks.find(l => l.ifname === 'cni0')
  t.equal(bridge?.linkinfo?.info_kind, 'bridge', 'cni0 was made in the node namespace')
  t.equal(nodeLinks.filter(l => l.master === 'cni0').length, 2, 'two ports on the bridge')
  t.ok(addresses(node, 'cni0')[0]?.addr_info.some(a => a.local === '10.250.3.1' && a.prefixlen === 24), 'gateway address on the bridge')
  for (const [i, pod] of pods.entries()) {
    const eth0 = addresses(pod, 'eth0')[0]
    t.ok(eth0?.addr_info.some(a => a.local === `10.250.3.${i + 2}`), `${pod}: eth0 has its address`)
    t.ok(eth0?.flags.includes('UP'))
    t.ok(links(pod).find(l => l.ifname === 'lo')?.flags.includes('UP'), 'loopback set lo up')
    t.ok(routes4(pod).some(r => r.dst === 'default' && r.gateway === '10.250.3.1'), 'default route via the gateway')
  }

  for (let i = 0; i < pods.length; i++) await runtime.check(list, conf(i))

  // Traffic both ways and to the gateway, from inside the namespaces.
  const agents = [await NamespaceAgent.start(nsPath(pods[0] as string), 'pod1'), await NamespaceAgent.start(nsPath(pods[1] as string), 'pod2'), await NamespaceAgent.start(nsPath(node), 'node')]
  t.teardown(async () => { for (const a of agents) await a.close() })
  const port = 17001
  for (const a of agents) await a.listen(port)
  const [a1, a2, an] = agents as [NamespaceAgent, NamespaceAgent, NamespaceAgent]
  const p12 = await a1.probe('10.250.3.3', port)
  t.same([p12.ok, p12.answeredBy, p12.localAddress], [true, 'pod2', '10.250.3.2'], `pod1 → pod2 ${p12.error ?? ''}`)
  const p21 = await a2.probe('10.250.3.2', port)
  t.same([p21.ok, p21.answeredBy], [true, 'pod1'], 'pod2 → pod1')
  const pgw = await a1.probe('10.250.3.1', port)
  t.same([pgw.ok, pgw.answeredBy], [true, 'node'], 'pod1 → its gateway')
  const back = await an.probe('10.250.3.3', port)
  t.same([back.ok, back.answeredBy], [true, 'pod2'], 'node → pod2')

  // DEL in reverse chain order; everything the ADDs made goes, except the bridge.
  for (let i = pods.length - 1; i >= 0; i--) await runtime.del(list, conf(i))
  t.same(reservations(dataDir, 'e2enet'), [], 'IP files released')
  t.same(links(node).filter(l => l.ifname !== 'lo' && l.ifname !== 'cni0').map(l => l.ifname), [], 'host veths gone')
  for (const pod of pods) t.same(links(pod).map(l => l.ifname), ['lo'], `${pod}: eth0 gone`)
  await runtime.del(list, conf(0))
  t.pass('a repeated DEL succeeds')
})

t.test('GC through the runtime (cniVersion 1.1.0): a stale attachment is removed, a valid one kept', { skip }, async t => {
  const node = makeNamespace(t, 'gcnode')
  const pods = [makeNamespace(t, 'gc1'), makeNamespace(t, 'gc2')]
  const dataDir = makeTempDir(t, 'gcdata')
  const nodeNs = NetNamespace.openNamed(node)
  t.teardown(() => { nodeNs.close() })
  const runtime = new CniRuntime({ pluginDirs: [PLUGIN_DIR], namespace: nodeNs })
  const list = realList(dataDir, '10.250.4.0/24', '1.1.0')
  await runtime.add(list, { containerId: 'gc-keep', netns: nsPath(pods[0] as string), ifName: 'eth0' })
  await runtime.add(list, { containerId: 'gc-stale', netns: nsPath(pods[1] as string), ifName: 'eth0' })
  // A third whose namespace is already gone, as after a crash.
  const gone = makeNamespace(t, 'gc3')
  await runtime.add(list, { containerId: 'gc-gone', netns: nsPath(gone), ifName: 'eth0' })
  spawnSync('ip', ['netns', 'del', gone])
  t.same(reservations(dataDir, 'e2enet'), ['10.250.4.2', '10.250.4.3', '10.250.4.4'])
  await runtime.gc(list, [{ containerID: 'gc-keep', ifname: 'eth0' }])
  t.same(reservations(dataDir, 'e2enet'), ['10.250.4.2'], 'only the valid attachment keeps its IP (also the one without a namespace)')
  t.same(runtime.cache.list('e2enet').map(e => e.containerId), ['gc-keep'], 'the cache holds only the valid attachment')
  t.same(links(pods[1] as string).map(l => l.ifname), ['lo'], 'the stale attachment\'s interface is gone')
  t.ok(links(pods[0] as string).some(l => l.ifname === 'eth0'), 'the valid one is untouched')
  await runtime.del(list, { containerId: 'gc-keep', netns: nsPath(pods[0] as string), ifName: 'eth0' })
  t.same(reservations(dataDir, 'e2enet'), [])
})

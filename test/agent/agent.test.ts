// The agent and the native client, end to end, as a runtime uses them:
// bin/<plugin> (the client) exec'd inside a throwaway "node" namespace with
// `ip netns exec` (so the caller is in another network AND mount namespace
// than the agent), the agent started by the test on its own socket. Every
// answer is compared with the exec path's (the same client without an
// agent, which runs the Node plugin), kernel state read back with iproute2.
// Root only: creates network namespaces.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import {
  BIN_DIR, hostVeths, ipFiles, links, makeTempDir, nsPath, runPlugin, runPluginAsync, setupEnv, skipReason,
  type Env, type RunResult
} from '../helpers/bridge.js'
import { startAgent, type TestAgent } from '../helpers/agent.js'
import { createNamespace } from '../helpers/netns.js'

const skip = skipReason() ?? (spawnSync('file', ['-b', join(BIN_DIR, 'bridge')], { encoding: 'utf8' }).stdout.startsWith('ELF') ? undefined : 'bin/bridge is not the native client (no C compiler at build time)')
const LOOPBACK = join(BIN_DIR, 'loopback')
const HOST_LOCAL = join(BIN_DIR, 'host-local')

/** A bridge result without what differs between two runs (MACs, veth names, namespace paths). */
function normalized (r: RunResult): unknown {
  const text = r.stdout
    .replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"MAC"')
    .replace(/veth[0-9a-f]{8}/g, 'VETH')
    .replace(/\/var\/run\/netns\/[^"]+/g, 'NETNS')
    .replace(/\/tmp\/tscni-t-[^"]+/g, 'TMP')
  return { code: r.code, stdout: text, stderr: r.stderr.replace(/\d{4}-\d\d-\d\dT[^ ]+/g, 'TIME') }
}

const via = (a: TestAgent): Record<string, string> => ({ TSCNI_AGENT_SOCKET: a.socket })

async function served (a: TestAgent, plugin: string, command: string): Promise<number> {
  return (await a.status()).served?.[plugin]?.[command] ?? 0
}

t.test('every bridge command through the agent answers as the exec path does', { skip }, async t => {
  const agent = await startAgent(t)
  const exec = setupEnv(t, 'ax')
  const warm = setupEnv(t, 'aa')
  const both = (command: string, conf: (e: Env) => unknown, opts: Record<string, unknown> = {}): [RunResult, RunResult] => [
    exec.run(command, conf(exec), opts),
    warm.run(command, conf(warm), { ...opts, extraEnv: { ...(opts.extraEnv as Record<string, string> | undefined), ...via(agent) } })
  ]
  const conf = (e: Env): unknown => e.config({ isGateway: true, ipMasq: true })
  const [xa, aa] = both('ADD', conf)
  t.equal(aa.code, 0, aa.stdout + aa.stderr)
  t.same(normalized(aa), normalized(xa), 'ADD: same result')
  t.same(ipFiles(warm.dataDir, 'tnet'), ipFiles(exec.dataDir, 'tnet'), 'same reservation files')
  t.equal(hostVeths(warm.node).length, 1, 'the host veth is in the caller\'s (node) namespace')
  t.equal(links(warm.node).find(l => l.ifname === 'tbr0')?.linkinfo?.info_kind, 'bridge', 'the bridge too')
  t.equal(await served(agent, 'bridge', 'ADD'), 1, 'the agent served it')

  const withPrev = (e: Env, r: RunResult): unknown => ({ ...(conf(e) as object), prevResult: r.json })
  const [xc, ac] = [exec.run('CHECK', withPrev(exec, xa)), warm.run('CHECK', withPrev(warm, aa), { extraEnv: via(agent) })]
  t.same(normalized(ac), normalized(xc), 'CHECK: same answer')
  t.equal(ac.code, 0, ac.stdout)
  for (const command of ['STATUS', 'VERSION']) {
    const [x, a] = both(command, conf)
    t.same(normalized(a), normalized(x), `${command}: same answer`)
  }
  const gcConf = (e: Env): unknown => ({ ...(conf(e) as object), cniVersion: '1.1.0', 'cni.dev/valid-attachments': [] })
  const [xd, ad] = both('DEL', conf)
  t.same(normalized(ad), normalized(xd), 'DEL: same answer')
  t.same(hostVeths(warm.node), [], 'DEL removed the veth')
  t.same(ipFiles(warm.dataDir, 'tnet').filter(f => /^\d/.test(f)), [], 'and the reservation')
  const [xg, ag] = both('GC', gcConf, { containerId: undefined, ifname: undefined, netns: undefined })
  t.same(normalized(ag), normalized(xg), 'GC: same answer')
  t.equal(await served(agent, 'bridge', 'DEL'), 1)
  t.equal(await served(agent, 'bridge', 'GC'), 1)

  // Errors: same JSON, same exit code.
  const bad: Array<[string, (e: Env) => unknown, Record<string, unknown>]> = [
    ['bad JSON', () => '{"cniVersion": "1.0.0", ', {}],
    ['unknown field type', e => ({ ...(conf(e) as object), mtu: 'big' }), {}],
    ['missing CNI_NETNS', conf, { netns: undefined }],
    ['netns is no namespace', conf, { netns: '/etc/hostname' }],
    ['missing namespace', conf, { netns: '/var/run/netns/tscni-none-such' }],
    ['unknown command', conf, { command: 'FROB' }],
    ['IPAM plugin not on CNI_PATH', conf, { path: '/nonexistent' }]
  ]
  for (const [what, c, opts] of bad) {
    const command = (opts.command as string | undefined) ?? 'ADD'
    const [x, a] = both(command, c, opts)
    t.not(a.code, 0, `${what}: fails`)
    t.same(normalized(a), normalized(x), `${what}: same error`)
  }
  t.same(hostVeths(warm.node), [], 'failed ADDs leave no veth')
})

t.test('loopback and host-local through the agent answer as the exec path does', { skip }, async t => {
  const agent = await startAgent(t)
  const exec = setupEnv(t, 'lx')
  const warm = setupEnv(t, 'la')
  const lo = { cniVersion: '1.0.0', name: 'lo', type: 'loopback' }
  for (const command of ['ADD', 'CHECK', 'DEL', 'STATUS', 'VERSION', 'GC']) {
    const x = exec.run(command, lo, { plugin: LOOPBACK })
    const a = warm.run(command, lo, { plugin: LOOPBACK, extraEnv: via(agent) })
    t.same(normalized(a), normalized(x), `loopback ${command}`)
  }
  t.equal(await served(agent, 'loopback', 'ADD'), 1)
  // No CNI_COMMAND: the about text on stderr.
  const about = [exec, warm].map(e => spawnSync('ip', ['netns', 'exec', e.node, LOOPBACK], { env: { TSCNI_AGENT_SOCKET: e === warm ? agent.socket : '/nonexistent' }, input: '', encoding: 'utf8' }))
  t.equal(about[1]!.stderr, about[0]!.stderr, 'about text')
  t.equal(about[1]!.status, about[0]!.status)

  const hl = (e: Env): unknown => ({ cniVersion: '1.1.0', name: 'hlnet', type: 'host-local', ipam: { type: 'host-local', subnet: '10.78.0.0/24', dataDir: e.dataDir }, 'cni.dev/valid-attachments': [] })
  for (const command of ['ADD', 'CHECK', 'STATUS', 'DEL', 'GC']) {
    const x = exec.run(command, hl(exec), { plugin: HOST_LOCAL })
    const a = warm.run(command, hl(warm), { plugin: HOST_LOCAL, extraEnv: via(agent) })
    t.same(normalized(a), normalized(x), `host-local ${command}`)
    if (command === 'ADD') t.same(ipFiles(warm.dataDir, 'hlnet'), ipFiles(exec.dataDir, 'hlnet'), 'same store files')
  }
  t.equal(await served(agent, 'host-local', 'ADD'), 1)
})

t.test('a caller in a private mount namespace: its own files, its own namespace paths', { skip }, async t => {
  const agent = await startAgent(t)
  const env = setupEnv(t, 'mnt')
  const priv = makeTempDir(t, 'mnt')
  const conf = JSON.stringify(env.config({}, { subnet: '10.79.0.0/24' })).replace(env.dataDir, join(priv, 'data'))
  // The caller mounts a tmpfs over priv: only it (and the agent, through /proc/<pid>/root) sees the dataDir.
  const script = `
    mount -t tmpfs none ${priv}
    run() { CNI_COMMAND=$1 CNI_CONTAINERID=c1 CNI_NETNS=${env.podPath} CNI_IFNAME=eth0 CNI_PATH=${BIN_DIR} TSCNI_AGENT_SOCKET=${agent.socket} ${join(BIN_DIR, 'bridge')} <<'EOF'
${conf}
EOF
    }
    run ADD > ${priv}/add.out; echo "add=$?"
    ls ${priv}/data/tnet | tr '\\n' ' '; echo
    run DEL; echo "del=$?"
    ls ${priv}/data/tnet | tr '\\n' ' '; echo`
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'ip', 'netns', 'exec', env.node, 'sh', '-c', script], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  t.equal(lines[0], 'add=0', r.stdout + r.stderr)
  t.match(lines[1], /10\.79\.0\.2 .*lock/, 'the reservation is in the caller\'s private dataDir')
  t.equal(lines[2], 'del=0')
  t.notMatch(lines[3], /10\.79/, 'DEL released it there')
  t.same(readdirSync(priv), [], 'nothing was written to the agent\'s view of that directory')
  t.equal(await served(agent, 'bridge', 'ADD'), 1, 'served by the agent')
  t.same(hostVeths(env.node), [], 'no veth left')
})

t.test('without an agent, or with one that cannot serve, the client runs the Node plugin', { skip }, async t => {
  const env = setupEnv(t, 'fb')
  const conf = env.config()
  const ok = (r: RunResult, what: string): void => { t.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`); t.match(r.json, { ips: [{ address: /^10\.77\.0\.\d+\/24$/ }] }, what) }
  const del = (): void => { t.equal(env.run('DEL', conf).code, 0) }
  ok(env.run('ADD', conf, { extraEnv: { TSCNI_AGENT_SOCKET: '/nonexistent/agent.sock' } }), 'no socket')
  del()
  // A socket file nobody listens on (an agent that died): connect is refused.
  const dir = makeTempDir(t, 'stale')
  const stale = join(dir, 'agent.sock')
  await new Promise<void>(resolve => { const s = createServer(); s.listen(stale, () => { s.close(() => { resolve() }) }) })
  writeFileSync(join(dir, 'x'), '')
  ok(env.run('ADD', conf, { extraEnv: { TSCNI_AGENT_SOCKET: stale } }), 'refused connection')
  del()
  // Fake agents: another protocol version, and one that answers "fallback".
  for (const [what, reply] of [['another protocol version', 'tscni/2\0Rxxxx'], ['fallback answer', 'tscni/1\0Fbecause']] as const) {
    const sock = join(dir, `${what.replace(/\W/g, '')}.sock`)
    let requests = 0
    const server = createServer({ allowHalfOpen: true }, c => { c.on('data', () => {}); c.on('end', () => { requests++; c.end(reply) }) })
    await new Promise<void>(resolve => server.listen(sock, resolve))
    const r = await runPluginAsync({ node: env.node, command: 'ADD', containerId: 'ctr1', netns: env.podPath, ifname: 'eth0', config: conf, extraEnv: { TSCNI_AGENT_SOCKET: sock } })
    await new Promise(resolve => server.close(resolve))
    t.equal(requests, 1, `${what}: the client asked`)
    ok(r, what)
    del()
  }
  // An IPAM plugin that is not ours: the agent answers "fallback".
  const agent = await startAgent(t)
  const ipamDir = makeTempDir(t, 'ipam')
  const fake = join(ipamDir, 'static-ipam')
  writeFileSync(fake, '#!/bin/sh\ncat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && echo \'{"cniVersion":"1.0.0","ips":[{"address":"10.77.0.9/24"}]}\'\nexit 0\n')
  chmodSync(fake, 0o755)
  const foreign = { ...(conf as object), ipam: { type: 'static-ipam' } }
  const r = env.run('ADD', foreign, { path: ipamDir, extraEnv: via(agent) })
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.json, { ips: [{ address: '10.77.0.9/24' }] }, 'the foreign IPAM plugin ran (exec path)')
  t.equal((await agent.status()).fallbacks, 1, 'the agent answered fallback')
  t.equal(env.run('DEL', foreign, { path: ipamDir, extraEnv: via(agent) }).code, 0)
})

t.test('only root is served: another uid is refused and logged', { skip }, async t => {
  const agent = await startAgent(t)
  // Let the other user reach the socket at all (the agent's own are root-only).
  chmodSync(agent.dir, 0o711)
  chmodSync(join(agent.socket, '..'), 0o755)
  chmodSync(agent.socket, 0o666)
  const r = spawnSync(LOOPBACK, [], { uid: 65534, gid: 65534, env: { CNI_COMMAND: 'VERSION', TSCNI_AGENT_SOCKET: agent.socket }, input: '{}', encoding: 'utf8' })
  const s = await agent.status()
  t.equal(s.refused, 1, 'refused once')
  t.match(agent.log(), /refused a request of uid 65534/, 'logged with the uid')
  t.same(s.served, {}, 'nothing served')
  // It fell back to the Node plugin, with that user's own rights.
  t.equal(r.status, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] })
})

t.test('the agent killed in the middle of an ADD: error 11, and the next DEL leaves nothing', { skip }, async t => {
  const agent = await startAgent(t)
  const env = setupEnv(t, 'kill')
  const conf = env.config()
  // Hold host-local's lock: the ADD waits inside the IPAM step, after the veth exists.
  mkdirSync(join(env.dataDir, 'tnet'), { recursive: true })
  const holder = spawn('flock', [join(env.dataDir, 'tnet', 'lock'), 'sleep', '30'], { stdio: 'ignore' })
  t.teardown(() => { holder.kill() })
  await new Promise(resolve => setTimeout(resolve, 200))
  const add = runPluginAsync({ node: env.node, command: 'ADD', containerId: 'ctr1', netns: env.podPath, ifname: 'eth0', config: conf, extraEnv: via(agent) })
  for (let i = 0; i < 200 && hostVeths(env.node).length === 0; i++) await new Promise(resolve => setTimeout(resolve, 25))
  t.equal(hostVeths(env.node).length, 1, 'the ADD got as far as the veth')
  await agent.kill()
  const r = await add
  t.equal(r.code, 1)
  t.match(r.json, { cniVersion: '1.0.0', code: 11, msg: /agent ended the connection/ }, r.stdout)
  holder.kill()
  const del = env.run('DEL', conf)
  t.equal(del.code, 0, del.stdout + del.stderr)
  t.same(hostVeths(env.node), [], 'no veth left')
  t.same(ipFiles(env.dataDir, 'tnet').filter(f => /^\d/.test(f)), [], 'no reservation left')
})

t.test('50 concurrent ADDs, then 50 DELs, through the agent', { skip }, async t => {
  const agent = await startAgent(t)
  const env = setupEnv(t, 'c50')
  const conf = env.config({}, { subnet: '10.80.0.0/24' })
  const pods = Array.from({ length: 50 }, (_, i) => i)
  const ns = pods.map(i => { const n = `${env.pod}-${i}`; createNamespace(n).close(); t.teardown(() => { spawnSync('ip', ['netns', 'del', n]) }); return n })
  const adds = await Promise.all(pods.map(async i => await runPluginAsync({ node: env.node, command: 'ADD', containerId: `c${i}`, netns: nsPath(ns[i]!), ifname: 'eth0', config: conf, extraEnv: via(agent) })))
  t.same(adds.filter(r => r.code !== 0).map(r => r.stdout), [], 'every ADD succeeded')
  const ips = new Set(adds.map(r => r.json?.ips?.[0]?.address))
  t.equal(ips.size, 50, '50 distinct addresses')
  t.equal(hostVeths(env.node).length, 50, '50 host veths')
  t.equal(await served(agent, 'bridge', 'ADD'), 50)
  const dels = await Promise.all(pods.map(async i => await runPluginAsync({ node: env.node, command: 'DEL', containerId: `c${i}`, netns: nsPath(ns[i]!), ifname: 'eth0', config: conf, extraEnv: via(agent) })))
  t.same(dels.filter(r => r.code !== 0).map(r => r.stdout), [], 'every DEL succeeded')
  t.same(hostVeths(env.node), [], 'no veth left')
  t.same(ipFiles(env.dataDir, 'tnet').filter(f => /^\d/.test(f)), [], 'no reservation left')
})

t.test('the client: argv[0] picks the plugin, the environment and stdin reach the agent, exit codes come back', { skip }, async t => {
  const agent = await startAgent(t)
  const env = setupEnv(t, 'cl')
  const dir = makeTempDir(t, 'client')
  // One binary, three names: a copy named loopback and a symlink named host-local.
  copyFileSync(join(BIN_DIR, 'bridge'), join(dir, 'loopback'))
  chmodSync(join(dir, 'loopback'), 0o755)
  // A copy finds its Node path beside itself, as install-cni lays it out.
  mkdirSync(join(dir, '.tscni'))
  copyFileSync(join(BIN_DIR, '.tscni', 'fallback'), join(dir, '.tscni', 'fallback'))
  symlinkSync(join(BIN_DIR, 'bridge'), join(dir, 'host-local'))
  const lo = env.run('ADD', { cniVersion: '1.0.0', name: 'lo', type: 'loopback' }, { plugin: join(dir, 'loopback'), extraEnv: via(agent) })
  t.match(lo.json, { interfaces: [{ name: 'lo' }] }, 'a copy named loopback is loopback')
  const hl = env.run('ADD', { cniVersion: '1.0.0', name: 'hl', ipam: { type: 'host-local', subnet: '10.81.0.0/24', dataDir: env.dataDir } }, { plugin: join(dir, 'host-local'), extraEnv: via(agent) })
  t.match(hl.json, { ips: [{ address: '10.81.0.2/24' }] }, 'a symlink named host-local is host-local')
  t.equal(await served(agent, 'loopback', 'ADD'), 1)
  t.equal(await served(agent, 'host-local', 'ADD'), 1)
  // TSCNI_* reaches the plugin: fault injection makes the ADD fail after the veth step, and roll back.
  const failed = env.run('ADD', env.config(), { extraEnv: { ...via(agent), TSCNI_FAIL_AFTER_STEP: 'veth' } })
  t.equal(failed.code, 1, 'exit code 1 for an error')
  t.match(failed.json, { code: 999, msg: /failing after step veth/ })
  t.same(hostVeths(env.node), [], 'rolled back')
  // CNI_ARGS reaches it: an unknown key without IgnoreUnknown is an error naming it.
  const args = env.run('ADD', env.config(), { cniArgs: 'FOO=bar', extraEnv: via(agent) })
  t.match(args.json, { msg: /FOO/ }, 'CNI_ARGS passed')
  // A large stdin (900 KiB of padding) is served; one over 1 MiB goes down the exec path.
  for (const [size, servedBefore] of [[900 << 10, true], [1200 << 10, false]] as const) {
    const before = await served(agent, 'loopback', 'CHECK')
    const r = env.run('CHECK', { cniVersion: '1.0.0', name: 'lo', type: 'loopback', pad: 'x'.repeat(size) }, { plugin: join(dir, 'loopback'), extraEnv: via(agent) })
    t.equal(r.code, 0, `${size} bytes of stdin: ${r.stdout}`)
    t.equal(await served(agent, 'loopback', 'CHECK') - before, servedBefore ? 1 : 0, servedBefore ? 'served by the agent' : 'run by the exec path')
  }
})

t.test('a silent client, garbage and a vanished client block nobody', { skip }, async t => {
  const agent = await startAgent(t, ['--max-in-flight', '2'])
  const env = setupEnv(t, 'rob')
  const { connect } = await import('node:net')
  // A client that connects and says nothing, and one that sends garbage, and one that disappears mid-request.
  const silent = connect(agent.socket)
  silent.on('error', () => {})
  const garbage = connect(agent.socket)
  garbage.on('error', () => {})
  garbage.end('GET / HTTP/1.0\r\n\r\n')
  const vanished = connect(agent.socket)
  vanished.on('error', () => {})
  vanished.write('tscni/1\0loopback\0CNI_COMMAND=ADD\0', () => { vanished.destroy() })
  const lo = env.run('ADD', { cniVersion: '1.0.0', name: 'lo', type: 'loopback' }, { plugin: LOOPBACK, extraEnv: via(agent) })
  t.equal(lo.code, 0, 'served meanwhile')
  t.equal(await served(agent, 'loopback', 'ADD'), 1)
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal((await agent.status()).malformed, 2, 'the garbage and the cut-short request were counted as malformed')
  t.match(agent.log(), /protocol "GET \/ HTTP\/1.0/, 'and logged')
  silent.destroy()
  t.equal(agent.child.exitCode, null, 'the agent is still running')
})

t.test('SIGTERM: the agent finishes what is in flight and removes its socket', { skip }, async t => {
  const agent = await startAgent(t)
  const env = setupEnv(t, 'term')
  mkdirSync(join(env.dataDir, 'tnet'), { recursive: true })
  const holder = spawn('flock', [join(env.dataDir, 'tnet', 'lock'), 'sleep', '1'], { stdio: 'ignore' })
  await new Promise(resolve => setTimeout(resolve, 200))
  const add = runPluginAsync({ node: env.node, command: 'ADD', containerId: 'ctr1', netns: env.podPath, ifname: 'eth0', config: env.config(), extraEnv: via(agent) })
  for (let i = 0; i < 200 && hostVeths(env.node).length === 0; i++) await new Promise(resolve => setTimeout(resolve, 25))
  const code = await agent.stop()
  const r = await add
  holder.kill()
  t.equal(code, 0, 'exit 0')
  t.equal(r.code, 0, `the ADD in flight finished: ${r.stdout}`)
  t.notOk(existsSync(agent.socket), 'socket removed')
  t.equal(runPlugin({ node: env.node, command: 'DEL', containerId: 'ctr1', netns: env.podPath, ifname: 'eth0', config: env.config() }).code, 0)
})

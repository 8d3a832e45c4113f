// A real engine: Debian's podman (4.3, CNI network backend) runs two
// containers on a hand-written conflist whose plugins are OURS, installed by
// install-cni. Everything is private: containers.conf and storage.conf by
// environment, storage under a temporary directory, and podman itself runs in
// a throwaway "node" network namespace (the bridge and the host-side veths
// land there, never in the root namespace).
//
// podman is started with `nsenter --net=…` rather than `ip netns exec`: the
// latter also gives each command a private mount namespace, so the bind mount
// podman makes for a container's netns (/run/netns/netns-…) during `run` would
// be invisible to the later `rm`, whose CNI DEL would then get a path that is
// no namespace.
//
// Needs: podman, runc, busybox-static (apt), root. Facts this relies on:
// crun refuses this machine's hybrid cgroup layout (so runtime = "runc"),
// podman's default ulimits exceed the machine's hard limits (so lower ones),
// no systemd (cgroupfs, file event log), no registry (a local image imported
// from a tarball of /bin/busybox and its applet links).
import t from 'tap'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { installCni, listPlugins } from '../../src/demo/install-cni.js'
import { ROOT, addresses, isRoot, links, makeNamespace, makeTempDir, nsPath, reservations } from '../helpers/runtime.js'
import { startAgent } from '../helpers/agent.js'

function which (cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

function skipReason (): string | undefined {
  if (!isRoot) return 'needs root: podman (rootful), network namespaces'
  const missing = ['podman', 'runc', 'nsenter', 'tar'].filter(c => !which(c))
  if (!existsSync('/bin/busybox')) missing.push('busybox (busybox-static)')
  if (missing.length > 0) return `missing ${missing.join(', ')}: apt-get install podman runc busybox-static`
  const built = listPlugins(ROOT)
  if (!['loopback', 'bridge', 'host-local'].every(p => built.includes(p))) return 'plugin bundles missing in build/: run npm run build first'
  return undefined
}

const NETWORK = 'tscni-e2e'
const SUBNET_PREFIX = '10.251.7'
const IMAGE = 'localhost/tscni-busybox:e2e'
const PORT = 7777

// Twice: the installed native clients without an agent (the exec path), then
// with a tscni agent running (podman passes its environment, and with it
// TSCNI_AGENT_SOCKET, to the plugins it execs).
for (const mode of ['exec path', 'agent'] as const) {
t.test(`podman with our plugins (${mode}): two containers get addresses, reach each other, and leave nothing behind`, { skip: skipReason() }, async t => {
  const agent = mode === 'agent' ? await startAgent(t) : undefined
  const tmp = makeTempDir(t, 'podman')
  const node = makeNamespace(t, 'pmnode')
  const cniBin = installCni({ dir: join(tmp, 'cni-bin') }).dir
  const dataDir = join(tmp, 'ipam')
  const netDir = join(tmp, 'net.d')
  const storageRoot = join(tmp, 'storage')
  const runRoot = join(tmp, 'run')
  for (const d of [netDir, join(tmp, 'tmp'), storageRoot, runRoot]) mkdirSync(d, { recursive: true })

  writeFileSync(join(tmp, 'containers.conf'), `
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${join(tmp, 'events.log')}"
tmp_dir = "${join(tmp, 'tmp')}"

[network]
network_backend = "cni"
cni_plugin_dirs = ["${cniBin}"]
network_config_dir = "${netDir}"
default_network = "${NETWORK}"
`)
  writeFileSync(join(tmp, 'storage.conf'), `
[storage]
driver = "vfs"
graphroot = "${storageRoot}"
runroot = "${runRoot}"
`)
  // By hand: `podman network create` would add portmap, firewall and tuning.
  writeFileSync(join(netDir, `${NETWORK}.conflist`), JSON.stringify({
    cniVersion: '1.0.0',
    name: NETWORK,
    plugins: [
      { type: 'loopback' },
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: `${SUBNET_PREFIX}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir }
      }
    ]
  }, null, 2))

  const env = {
    ...process.env,
    CONTAINERS_CONF: join(tmp, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(tmp, 'storage.conf'),
    TSCNI_AGENT_SOCKET: agent?.socket ?? join(tmp, 'no-agent.sock'),
    TSCNI_STATE_DIR: join(tmp, 'state')
  }
  const podman = (...args: string[]): SpawnSyncReturns<string> =>
    spawnSync('nsenter', [`--net=${nsPath(node)}`, 'podman', '--root', storageRoot, '--runroot', runRoot, ...args], { env, encoding: 'utf8', timeout: 120_000 })
  const must = (...args: string[]): string => {
    const r = podman(...args)
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${String(r.status)}): ${r.stderr}${r.stdout}`)
    return r.stdout.trim()
  }
  // Runs before the namespace and the directory go (teardowns run last-in first-out).
  t.teardown(() => {
    podman('rm', '--all', '--force', '--time', '0')
    podman('rmi', '--all', '--force')
    // Anything podman left mounted under our directory (container shm) must go before rm -rf.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map(l => l.split(' ')[1] ?? '').filter(m => m.startsWith(tmp))
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' })
  })

  // A local image: busybox and its applet links, imported from a tarball.
  const rootfs = join(tmp, 'rootfs')
  mkdirSync(join(rootfs, 'bin'), { recursive: true })
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'))
  for (const applet of ['sh', 'nc', 'ip', 'hostname', 'sleep', 'cat', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', applet))
  const tar = spawnSync('tar', ['-C', rootfs, '-cf', join(tmp, 'rootfs.tar'), '.'])
  t.equal(tar.status, 0, 'rootfs tarball made')
  must('import', join(tmp, 'rootfs.tar'), IMAGE)

  const netnsBefore = new Set(readdirSync('/run/netns'))
  const ids: Record<string, string> = {}
  for (const name of ['c1', 'c2']) {
    // PID 1 answers each connection with its name; `rm -t 0` kills it outright.
    ids[name] = must('run', '-d', '--name', name, '--hostname', name, '--network', NETWORK, '--pull', 'never', IMAGE,
      '/bin/sh', '-c', `trap 'exit 0' TERM; while :; do nc -l -p ${PORT} -e echo hello-from-${name}; done`)
  }
  const ip: Record<string, string> = {}
  for (const name of ['c1', 'c2']) {
    ip[name] = must('inspect', name, '--format', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`)
    t.match(ip[name], new RegExp(`^${SUBNET_PREFIX.replaceAll('.', '\\.')}\\.\\d+$`), `${name} got an address from our host-local: ${ip[name]}`)
  }
  t.not(ip.c1, ip.c2, 'different addresses')

  // Kernel and IPAM state in the node namespace.
  t.same(reservations(dataDir, NETWORK), [ip.c1, ip.c2].sort(), 'one reservation per container')
  for (const name of ['c1', 'c2']) {
    t.equal(readFileSync(join(dataDir, NETWORK, ip[name] as string), 'utf8'), `${ids[name]}\r\neth0`, `${name}'s reservation names its container id`)
  }
  t.ok(addresses(node, 'cni0')[0]?.addr_info.some(a => a.local === `${SUBNET_PREFIX}.1`), 'gateway on cni0 in the node namespace')
  t.equal(links(node).filter(l => l.master === 'cni0').length, 2, 'two host veths on the bridge')

  // Traffic between the containers, both ways, with busybox nc.
  for (const [from, to] of [['c2', 'c1'], ['c1', 'c2']] as const) {
    const r = podman('exec', from, 'nc', '-w', '3', ip[to] as string, String(PORT))
    t.equal(r.stdout.trim(), `hello-from-${to}`, `${from} → ${to} (${ip[to] ?? ''}) ${r.stderr}`)
  }
  const inside = must('exec', 'c1', 'ip', '-4', 'route', 'show')
  t.match(inside, new RegExp(`default via ${SUBNET_PREFIX.replaceAll('.', '\\.')}\\.1 dev eth0`), 'default route via the gateway inside c1')

  must('rm', '--force', '--time', '0', 'c1', 'c2')
  t.same(reservations(dataDir, NETWORK), [], 'IP files released on removal')
  t.same(links(node).map(l => l.ifname).sort(), ['cni0', 'lo'], 'no veth left in the node namespace')
  // podman names its namespaces netns-<uuid> (other tests may be making theirs meanwhile).
  const leftover = readdirSync('/run/netns').filter(n => !netnsBefore.has(n) && n.startsWith('netns-'))
  t.same(leftover, [], 'podman removed the container namespaces')
  const cache = existsSync('/var/lib/cni/results') ? readdirSync('/var/lib/cni/results').filter(f => Object.values(ids).some(id => f.includes(id))) : []
  t.same(cache, [], 'no libcni cache entries left for our containers')
  if (agent !== undefined) {
    const served = (await agent.status()).served
    // The DELs may take the exec path: podman's cleanup process (conmon's exit command) runs without our environment.
    t.match(served, { bridge: { ADD: 2 }, loopback: { ADD: 2 } }, `the agent served the ADDs: ${JSON.stringify(served)}`)
  }
})
}

// `npm run demo`: a two-node "cluster" in network namespaces, wired with our
// CNI plugins exactly as a container runtime would, proven with real traffic.
//
//   node1 (10.244.1.0/24)                       node2 (10.244.2.0/24)
//   pod1 ─┐                                      ┌─ pod3
//         cni0 10.244.1.1 ── wire0 ═══ wire0 ── cni0 10.244.2.1
//   pod2 ─┘            10.99.0.1/30   10.99.0.2/30 └─ pod4
//
// Each node is a network namespace with its own pod CIDR. The two are linked
// by a veth pair (the "wire"), and each routes the other's pod CIDR over it
// (our netlink library). Pods are namespaces too; they get their network from
// a conflist (loopback, then bridge with isGateway and host-local IPAM) run
// by our runtime harness with the plugin processes inside the node namespace.
// Then every pod opens a TCP connection to every other pod and to its gateway,
// from inside its own namespace, and all of it is torn down again: DEL in
// reverse order, namespaces deleted, also on Ctrl-C or SIGTERM.
//
// The plugins are the native client (when `npm run build` had a C
// compiler): the demo starts a tscni agent on a private socket for its run,
// and every ADD and DEL goes through it except pod4's, which takes the exec
// path (the same client without an agent runs the Node plugin), so both
// times are on screen. The agent is stopped in the teardown.
//
// Nothing here touches the root network namespace: every link, address and
// route lives in a namespace the demo made, every netlink socket is opened
// inside one, and traffic flows only between them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, accessSync, constants as fsc } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NetlinkHandle } from '../netlink/handle.js'
import { NetNamespace } from '../netlink/netns.js'
import type { Link } from '../netlink/route/links.js'
import type { Route } from '../netlink/route/routes.js'
import { RT_TABLE_MAIN } from '../netlink/route/route.js'
import { AF_INET } from '../netlink/route/rtnetlink.js'
import { CniRuntime, startAgent, type CniResult, type NetworkConfigList, type RuntimeConf } from './runtime.js'
import { NamespaceAgent, type ProbeResult } from './probe.js'
import { bold, dim, duration, green, red, table } from './report.js'
import { callAgent } from '../agent/client.js'
import { STATUS_PLUGIN } from '../agent/protocol.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const PLUGINS = ['loopback', 'bridge', 'host-local']
const NETWORK = 'demo-net'
const PROBE_PORT = 7070
/** The line the e2e test (and a person) looks for. */
export const SUCCESS_LINE = 'demo passed: every pod reached every other pod and its gateway'

interface DemoNode {
  name: string
  nsName: string
  ns: NetNamespace
  handle: NetlinkHandle
  podCidr: string
  gateway: string
  wireAddress: string
  runtime: CniRuntime
  /** The same runtime without the agent: the exec path. */
  execRuntime: CniRuntime
  list: NetworkConfigList
  pods: DemoPod[]
  agent?: NamespaceAgent
}

interface DemoPod {
  name: string
  node: DemoNode
  nsName: string
  containerId: string
  address?: string | undefined
  agent?: NamespaceAgent
  /** The runtime that wired it (its CHECK needs the cached result). */
  runtime?: CniRuntime
}

interface Options { pluginDir: string, help: boolean }

class Interrupted extends Error {
  constructor (readonly signal: string) { super(`interrupted by ${signal}`) }
}

function parseArgs (argv: string[]): Options {
  const options: Options = { pluginDir: join(ROOT, 'bin'), help: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '-h' || a === '--help') options.help = true
    else if (a === '--plugin-dir' && argv[i + 1] !== undefined) options.pluginDir = resolve(argv[++i] as string)
    else if (a.startsWith('--plugin-dir=')) options.pluginDir = resolve(a.slice('--plugin-dir='.length))
    else throw new Error(`unknown argument ${JSON.stringify(a)} (try --help)`)
  }
  return options
}

const say = (line = ''): void => { process.stdout.write(line + '\n') }
const step = (n: number, total: number, text: string): void => { say(`\n${bold(`[${n}/${total}]`)} ${text}`) }

/** Undo actions, run last-in first-out; each failure is reported and the rest still run. */
class Cleanup {
  private readonly actions: Array<{ what: string, run: () => unknown }> = []
  push (what: string, run: () => unknown): void { this.actions.push({ what, run }) }
  async runAll (): Promise<string[]> {
    const failures: string[] = []
    while (this.actions.length > 0) {
      const { what, run } = this.actions.pop() as { what: string, run: () => unknown }
      try {
        await run()
      } catch (err) {
        failures.push(`${what}: ${(err as Error).message}`)
      }
    }
    return failures
  }
}

/** What the demo needs from the machine; says what is missing and how to get it. */
function preflight (options: Options): string[] {
  const problems: string[] = []
  if (process.getuid?.() !== 0) problems.push('needs root (it creates network namespaces): run it as root, e.g. `sudo npm run demo`')
  const major = Number.parseInt(process.versions.node, 10)
  if (major < 20) problems.push(`needs Node 20 or newer (this is ${process.versions.node})`)
  if (!existsSync('/proc/self/ns/net')) problems.push('needs a Linux kernel with network namespaces')
  for (const p of PLUGINS) {
    const file = join(options.pluginDir, p)
    try {
      accessSync(file, fsc.X_OK)
      if (!statSync(file).isFile()) throw new Error('not a file')
    } catch {
      problems.push(`plugin ${file} is missing: build the plugins first with \`npm ci && npm run build\``)
    }
  }
  return problems
}

/** Whether bin/<plugin> is the native client (built with a C compiler) rather than a Node launcher. */
function isNativeClient (file: string): boolean {
  try {
    return readFileSync(file).subarray(0, 4).toString('latin1') === '\x7fELF'
  } catch {
    return false
  }
}

function conflist (node: DemoNode, dataDir: string): NetworkConfigList {
  return {
    cniVersion: '1.0.0',
    name: NETWORK,
    plugins: [
      { type: 'loopback' },
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: node.podCidr, gateway: node.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir
        }
      }
    ]
  }
}

/** Reads a namespace's state with our library: links, IPv4 addresses, main-table IPv4 routes. */
async function readState (ns: NetNamespace): Promise<{ links: Link[], addresses: Array<{ index: number, cidr: string }>, routes: Route[] }> {
  const h = NetlinkHandle.open(ns)
  try {
    // One dump at a time: the kernel refuses a second dump on a socket with EBUSY.
    const links = await h.links.list()
    const addresses = await h.addresses.list({ family: AF_INET })
    const routes = await h.routes.list({ family: AF_INET, table: RT_TABLE_MAIN })
    return { links, addresses, routes }
  } finally {
    h.close()
  }
}

/** A conflist with one plugin per line. */
function compactJSON (list: NetworkConfigList): string {
  const { plugins, ...top } = list
  const head = JSON.stringify(top).slice(0, -1)
  return `${head},"plugins":[\n${plugins.map(p => `  ${JSON.stringify(p)}`).join(',\n')}\n]}`
}

function routeText (r: Route, links: Link[]): string {
  const dst = r.dst === '0.0.0.0/0' ? 'default' : r.dst
  const dev = links.find(l => l.index === r.oif)?.name
  return `${dst}${r.gateway !== undefined ? ` via ${r.gateway}` : ''}${dev !== undefined ? ` dev ${dev}` : ''}`
}

async function run (options: Options, signals: { interrupted: string | undefined }): Promise<boolean> {
  const checkpoint = (): void => { if (signals.interrupted !== undefined) throw new Interrupted(signals.interrupted) }
  const TOTAL = 7
  const base = `tscni-demo-${process.pid}`
  const cleanup = new Cleanup()
  const nodes: DemoNode[] = []
  let probesOk = false
  let dataDir = ''
  let namespacesMade: string[] = []

  say(bold('tscni demo: two nodes, four pods, wired by our CNI plugins (loopback, bridge, host-local)'))
  step(1, TOTAL, 'checking the machine')
  const problems = preflight(options)
  if (problems.length > 0) {
    for (const p of problems) say(`  ${red('✗')} ${p}`)
    return false
  }
  say(`  ${green('✓')} root, Node ${process.versions.node}, network namespaces`)
  say(`  ${green('✓')} plugins in ${options.pluginDir}: ${PLUGINS.join(', ')}`)
  const native = PLUGINS.every(p => isNativeClient(join(options.pluginDir, p)))
  say(`  ${native ? green('✓') : dim('-')} ${native ? 'the plugins are the native client: ADD and DEL go to the tscni agent' : 'the plugins are Node launchers (no C compiler at build time): every call starts Node'}`)
  say(`  ${green('✓')} the demo speaks netlink itself and runs no program but our plugins and our agent`)

  try {
    const work = mkdtempSync(join(tmpdir(), `${base}-`))
    cleanup.push(`remove ${work}`, () => { rmSync(work, { recursive: true, force: true }) })
    dataDir = join(work, 'ipam')
    // The agent (stopped after every DEL: the cleanup runs last-in first-out).
    const agentSocket = join(work, 'agent.sock')
    // The pods' attachment records live with the rest of the demo's state, not in the host's /run/tscni.
    const stateEnv = { ...process.env, TSCNI_STATE_DIR: join(work, 'state') }
    let agentEnv: NodeJS.ProcessEnv = { ...stateEnv, TSCNI_AGENT_SOCKET: join(work, 'no-agent.sock') }
    const execEnv: NodeJS.ProcessEnv = { ...stateEnv, TSCNI_AGENT_SOCKET: join(work, 'no-agent.sock') }
    if (native) {
      const agent = await startAgent(join(ROOT, 'bin', 'tscni'), agentSocket, join(work, 'agent.log'))
      agentEnv = { ...stateEnv, TSCNI_AGENT_SOCKET: agentSocket }
      cleanup.push('stop the tscni agent', async () => {
        const status = await callAgent(agentSocket, STATUS_PLUGIN, {}).catch(() => undefined)
        if (status?.kind === 'result') {
          const s = JSON.parse(status.stdout.toString('utf8')) as { served: Record<string, Record<string, number>>, rssBytes: number }
          const served = Object.entries(s.served).map(([p, byCmd]) => `${p} ${Object.entries(byCmd).map(([c, n]) => `${c}×${n}`).join(' ')}`).join(', ')
          say(`  ${green('✓')} the agent served: ${served} (RSS ${(s.rssBytes / 2 ** 20).toFixed(0)} MiB)`)
        }
        await agent.stop()
        say(`  ${green('✓')} stopped the tscni agent (pid ${agent.pid})`)
      })
      say(`  ${green('✓')} started the tscni agent (pid ${agent.pid}) on ${agentSocket}`)
    }

    // ---- nodes and the wire ----
    step(2, TOTAL, 'creating two node namespaces and the wire between them')
    const specs = [
      { name: 'node1', podCidr: '10.244.1.0/24', gateway: '10.244.1.1', wireAddress: '10.99.0.1/30' },
      { name: 'node2', podCidr: '10.244.2.0/24', gateway: '10.244.2.1', wireAddress: '10.99.0.2/30' }
    ]
    for (const spec of specs) {
      checkpoint()
      const nsName = `${base}-${spec.name}`
      const ns = NetNamespace.create(nsName)
      namespacesMade.push(nsName)
      cleanup.push(`delete namespace ${nsName}`, () => { ns.close(); NetNamespace.delete(nsName) })
      const handle = NetlinkHandle.open(ns)
      cleanup.push(`close the netlink socket of ${nsName}`, () => { handle.close() })
      // Plugins run inside the node namespace: there they create cni0 and the host-side veths.
      const runtime = new CniRuntime({ pluginDirs: [options.pluginDir], namespace: ns, env: agentEnv })
      const execRuntime = new CniRuntime({ pluginDirs: [options.pluginDir], namespace: ns, env: execEnv })
      const node: DemoNode = { ...spec, nsName, ns, handle, runtime, execRuntime, list: undefined as unknown as NetworkConfigList, pods: [] }
      node.list = conflist(node, dataDir)
      nodes.push(node)
      say(`  ${green('✓')} ${spec.name}: namespace ${nsName}, pod CIDR ${spec.podCidr}`)
    }
    const [n1, n2] = nodes as [DemoNode, DemoNode]
    await n1.handle.links.createVeth({ name: 'wire0', peerName: 'wire0', peerNamespace: n2.ns })
    for (const { handle, wireAddress } of nodes) {
      const wire = await handle.links.get('wire0')
      await handle.addresses.add({ index: wire.index, address: wireAddress })
      await handle.links.setUp(wire.index)
      await handle.links.setUp('lo')
    }
    say(`  ${green('✓')} wire0 (veth) node1 ${n1.wireAddress} ═══ node2 ${n2.wireAddress}`)

    step(3, TOTAL, 'routing each node\'s traffic for the other node\'s pods over the wire')
    for (const [node, other] of [[n1, n2], [n2, n1]] as const) {
      checkpoint()
      const via = other.wireAddress.split('/')[0] as string
      await node.handle.routes.add({ dst: other.podCidr, gateway: via })
      say(`  ${green('✓')} ${node.name}: ${other.podCidr} via ${via} dev wire0`)
    }

    // ---- pods through CNI ----
    step(4, TOTAL, 'creating pods and running CNI ADD for each (loopback → bridge → host-local)')
    say(dim(`  network config (${NETWORK}.conflist, node1; node2 differs only in its subnet):`))
    writeFileSync(join(work, `${NETWORK}-node1.conflist`), JSON.stringify(n1.list, null, 2))
    writeFileSync(join(work, `${NETWORK}-node2.conflist`), JSON.stringify(n2.list, null, 2))
    for (const line of compactJSON(n1.list).split('\n')) say(dim(`    ${line}`))
    let podNumber = 0
    for (const node of nodes) {
      for (let i = 0; i < 2; i++) {
        checkpoint()
        const name = `pod${++podNumber}`
        const nsName = `${base}-${node.name}-${name}`
        const pod: DemoPod = { name, node, nsName, containerId: `demo-${node.name}-${name}` }
        const podNs = NetNamespace.create(nsName)
        podNs.close()
        namespacesMade.push(nsName)
        cleanup.push(`delete namespace ${nsName}`, () => { NetNamespace.delete(nsName) })
        const rt: RuntimeConf = { containerId: pod.containerId, netns: `/var/run/netns/${nsName}`, ifName: 'eth0' }
        // The last pod takes the exec path, to show what the agent saves.
        const viaExec = native && podNumber === 4
        const runtime = viaExec ? node.execRuntime : node.runtime
        const how = !native ? 'exec path' : viaExec ? 'exec path, no agent' : 'through the agent'
        // The spec: an ADD is always followed by a DEL, even when the ADD failed.
        cleanup.push(`CNI DEL ${pod.containerId}`, async () => {
          const started = performance.now()
          await runtime.del(node.list, rt)
          say(`  ${green('✓')} DEL ${node.name}/${name} (${duration(performance.now() - started)}, ${how})`)
        })
        const started = performance.now()
        const result: CniResult = await runtime.add(node.list, rt)
        const ips = result.ips as Array<{ address: string }> | undefined
        pod.address = ips?.[0]?.address.split('/')[0]
        pod.runtime = runtime
        node.pods.push(pod)
        say(`  ${green('✓')} ADD ${node.name}/${name}: ${ips?.map(ip => ip.address).join(', ') ?? 'no address'} (${duration(performance.now() - started)}, ${how}: loopback + bridge + host-local)`)
      }
    }
    for (const node of nodes) {
      for (const pod of node.pods) {
        await (pod.runtime ?? node.runtime).check(node.list, { containerId: pod.containerId, netns: `/var/run/netns/${pod.nsName}`, ifName: 'eth0' })
      }
    }
    say(`  ${green('✓')} CHECK passed for every pod`)

    // ---- what the kernel now holds ----
    step(5, TOTAL, 'the network as the kernel sees it (read back with our netlink library)')
    const rows: string[][] = []
    for (const node of nodes) {
      for (const pod of node.pods) {
        checkpoint()
        const podNs = NetNamespace.openNamed(pod.nsName)
        try {
          const state = await readState(podNs)
          const eth0 = state.links.find(l => l.name === 'eth0')
          const lo = state.links.find(l => l.name === 'lo')
          rows.push([
            node.name, pod.name, 'eth0',
            eth0?.mac ?? '?',
            state.addresses.filter(a => a.index === eth0?.index).map(a => a.cidr).join(', ') || '-',
            state.routes.filter(r => r.type === 1).map(r => routeText(r, state.links)).join('; '),
            `lo ${lo?.up === true ? 'up' : 'down'}`
          ])
        } finally {
          podNs.close()
        }
      }
    }
    say(table(['node', 'pod', 'iface', 'MAC', 'address', 'routes', 'loopback'], rows))
    say()
    const nodeRows: string[][] = []
    for (const node of nodes) {
      const state = await readState(node.ns)
      const cni0 = state.links.find(l => l.name === 'cni0')
      const ports = state.links.filter(l => cni0 !== undefined && l.master === cni0.index).map(l => l.name)
      nodeRows.push([
        node.name,
        `cni0 ${state.addresses.filter(a => a.index === cni0?.index).map(a => a.cidr).join(', ')}`,
        ports.join(', '),
        state.routes.filter(r => r.gateway !== undefined).map(r => routeText(r, state.links)).join('; ')
      ])
    }
    say(table(['node', 'bridge (gateway)', 'bridge ports (host veths)', 'route to the other node'], nodeRows))

    // ---- traffic ----
    step(6, TOTAL, `probing: a TCP connection from inside each pod to every other pod and to its gateway (port ${PROBE_PORT})`)
    for (const node of nodes) {
      node.agent = await NamespaceAgent.start(node.ns.path, node.name)
      cleanup.push(`stop the ${node.name} agent`, () => node.agent?.close())
      await node.agent.listen(PROBE_PORT)
      for (const pod of node.pods) {
        pod.agent = await NamespaceAgent.start(`/var/run/netns/${pod.nsName}`, pod.name)
        cleanup.push(`stop the ${pod.name} agent`, () => pod.agent?.close())
        await pod.agent.listen(PROBE_PORT)
      }
    }
    const allPods = nodes.flatMap(n => n.pods)
    const header = ['from \\ to', ...allPods.map(p => `${p.name} ${p.address ?? ''}`), 'gateway']
    const matrix: string[][] = []
    let passed = 0
    let total = 0
    const failures: string[] = []
    for (const from of allPods) {
      const row = [`${from.node.name}/${from.name}`]
      const targets: Array<{ label: string, address: string, expect: string }> = [
        ...allPods.map(p => ({ label: p.name, address: p.address ?? '', expect: p.name })),
        { label: 'gateway', address: from.node.gateway, expect: from.node.name }
      ]
      for (const target of targets) {
        if (target.label === from.name) { row.push(dim('-')); continue }
        checkpoint()
        total++
        const r: ProbeResult = await (from.agent as NamespaceAgent).probe(target.address, PROBE_PORT)
        const good = r.ok && r.answeredBy === target.expect && r.localAddress === from.address
        if (good) {
          passed++
          row.push(green(`ok ${duration(r.durationMs)}`))
        } else {
          row.push(red('FAIL'))
          failures.push(`${from.name} → ${target.label} ${target.address}: ${r.error ?? `answered by ${r.answeredBy ?? '?'} from ${r.localAddress ?? '?'}`}`)
        }
      }
      matrix.push(row)
    }
    say(table(header, matrix))
    for (const f of failures) say(`  ${red('✗')} ${f}`)
    say(`  ${passed === total ? green('✓') : red('✗')} ${passed}/${total} probes succeeded (same node, across nodes via the wire, and to the gateway)`)
    probesOk = passed === total && total > 0
  } catch (err) {
    if (err instanceof Interrupted) say(`\n${red('interrupted')} (${err.signal}): cleaning up`)
    else say(`\n${red('error:')} ${(err as Error).stack ?? String(err)}`)
    probesOk = false
  } finally {
    step(7, TOTAL, 'tearing down: CNI DEL in reverse order, then the namespaces')
    const failures = await cleanup.runAll()
    for (const f of failures) say(`  ${red('✗')} ${f}`)
    const left = namespacesMade.filter(n => NetNamespace.exists(n))
    if (left.length > 0) say(`  ${red('✗')} namespaces left behind: ${left.join(', ')}`)
    const leftReservations = dataDir !== '' && existsSync(join(dataDir, NETWORK))
      ? readdirSync(join(dataDir, NETWORK)).filter(f => f !== 'lock' && !f.startsWith('last_reserved_ip'))
      : []
    if (failures.length === 0 && left.length === 0 && leftReservations.length === 0) {
      say(`  ${green('✓')} removed ${namespacesMade.length} namespaces (their links, addresses and routes went with them) and the temporary files`)
    } else {
      probesOk = false
    }
    namespacesMade = []
  }
  return probesOk
}

async function main (): Promise<number> {
  let options: Options
  try {
    options = parseArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    return 2
  }
  if (options.help) {
    say('usage: npm run demo [-- --plugin-dir DIR]\n\nBuilds a two-node, four-pod network in namespaces with the CNI plugins in DIR\n(default: this checkout\'s bin/), proves pod-to-pod and pod-to-gateway reachability,\nand removes everything again. Needs root.')
    return 0
  }
  const signals: { interrupted: string | undefined } = { interrupted: undefined }
  let firstSignalAt = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signals.interrupted === undefined) {
      signals.interrupted = signal
      firstSignalAt = performance.now()
      say(`\n${signal}: finishing the current step, then cleaning up (everything the demo made will be removed)…`)
    } else if (performance.now() - firstSignalAt > 500) {
      // (Under `npm run`, one Ctrl-C arrives twice: from the terminal and forwarded by npm.)
      say(`\n${signal}: still cleaning up, please wait`)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  const ok = await run(options, signals)
  if (signals.interrupted !== undefined) {
    say(red(`demo interrupted by ${signals.interrupted}; cleaned up`))
    return signals.interrupted === 'SIGINT' ? 130 : signals.interrupted === 'SIGTERM' ? 143 : 129
  }
  say()
  say(ok ? green(bold(SUCCESS_LINE)) : red(bold('demo FAILED: see the errors above')))
  return ok ? 0 : 1
}

process.exitCode = await main()

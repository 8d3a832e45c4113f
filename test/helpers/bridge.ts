// Test harness for the bridge plugin: throwaway "node" and "pod" namespaces,
// the plugin run exactly as a runtime runs it (env CNI_*, config on stdin,
// inside the node namespace), and kernel state read back with iproute2 as an
// independent oracle. Never touches the root namespace.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNamespace } from './netns.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN_DIR = join(ROOT, 'bin')
export const OUR_BRIDGE = join(BIN_DIR, 'bridge')
export const OFFICIAL_DIR = '/usr/lib/cni'
export const OFFICIAL_BRIDGE = join(OFFICIAL_DIR, 'bridge')

export const isRoot = process.getuid?.() === 0

/**
 * Where the plugins of the exec-path tests look for an agent: nowhere (they
 * run the Node path), unless TSCNI_AGENT_SOCKET names one, which runs the
 * same tests through that agent.
 */
export const TEST_AGENT_SOCKET = process.env.TSCNI_AGENT_SOCKET ?? '/run/tscni-tests/no-agent.sock'

/**
 * Where the bridge plugin keeps its attachment records in tests that do not
 * pick a directory (setupEnv does): one per test process, removed when it
 * exits, instead of the machine's /run/tscni.
 */
export const TEST_STATE_DIR = process.env.TSCNI_STATE_DIR ?? join(tmpdir(), `tscni-test-state-${process.pid}`)
if (process.env.TSCNI_STATE_DIR === undefined) process.on('exit', () => { rmSync(TEST_STATE_DIR, { recursive: true, force: true }) })

/** Why the integration tests cannot run here, or undefined when they can. */
export function skipReason (): string | undefined {
  if (!isRoot) return 'needs root: creates network namespaces'
  if (!existsSync(OUR_BRIDGE)) return `${OUR_BRIDGE} is missing: run npm run build first`
  if (!existsSync(join(BIN_DIR, 'host-local'))) return `${join(BIN_DIR, 'host-local')} is missing: run npm run build first`
  return undefined
}

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

let counter = 0
/** A unique prefix for this process's namespaces and files. */
export function uniqueName (what: string): string {
  return `tscni-t-${process.pid}-${++counter}-${what}`
}

/** ip netns add NAME, with the kernel's sysctl defaults (not the root namespace's); removed in teardown (also on failure). */
export function makeNamespace (t: Teardown, what: string): string {
  const name = uniqueName(what)
  createNamespace(name).close()
  t.teardown(() => { deleteNamespace(name) })
  return name
}

export function deleteNamespace (name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
}

export function nsPath (name: string): string { return `/var/run/netns/${name}` }

/** A temporary directory removed in teardown. */
export function makeTempDir (t: Teardown, what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tscni-t-${process.pid}-${what}-`))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

export interface RunOptions {
  /** The plugin executable; ours by default. */
  plugin?: string
  /** The namespace the plugin runs in (the "node"). */
  node: string
  command: string
  containerId?: string
  /** CNI_NETNS; omitted when undefined, empty string kept. */
  netns?: string
  ifname?: string
  cniArgs?: string
  /** CNI_PATH; our bin/ by default. */
  path?: string
  config: unknown
  extraEnv?: Record<string, string>
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed, when it is JSON. */
  json: any
}

function pluginEnv (o: RunOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: o.command,
    CNI_PATH: o.path ?? BIN_DIR,
    TSCNI_AGENT_SOCKET: TEST_AGENT_SOCKET,
    TSCNI_STATE_DIR: TEST_STATE_DIR,
    ...o.extraEnv
  }
  if (o.containerId !== undefined) env.CNI_CONTAINERID = o.containerId
  if (o.netns !== undefined) env.CNI_NETNS = o.netns
  if (o.ifname !== undefined) env.CNI_IFNAME = o.ifname
  if (o.cniArgs !== undefined) env.CNI_ARGS = o.cniArgs
  return env
}

function parsed (code: number, stdout: string, stderr: string): RunResult {
  let json: any
  try { json = stdout.trim() === '' ? undefined : JSON.parse(stdout) } catch { json = undefined }
  return { code, stdout, stderr, json }
}

const configText = (o: RunOptions): string => typeof o.config === 'string' ? o.config : JSON.stringify(o.config)

/** Runs a CNI plugin the way a runtime does: `ip netns exec <node> <plugin>`, env CNI_*, config on stdin. */
export function runPlugin (o: RunOptions): RunResult {
  const r = spawnSync('ip', ['netns', 'exec', o.node, o.plugin ?? OUR_BRIDGE], { env: pluginEnv(o), input: configText(o), encoding: 'utf8', timeout: 60_000 })
  return parsed(r.status ?? -1, r.stdout, r.stderr)
}

/** runPlugin without blocking: for runs that must overlap. */
export async function runPluginAsync (o: RunOptions): Promise<RunResult> {
  return await new Promise(resolve => {
    const child = spawn('ip', ['netns', 'exec', o.node, o.plugin ?? OUR_BRIDGE], { env: pluginEnv(o), timeout: 60_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += String(d) })
    child.stderr.on('data', d => { stderr += String(d) })
    child.on('close', code => { resolve(parsed(code ?? -1, stdout, stderr)) })
    child.stdin.end(configText(o))
  })
}

/** `ip -n NS -j ARGS…` parsed. */
export function ipJson (ns: string, ...args: string[]): any {
  const out = execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' })
  return out.trim() === '' ? [] : JSON.parse(out)
}

/** `ip -n NS …` for setup steps. */
export function ip (ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' })
}

/** `bridge -n NS -j ARGS…` parsed. */
export function bridgeJson (ns: string, ...args: string[]): any {
  const out = execFileSync('bridge', ['-n', ns, '-j', ...args], { encoding: 'utf8' })
  return out.trim() === '' ? [] : JSON.parse(out)
}

/** Reads a sysctl inside a namespace, e.g. net/ipv6/conf/eth0/accept_dad. */
export function sysctl (ns: string, key: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'cat', `/proc/sys/${key}`], { encoding: 'utf8' }).trim()
}

export function writeSysctlIn (ns: string, key: string, value: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo ${value} > /proc/sys/${key}`])
}

export interface LinkInfo {
  ifname: string
  ifindex: number
  mtu: number
  flags: string[]
  operstate: string
  address: string
  master?: string
  link_index?: number
  promiscuity?: number
  linkinfo?: { info_kind?: string, info_data?: any, info_slave_kind?: string, info_slave_data?: any }
}

export function links (ns: string): LinkInfo[] { return ipJson(ns, '-d', 'link', 'show') }
export function link (ns: string, name: string): LinkInfo | undefined { return links(ns).find(l => l.ifname === name) }

export interface AddrInfo { family: string, local: string, prefixlen: number, broadcast?: string, scope: string, tentative?: boolean, dadfailed?: boolean }
export function addresses (ns: string, dev: string): AddrInfo[] {
  const r = ipJson(ns, 'addr', 'show', 'dev', dev)
  return r[0]?.addr_info ?? []
}
export function globalAddresses (ns: string, dev: string): string[] {
  return addresses(ns, dev).filter(a => a.scope === 'global').map(a => `${a.local}/${a.prefixlen}`)
}

export function routes (ns: string, family: '-4' | '-6' = '-4', ...extra: string[]): any[] {
  return ipJson(ns, family, 'route', 'show', ...extra)
}

/** Files in the host-local store of a network. */
export function ipFiles (dataDir: string, network: string): string[] {
  const dir = join(dataDir, network)
  if (!existsSync(dir)) return []
  return readdirSync(dir).filter(f => f !== 'lock' && !f.startsWith('last_reserved_ip')).sort()
}

/** Writes an executable fake IPAM plugin into dir/name. */
export function writeFakeIpam (dir: string, name: string, script: string): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, name)
  writeFileSync(file, `#!/bin/sh\n${script}\n`)
  chmodSync(file, 0o755)
  return file
}

/** A summary of a node namespace to compare before and after: links, addresses, routes. */
export function nodeSnapshot (ns: string): { links: string[], addresses: string[], routes: string[] } {
  const ls = links(ns).map(l => `${l.ifname} ${l.linkinfo?.info_kind ?? ''} master=${l.master ?? ''} mtu=${l.mtu} ${l.flags.includes('UP') ? 'up' : 'down'}`).sort()
  const addrs = (ipJson(ns, 'addr', 'show') as any[]).flatMap(l => (l.addr_info as AddrInfo[]).filter(a => a.scope !== 'link').map(a => `${l.ifname} ${a.local}/${a.prefixlen}`)).sort()
  const rts = [...routes(ns, '-4'), ...routes(ns, '-6')].map(r => `${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`).sort()
  return { links: ls, addresses: addrs, routes: rts }
}

/** A bridge network config with a host-local IPAM in dataDir. */
export function bridgeConfig (opts: {
  name?: string
  cniVersion?: string
  bridge: string
  dataDir?: string
  subnet?: string
  ranges?: unknown
  ipamType?: string
  extra?: Record<string, unknown>
  ipamExtra?: Record<string, unknown>
}): Record<string, unknown> {
  const conf: Record<string, unknown> = {
    cniVersion: opts.cniVersion ?? '1.0.0',
    name: opts.name ?? 'tnet',
    type: 'bridge',
    bridge: opts.bridge,
    ...opts.extra
  }
  if (opts.dataDir !== undefined || opts.ipamType !== undefined) {
    const ipam: Record<string, unknown> = { type: opts.ipamType ?? 'host-local', ...opts.ipamExtra }
    if (opts.dataDir !== undefined) ipam.dataDir = opts.dataDir
    if (opts.ranges !== undefined) ipam.ranges = opts.ranges
    else if (opts.subnet !== undefined) ipam.subnet = opts.subnet
    conf.ipam = ipam
  }
  return conf
}

export interface Env {
  node: string
  pod: string
  podPath: string
  dataDir: string
  /** TSCNI_STATE_DIR of every run (the attachment records live in <stateDir>/attachments). */
  stateDir: string
  /** Runs our plugin (or opts.plugin) in the node namespace against the pod. */
  run: (command: string, config: unknown, opts?: Partial<RunOptions>) => RunResult
  /** A bridge config on this env's dataDir. */
  config: (extra?: Record<string, unknown>, opts?: { subnet?: string, ranges?: unknown, cniVersion?: string, l2?: boolean, bridge?: string, name?: string }) => Record<string, unknown>
}

/** A node namespace, a pod namespace and an IPAM dataDir, all removed in teardown. */
export function setupEnv (t: Teardown, what = 'b'): Env {
  const node = makeNamespace(t, `${what}-node`)
  const pod = makeNamespace(t, `${what}-pod`)
  const dataDir = makeTempDir(t, what)
  const stateDir = makeTempDir(t, `${what}-state`)
  const podPath = nsPath(pod)
  return {
    node,
    pod,
    podPath,
    dataDir,
    stateDir,
    run: (command, config, opts = {}) => runPlugin({
      node,
      command,
      containerId: 'ctr1',
      netns: podPath,
      ifname: 'eth0',
      config,
      ...opts,
      extraEnv: { TSCNI_STATE_DIR: stateDir, ...opts.extraEnv }
    }),
    config: (extra = {}, opts = {}) => bridgeConfig({
      bridge: opts.bridge ?? 'tbr0',
      name: opts.name ?? 'tnet',
      cniVersion: opts.cniVersion ?? '1.0.0',
      ...(opts.l2 === true ? {} : { dataDir, subnet: opts.subnet ?? '10.77.0.0/24', ranges: opts.ranges }),
      extra
    })
  }
}

/** The node's host veths (name veth + 8 hex). */
export function hostVeths (ns: string): LinkInfo[] {
  return links(ns).filter(l => /^veth[0-9a-f]{8}$/.test(l.ifname))
}

/** Writes dir/name: a wrapper that runs our plugin under `strace -f -qq <args> -o log`. Returns [wrapper, log]. */
export function straceWrapper (dir: string, name: string, straceArgs: string): [string, string] {
  const wrapper = join(dir, name)
  const log = join(dir, `${name}.log`)
  writeFileSync(wrapper, `#!/bin/sh\nexec strace -f -qq ${straceArgs} -o ${log} ${OUR_BRIDGE} "$@"\n`)
  chmodSync(wrapper, 0o755)
  return [wrapper, log]
}

export const hasStrace = spawnSync('strace', ['-V']).status === 0

// --- nf_tables, read back with `nft -j` (the independent oracle) --------------

export interface NftOracleChain { family: string, table: string, name: string, type?: string, hook?: string, prio?: number, policy?: string, comment?: string }
export interface NftOracleRule { family: string, table: string, chain: string, handle: number, text: string, comment?: string }
export interface NftOracle { tables: Array<{ family: string, name: string, comment?: string }>, chains: NftOracleChain[], rules: NftOracleRule[] }

/** `nft -j list ruleset` in a namespace, rules rendered as short text ("ip saddr == 10.1.0.2 masquerade"). */
export function nftRuleset (ns: string): NftOracle {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' })
  const items = JSON.parse(out).nftables as Array<Record<string, any>>
  return {
    tables: items.filter(i => i.table !== undefined).map(i => i.table),
    chains: items.filter(i => i.chain !== undefined).map(i => i.chain),
    rules: items.filter(i => i.rule !== undefined).map(i => {
      const r = i.rule
      return { family: r.family, table: r.table, chain: r.chain, handle: r.handle, text: (r.expr as unknown[]).map(nftExprText).join(' '), ...(r.comment !== undefined ? { comment: r.comment } : {}) }
    })
  }
}

function nftValueText (v: any): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v)
  if (v?.payload !== undefined) return `${v.payload.protocol as string} ${v.payload.field as string}`
  if (v?.meta !== undefined) return `meta ${v.meta.key as string}`
  if (v?.prefix !== undefined) return `${v.prefix.addr as string}/${v.prefix.len as number}`
  return JSON.stringify(v)
}

function nftExprText (e: any): string {
  if (e.match !== undefined) return `${nftValueText(e.match.left)} ${e.match.op as string} ${nftValueText(e.match.right)}`
  if (e.jump !== undefined) return `jump ${e.jump.target as string}`
  if (e.goto !== undefined) return `goto ${e.goto.target as string}`
  for (const k of ['return', 'drop', 'accept', 'masquerade', 'counter']) if (k in e) return k
  return JSON.stringify(e)
}

// A small container-runtime side of CNI, modelled on libcni (v1.3.0,
// libcni/api.go): it runs the plugins of a network configuration list the way
// containerd, CRI-O or podman do, so the demo and the end-to-end tests drive
// our plugins exactly as a real runtime would.
//
// What it copies from libcni:
// - ADD runs the plugins in order; each gets the list's `name` and
//   `cniVersion` injected, the previous plugin's result as `prevResult`, and
//   a `runtimeConfig` holding only the capabilities the plugin declares true
//   *and* the caller supplied. The final result is cached.
// - DEL runs them in reverse with prevResult = the cached final ADD result
//   (for cniVersion >= 0.4.0), then forgets the cache entry, also on error.
// - CHECK (>= 0.4.0, skipped with disableCheck) passes the cached result.
// - GC first DELs every cached attachment of the network that is not in the
//   valid list, then (>= 1.1.0, unless disableGC) runs GC on every plugin with
//   both `cni.dev/valid-attachments` and the legacy `cni.dev/attachments`.
// - The environment is the caller's plus CNI_COMMAND, CNI_CONTAINERID,
//   CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH; the config goes on stdin; a
//   plugin is the first regular file named `type` in the plugin directories;
//   "text file busy" is retried.
//
// Only src/demo and src/cni may start processes, and this one starts nothing
// but CNI plugins.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { NetNamespace } from '../netlink/netns.js'
import { isListening } from '../agent/client.js'

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION'

/** One plugin's entry in a .conflist. */
export interface PluginConfig {
  type: string
  capabilities?: Record<string, boolean>
  [key: string]: unknown
}

/** A parsed .conflist. */
export interface NetworkConfigList {
  cniVersion: string
  name: string
  plugins: PluginConfig[]
  disableCheck?: boolean
  disableGC?: boolean
  [key: string]: unknown
}

/** What the runtime knows about one attachment (libcni's RuntimeConf). */
export interface RuntimeConf {
  containerId: string
  /** Path of the container's network namespace; '' on a DEL after it is gone. */
  netns: string
  ifName: string
  /** CNI_ARGS pairs, joined as K=V;K=V. */
  args?: ReadonlyArray<readonly [string, string]> | undefined
  /** Capability values (portMappings, ips, mac…), given to plugins that declare them. */
  capabilityArgs?: Record<string, unknown> | undefined
}

export interface Attachment { containerID: string, ifname: string }

/** A CNI result as JSON (any version); the runtime passes it on untouched. */
export type CniResult = Record<string, unknown>

export interface VersionInfo { cniVersion: string, supportedVersions: string[] }

/** A plugin that failed: its CNI error (code, msg, details), exit status and stderr. */
export class CniPluginError extends Error {
  override name = 'CniPluginError'
  /** The plugin's `type`. */
  readonly plugin: string
  readonly command: CniCommand
  /** The CNI error code (999 = internal); 0 when the plugin printed no error JSON. */
  readonly code: number
  readonly msg: string
  readonly details: string | undefined
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string

  constructor (init: {
    plugin: string, command: CniCommand, code: number, msg: string, details?: string | undefined
    exitCode: number | null, signal: NodeJS.Signals | null, stderr: string
  }) {
    const what = init.code !== 0 ? `error ${init.code}: ${init.msg}` : init.msg
    super(`CNI plugin ${init.plugin} ${init.command} failed: ${what}${init.details !== undefined && init.details !== '' ? ` (${init.details})` : ''}`)
    this.plugin = init.plugin
    this.command = init.command
    this.code = init.code
    this.msg = init.msg
    this.details = init.details
    this.exitCode = init.exitCode
    this.signal = init.signal
    this.stderr = init.stderr
  }
}

/** The runtime's record of a successful ADD (libcni keeps these on disk). */
export interface CachedAttachment {
  network: string
  containerId: string
  ifName: string
  netns: string
  result: CniResult
  /** The list as given to ADD, for the synthesised DEL of a GC. */
  list: NetworkConfigList
  args?: ReadonlyArray<readonly [string, string]> | undefined
  capabilityArgs?: Record<string, unknown> | undefined
}

/** An in-memory result cache keyed by network, container id and interface. */
export class ResultCache {
  private readonly entries = new Map<string, CachedAttachment>()
  private static key (network: string, containerId: string, ifName: string): string {
    return `${network}\0${containerId}\0${ifName}`
  }

  get (network: string, containerId: string, ifName: string): CachedAttachment | undefined {
    return this.entries.get(ResultCache.key(network, containerId, ifName))
  }

  set (entry: CachedAttachment): void {
    this.entries.set(ResultCache.key(entry.network, entry.containerId, entry.ifName), entry)
  }

  delete (network: string, containerId: string, ifName: string): void {
    this.entries.delete(ResultCache.key(network, containerId, ifName))
  }

  /** Every cached attachment of one network. */
  list (network: string): CachedAttachment[] {
    return [...this.entries.values()].filter(e => e.network === network)
  }
}

export interface RuntimeOptions {
  /** Plugin directories, searched in order; also passed as CNI_PATH. */
  pluginDirs: string[]
  /**
   * Run every plugin process inside this network namespace (the "host" side
   * as the plugins see it). The child is forked while our thread is inside
   * it (see execPlugin), so the plugin lives there from its first syscall.
   */
  namespace?: NetNamespace
  /** Base environment of the plugins; the caller's (process.env) by default, as libcni. */
  env?: NodeJS.ProcessEnv
  /** Kill a plugin that runs longer than this; default 60 s. */
  timeoutMs?: number
  cache?: ResultCache
}

/** What one plugin process did. */
export interface ExecOutcome {
  stdout: string
  stderr: string
  exitCode: number | null
  signal: NodeJS.Signals | null
  durationMs: number
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/
const TEXT_FILE_BUSY_RETRIES = 5

export class CniRuntime {
  readonly pluginDirs: string[]
  readonly cache: ResultCache
  private readonly namespace: NetNamespace | undefined
  private readonly env: NodeJS.ProcessEnv
  private readonly timeoutMs: number

  constructor (options: RuntimeOptions) {
    this.pluginDirs = [...options.pluginDirs]
    this.namespace = options.namespace
    this.env = options.env ?? process.env
    this.timeoutMs = options.timeoutMs ?? 60_000
    this.cache = options.cache ?? new ResultCache()
  }

  /** ADD: every plugin in order, each given the previous result; caches and returns the last. */
  async add (list: NetworkConfigList, rt: RuntimeConf): Promise<CniResult> {
    validateRuntimeConf(list, rt)
    let prevResult: CniResult | undefined
    for (const plugin of list.plugins) {
      this.findPlugin(plugin.type)
      const config = buildPluginConfig(list, plugin, { prevResult, rt })
      const out = await this.invoke(plugin.type, 'ADD', config, this.attachmentEnv('ADD', rt))
      prevResult = parseResult(plugin.type, 'ADD', out, list.cniVersion)
    }
    const result = prevResult ?? { cniVersion: list.cniVersion }
    this.cache.set({
      network: list.name,
      containerId: rt.containerId,
      ifName: rt.ifName,
      netns: rt.netns,
      result,
      list,
      args: rt.args,
      capabilityArgs: rt.capabilityArgs
    })
    return result
  }

  /** DEL: every plugin in reverse, prevResult = the cached ADD result; the cache entry goes even on error. */
  async del (list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    validateRuntimeConf(list, rt)
    const cached = this.cache.get(list.name, rt.containerId, rt.ifName)
    const prevResult = versionAtLeast(list.cniVersion, '0.4.0') ? cached?.result : undefined
    try {
      for (const plugin of [...list.plugins].reverse()) {
        const config = buildPluginConfig(list, plugin, { prevResult, rt })
        await this.invoke(plugin.type, 'DEL', config, this.attachmentEnv('DEL', rt))
      }
    } finally {
      this.cache.delete(list.name, rt.containerId, rt.ifName)
    }
  }

  /** CHECK: every plugin in order with the cached result (libcni: only for cniVersion >= 0.4.0). */
  async check (list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    if (!versionAtLeast(list.cniVersion, '0.4.0')) {
      throw new Error(`configuration version "${list.cniVersion}" does not support the CHECK command`)
    }
    if (list.disableCheck === true) return
    validateRuntimeConf(list, rt)
    const prevResult = this.cache.get(list.name, rt.containerId, rt.ifName)?.result
    for (const plugin of list.plugins) {
      const config = buildPluginConfig(list, plugin, { prevResult, rt })
      await this.invoke(plugin.type, 'CHECK', config, this.attachmentEnv('CHECK', rt))
    }
  }

  /**
   * GC: DELs the cached attachments of this network that are not valid any
   * more, then asks every plugin (cniVersion >= 1.1.0, unless disableGC) to
   * drop what belongs to no valid attachment. Errors are collected and thrown
   * together at the end, as libcni joins them.
   */
  async gc (list: NetworkConfigList, validAttachments: Attachment[]): Promise<void> {
    const errors: Error[] = []
    const valid = new Set(validAttachments.map(a => `${a.containerID}\0${a.ifname}`))
    for (const stale of this.cache.list(list.name)) {
      if (valid.has(`${stale.containerId}\0${stale.ifName}`)) continue
      try {
        // libcni passes what it cached of the ADD, the netns path included.
        await this.del(list, { containerId: stale.containerId, ifName: stale.ifName, netns: stale.netns, args: stale.args, capabilityArgs: stale.capabilityArgs })
      } catch (err) {
        errors.push(err as Error)
      }
    }
    if (versionAtLeast(list.cniVersion, '1.1.0') && list.disableGC !== true) {
      for (const plugin of list.plugins) {
        const config = buildPluginConfig(list, plugin, {})
        config['cni.dev/valid-attachments'] = validAttachments
        config['cni.dev/attachments'] = validAttachments
        try {
          await this.invoke(plugin.type, 'GC', config, this.globalEnv('GC'))
        } catch (err) {
          errors.push(err as Error)
        }
      }
    }
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, errors.map(e => e.message).join('; '))
  }

  /** STATUS on every plugin (cniVersion >= 1.1.0); the first failure is thrown. */
  async status (list: NetworkConfigList): Promise<void> {
    if (!versionAtLeast(list.cniVersion, '1.1.0')) return
    for (const plugin of list.plugins) {
      await this.invoke(plugin.type, 'STATUS', buildPluginConfig(list, plugin, {}), this.globalEnv('STATUS'))
    }
  }

  /** VERSION of one plugin (stdin carries only a cniVersion, which plugins need not read). */
  async version (pluginType: string, cniVersion = '1.0.0'): Promise<VersionInfo> {
    const out = await this.invoke(pluginType, 'VERSION', { cniVersion }, { CNI_COMMAND: 'VERSION' })
    const info = parseJSON(pluginType, 'VERSION', out) as Partial<VersionInfo>
    if (typeof info.cniVersion !== 'string' || !Array.isArray(info.supportedVersions)) {
      throw pluginError(pluginType, 'VERSION', out, `VERSION output is not a version object: ${out.stdout.slice(0, 200)}`)
    }
    return info as VersionInfo
  }

  /** The full path of a plugin: the first regular file named `type` in the plugin directories. */
  findPlugin (type: string): string {
    if (type === '') throw new Error('no plugin name provided')
    if (type.includes('/')) throw new Error(`invalid plugin name: ${type}`)
    if (this.pluginDirs.length === 0) throw new Error('no paths provided')
    for (const dir of this.pluginDirs) {
      const path = join(dir, type)
      try {
        if (statSync(path).isFile()) return path
      } catch {}
    }
    throw new Error(`failed to find plugin "${type}" in path [${this.pluginDirs.join(' ')}]`)
  }

  /**
   * Runs one plugin command and returns its output, or throws
   * CniPluginError with the plugin's error JSON when it exits non-zero.
   */
  async invoke (type: string, command: CniCommand, config: object, env: Record<string, string>): Promise<ExecOutcome> {
    const path = this.findPlugin(type)
    const stdin = Buffer.from(JSON.stringify(config))
    const out = await this.execPlugin(path, { ...this.env, ...env }, stdin)
    if (out.exitCode !== 0) throw pluginError(type, command, out)
    if (out.stderr !== '' && process.env.TSCNI_RUNTIME_DEBUG !== undefined) process.stderr.write(out.stderr)
    return out
  }

  /**
   * Spawns one plugin, feeds stdin and collects its output.
   *
   * The namespace: setns(2) moves only the calling thread, and fork copies the
   * namespaces of the thread that forks. child_process.spawn forks and execs
   * synchronously on our (the main) thread, so spawning inside
   * NetNamespace.run() starts the plugin in that namespace and every syscall it
   * ever makes happens there, while this process is back home before spawn
   * returns. No wrapper program, no `ip netns exec`.
   */
  private async execPlugin (path: string, env: NodeJS.ProcessEnv, stdin: Buffer): Promise<ExecOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.execOnce(path, env, stdin)
      } catch (err) {
        // The file was being written (e.g. a concurrent install): libcni retries too.
        if ((err as NodeJS.ErrnoException).code === 'ETXTBSY' && attempt < TEXT_FILE_BUSY_RETRIES) {
          await new Promise(resolve => setTimeout(resolve, 1000))
          continue
        }
        throw err
      }
    }
  }

  private execOnce (path: string, env: NodeJS.ProcessEnv, stdin: Buffer): Promise<ExecOutcome> {
    const started = performance.now()
    // detached: its own process group, so a Ctrl-C meant for us (the terminal
    // signals the whole foreground group) cannot kill a plugin halfway
    // through; we still wait for it, and clean up after it ourselves.
    const start = (): ChildProcess => spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    const child = this.namespace !== undefined ? this.namespace.run(start) : start()
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      let failed: Error | undefined
      const timer = setTimeout(() => {
        failed = new Error(`CNI plugin ${path} did not finish within ${this.timeoutMs} ms`)
        child.kill('SIGKILL')
      }, this.timeoutMs)
      child.stdout?.on('data', (d: Buffer) => stdout.push(d))
      child.stderr?.on('data', (d: Buffer) => stderr.push(d))
      // A plugin that exits without reading stdin (VERSION) closes the pipe: not our error.
      child.stdin?.on('error', () => {})
      child.on('error', err => { failed ??= err })
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        if (failed !== undefined && (code === null || (failed as NodeJS.ErrnoException).code !== undefined)) {
          reject(failed)
          return
        }
        resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          exitCode: code,
          signal,
          durationMs: performance.now() - started
        })
      })
      child.stdin?.end(stdin)
    })
  }

  private attachmentEnv (command: CniCommand, rt: RuntimeConf): Record<string, string> {
    return {
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifName,
      CNI_ARGS: (rt.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
      CNI_PATH: this.pluginDirs.join(':')
    }
  }

  /** GC and STATUS concern no attachment: libcni sets the attachment variables empty. */
  private globalEnv (command: CniCommand): Record<string, string> {
    return { CNI_COMMAND: command, CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '', CNI_ARGS: '', CNI_PATH: this.pluginDirs.join(':') }
  }
}

/**
 * The stdin of one plugin (libcni buildOneConfig + injectRuntimeConfig): the
 * plugin's own entry with the list's name and cniVersion, prevResult when
 * given, and runtimeConfig for the capabilities it declares true and rt supplies.
 */
export function buildPluginConfig (
  list: NetworkConfigList,
  plugin: PluginConfig,
  with_: { prevResult?: CniResult | undefined, rt?: RuntimeConf }
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion }
  if (with_.prevResult !== undefined) config.prevResult = with_.prevResult
  const supplied = with_.rt?.capabilityArgs
  if (supplied !== undefined && plugin.capabilities !== undefined) {
    const runtimeConfig: Record<string, unknown> = {}
    for (const [capability, declared] of Object.entries(plugin.capabilities)) {
      if (declared && supplied[capability] !== undefined) runtimeConfig[capability] = supplied[capability]
    }
    if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig
  }
  return config
}

/** Parses a .conflist, checking the fields a runtime relies on. */
export function parseConfigList (text: string, source = 'conflist'): NetworkConfigList {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new Error(`${source}: not JSON: ${(err as Error).message}`)
  }
  const list = parsed as Partial<NetworkConfigList>
  if (typeof list !== 'object' || list === null || Array.isArray(list)) throw new Error(`${source}: not a JSON object`)
  if (typeof list.name !== 'string' || list.name === '') throw new Error(`${source}: no network name`)
  if (typeof list.cniVersion !== 'string') throw new Error(`${source}: no cniVersion`)
  if (!Array.isArray(list.plugins) || list.plugins.length === 0) throw new Error(`${source}: no plugins`)
  for (const [i, p] of list.plugins.entries()) {
    if (typeof p !== 'object' || p === null || typeof (p as PluginConfig).type !== 'string') throw new Error(`${source}: plugin ${i} has no type`)
  }
  return list as NetworkConfigList
}

function validateRuntimeConf (list: NetworkConfigList, rt: RuntimeConf): void {
  if (!CONTAINER_ID.test(list.name)) throw new Error(`invalid characters found in network name ${JSON.stringify(list.name)}`)
  if (!CONTAINER_ID.test(rt.containerId)) throw new Error(`invalid characters in containerID ${JSON.stringify(rt.containerId)}`)
  const n = rt.ifName
  if (n === '' || Buffer.byteLength(n) > 15 || n === '.' || n === '..' || /[/:\s]/.test(n)) {
    throw new Error(`invalid interface name ${JSON.stringify(n)}`)
  }
}

function parseJSON (plugin: string, command: CniCommand, out: ExecOutcome): unknown {
  try {
    return JSON.parse(out.stdout)
  } catch (err) {
    throw pluginError(plugin, command, out, `output is not JSON (${(err as Error).message}): ${JSON.stringify(out.stdout.slice(0, 200))}`)
  }
}

function parseResult (plugin: string, command: CniCommand, out: ExecOutcome, listVersion: string): CniResult {
  const result = parseJSON(plugin, command, out)
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw pluginError(plugin, command, out, `result is not a JSON object: ${out.stdout.slice(0, 200)}`)
  }
  // libcni (invoke.fixupResultVersion): a result without cniVersion is in the config's.
  const r = result as CniResult
  if (typeof r.cniVersion !== 'string') r.cniVersion = listVersion
  return r
}

/** A CniPluginError from a failed run: the spec's error JSON when stdout holds one. */
function pluginError (plugin: string, command: CniCommand, out: ExecOutcome, problem?: string): CniPluginError {
  const base = { plugin, command, exitCode: out.exitCode, signal: out.signal, stderr: out.stderr }
  if (problem !== undefined) return new CniPluginError({ ...base, code: 0, msg: problem })
  let parsed: { code?: unknown, msg?: unknown, details?: unknown } | undefined
  try {
    const value: unknown = JSON.parse(out.stdout)
    if (typeof value === 'object' && value !== null) parsed = value
  } catch {}
  if (parsed !== undefined && typeof parsed.code === 'number') {
    return new CniPluginError({
      ...base,
      code: parsed.code,
      msg: typeof parsed.msg === 'string' ? parsed.msg : '',
      details: typeof parsed.details === 'string' ? parsed.details : undefined
    })
  }
  const status = out.signal !== null ? `killed by ${out.signal}` : `exit status ${String(out.exitCode)}`
  const stderr = out.stderr.trim()
  const msg = out.stdout.trim() !== ''
    ? `failed but printed no error JSON (${status}): ${JSON.stringify(out.stdout.trim().slice(0, 200))}`
    : stderr !== '' ? `failed (${status}): ${stderr.slice(0, 500)}` : `failed with no error message (${status})`
  return new CniPluginError({ ...base, code: 0, msg })
}

/** Compares dotted CNI versions ("0.4.0" >= "0.3.1"); an empty version is 0.1.0 as in the spec. */
export function versionAtLeast (version: string, minimum: string): boolean {
  const parse = (v: string): number[] => (v === '' ? '0.1.0' : v).split('.').map(p => Number.parseInt(p, 10) || 0)
  const a = parse(version)
  const b = parse(minimum)
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (x !== y) return x > y
  }
  return true
}

/** Starts `tscni agent` (cli: bin/tscni) on a private socket, as a node's service manager would; resolves once it accepts connections. */
export async function startAgent (cli: string, socket: string, logFile: string): Promise<{ stop: () => Promise<void>, pid: number }> {
  const child = spawn(cli, ['agent', '--socket', socket, '--log-file', logFile], { stdio: 'ignore' })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  let gone = false
  void exited.then(() => { gone = true })
  for (let i = 0; !(await isListening(socket)); i++) {
    if (gone || i > 400) {
      child.kill('SIGKILL')
      throw new Error(`the agent did not start: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : 'no log'}`)
    }
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  return { pid: child.pid ?? 0, stop: async () => { if (!gone) child.kill('SIGTERM'); await exited } }
}

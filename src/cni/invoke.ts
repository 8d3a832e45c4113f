// Delegation to another CNI plugin, normally IPAM (lib pkg/invoke): find it
// on CNI_PATH, run it with our environment and stdin, read its result or
// error. A plugin file carrying our launcher marker can be run in process
// instead, through a handler its user registered.
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { errnoInfo } from '../netlink/errors.js'
import { CniError, ErrUnknown } from './errors.js'
import { splitPath } from './env.js'
import { configVersion, parseConfigJSON } from './config.js'
import { isObject, goQuote, jsonTypeName } from './json.js'
import { parseResult, toResult, type Result } from './result.js'
import { LOCAL_CALLER, type Caller } from './caller.js'

export interface DelegateOptions {
  /** Receives the delegated plugin's stderr. Default: our stderr (fd 2). */
  stderr?: (text: string) => void
  /** Pause between the attempts on "text file busy" (Go: 1 s, 6 attempts). */
  retryDelayMs?: number
  /** Whose CNI_PATH and namespaces these are (default LOCAL_CALLER); a caller that is not local gets only in-process plugins. */
  caller?: Caller
}

/** Runs a plugin in process: gets what a child would (env with CNI_COMMAND set, stdin bytes), returns what it would print and its exit code. */
export type InProcessHandler = (req: { env: NodeJS.ProcessEnv, stdin: Uint8Array, stderr: (text: string) => void, caller?: Caller | undefined }) =>
Promise<{ exitCode: number, stdout: string | Uint8Array }>

const inProcess = new Map<string, InProcessHandler>()

/**
 * Runs files marked `# tscni-plugin: <marker>` (a line within their first 64
 * KiB; our bin/ launchers carry it, and the native client carries
 * `# tscni-plugin: *`, which stands for the file's own name) by calling
 * `handler` instead of exec'ing them. Only a found file with that marker is redirected, never a
 * plugin matched by name alone, so a different binary under the same name on
 * CNI_PATH still runs as itself.
 */
export function registerInProcessPlugin (marker: string, handler: InProcessHandler): void {
  if (marker === '' || /[\s]/.test(marker)) throw new TypeError(`invalid in-process plugin marker ${JSON.stringify(marker)}`)
  inProcess.set(marker, handler)
}

export function unregisterInProcessPlugin (marker: string): void {
  inProcess.delete(marker)
}

const MARKER_PREFIX = '# tscni-plugin: '
const MARKER_SCAN = 65536

/**
 * The marker in a file's first 64 KiB, or undefined: a line
 * `# tscni-plugin: <name>`; `*` (the native client, one binary for every
 * plugin, dispatching on its name) stands for the file's own name.
 */
export function readPluginMarker (path: string): string | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const buf = Buffer.allocUnsafe(MARKER_SCAN)
    const n = readSync(fd, buf, 0, MARKER_SCAN, 0)
    const at = buf.subarray(0, n).indexOf('\n' + MARKER_PREFIX, 0, 'latin1')
    if (at < 0) return undefined
    const start = at + 1 + MARKER_PREFIX.length
    const end = buf.indexOf(10, start)
    const marker = buf.toString('latin1', start, end < 0 || end > n ? n : end).trim()
    return marker === '*' ? basename(path) : marker
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The first `dir/<plugin>` on `paths` that is a regular file (symlinks
 * followed; no exec-bit check, as in Go). Go's texts: `no plugin name
 * provided`, `invalid plugin name: X`, `no paths provided`,
 * `failed to find plugin "X" in path [/a /b]`.
 */
export function findInPath (plugin: string, paths: readonly string[], caller: Caller = LOCAL_CALLER): string {
  if (plugin === '') throw new Error('no plugin name provided')
  if (plugin.includes('/')) throw new Error(`invalid plugin name: ${plugin}`)
  if (paths.length === 0) throw new Error('no paths provided')
  for (const dir of paths) {
    const full = join(dir, plugin)
    try {
      if (statSync(caller.path(full)).isFile()) return full
    } catch {}
  }
  throw new Error(`failed to find plugin ${goQuote(plugin)} in path [${paths.join(' ')}]`)
}

/**
 * Runs the plugin at `path` with `env` (CNI_COMMAND replaced by `command`)
 * and `stdin`, and returns its stdout. A failure becomes a CniError as Go's
 * invoke builds it: the plugin's error JSON unchanged; empty stdout →
 * `netplugin failed: "<stderr>": exit status 1` or `netplugin failed with
 * no error message: …`; other stdout → `netplugin failed but error parsing
 * its diagnostic message "<stdout>": …` (these three with code 0, as Go).
 */
export async function execPlugin (path: string, command: string, stdin: Uint8Array, env: NodeJS.ProcessEnv, options: DelegateOptions = {}): Promise<Buffer> {
  const childEnv: NodeJS.ProcessEnv = { ...env, CNI_COMMAND: command }
  const stderrSink = options.stderr ?? ((text: string) => { process.stderr.write(text) })
  let run: PluginRun
  const caller = options.caller ?? LOCAL_CALLER
  const handler = inProcess.size > 0 ? inProcessHandlerFor(caller.path(path)) : undefined
  if (handler === undefined && !caller.local) {
    // The agent checks this before it takes a request (it answers "fallback").
    throw new CniError(ErrUnknown, `${path} is not a tscni plugin: it cannot run inside the agent`)
  }
  if (handler !== undefined) {
    let stderr = ''
    const r = await handler({ env: childEnv, stdin, stderr: t => { stderr += t }, caller: options.caller })
    const stdout = typeof r.stdout === 'string' ? Buffer.from(r.stdout) : Buffer.from(r.stdout)
    run = { stdout, stderr: Buffer.from(stderr), failure: r.exitCode === 0 ? undefined : `exit status ${r.exitCode}` }
  } else {
    const delay = options.retryDelayMs ?? 1000
    for (let attempt = 0; ; attempt++) {
      run = await spawnPlugin(path, childEnv, stdin)
      // The binary is being replaced right now: wait and try again, as Go does.
      if (run.failure !== undefined && run.failure.includes('text file busy') && attempt < 5) {
        await new Promise(resolve => setTimeout(resolve, delay))
        continue
      }
      break
    }
  }
  if (run.stderr.length > 0) stderrSink(run.stderr.toString('utf8'))
  if (run.failure !== undefined) throw pluginError(run.failure, run.stdout, run.stderr)
  return run.stdout
}

function inProcessHandlerFor (path: string): InProcessHandler | undefined {
  const marker = readPluginMarker(path)
  return marker === undefined ? undefined : inProcess.get(marker)
}

/** Whether the plugin file at `path` would run in process (a registered marker). */
export function runsInProcess (path: string): boolean {
  return inProcessHandlerFor(path) !== undefined
}

const SIGNAL_TEXT: Record<string, string> = {
  SIGKILL: 'killed', SIGTERM: 'terminated', SIGSEGV: 'segmentation fault', SIGABRT: 'aborted', SIGINT: 'interrupt',
  SIGHUP: 'hangup', SIGPIPE: 'broken pipe', SIGBUS: 'bus error', SIGILL: 'illegal instruction', SIGQUIT: 'quit'
}

// Go's texts (syscall.Errno.Error) where libuv words them differently.
const GO_EXEC_ERRNO_TEXT: Record<string, string> = {
  ETXTBSY: 'text file busy',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  ENOEXEC: 'exec format error',
  E2BIG: 'argument list too long',
  ENOMEM: 'cannot allocate memory'
}

/** What a plugin run printed, and why it failed (undefined: it did not). */
interface PluginRun { stdout: Buffer, stderr: Buffer, failure: string | undefined }

async function spawnPlugin (path: string, env: NodeJS.ProcessEnv, stdin: Uint8Array): Promise<PluginRun> {
  const { spawn } = await import('node:child_process')
  return await new Promise(resolve => {
    const out: Buffer[] = []
    const err: Buffer[] = []
    let settled = false
    const finish = (failure?: string): void => {
      if (settled) return
      settled = true
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), failure })
    }
    // Could not start it: Go says "fork/exec <path>: <errno text>".
    const startFailed = (e: NodeJS.ErrnoException): void => {
      const text = (e.code !== undefined ? GO_EXEC_ERRNO_TEXT[e.code] : undefined) ??
        (typeof e.errno === 'number' ? errnoInfo(e.errno).text : e.message)
      finish(`fork/exec ${path}: ${text}`)
    }
    let child
    try {
      // Some exec errors (ETXTBSY) are thrown here, others come as 'error'.
      child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    } catch (e) {
      startFailed(e as NodeJS.ErrnoException)
      return
    }
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', startFailed)
    child.on('close', (code, signal) => {
      if (signal !== null) finish(`signal: ${SIGNAL_TEXT[signal] ?? signal}`)
      else finish(code === 0 ? undefined : `exit status ${code ?? -1}`)
    })
    // A plugin may exit without reading all of stdin.
    child.stdin.on('error', () => {})
    child.stdin.end(stdin)
  })
}

/** Go's RawExec.pluginErr. */
function pluginError (failure: string, stdout: Buffer, stderr: Buffer): CniError {
  if (stdout.length === 0) {
    if (stderr.length === 0) return new CniError(ErrUnknown, `netplugin failed with no error message: ${failure}`)
    return new CniError(ErrUnknown, `netplugin failed: ${goQuote(stderr.toString('utf8'))}: ${failure}`)
  }
  const text = stdout.toString('utf8')
  let why: string
  try {
    const v: unknown = JSON.parse(text)
    if (isObject(v)) {
      const code = v.code ?? 0
      const msg = v.msg ?? ''
      const details = v.details ?? ''
      if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && typeof msg === 'string' && typeof details === 'string') {
        return new CniError(code, msg, details)
      }
      why = `code, msg and details must be an unsigned integer and strings (got ${jsonTypeName(code)}, ${jsonTypeName(msg)}, ${jsonTypeName(details)})`
    } else {
      why = `expected an object, got ${jsonTypeName(v)}`
    }
  } catch (err) {
    why = (err as Error).message
  }
  return new CniError(ErrUnknown, `netplugin failed but error parsing its diagnostic message ${goQuote(text)}: ${why}`)
}

/**
 * A successful plugin's stdout as a result: a missing or empty cniVersion is
 * the config's (cni#895), then parsed in that version and converted to 1.1.0.
 */
export function parseDelegateResult (stdout: Uint8Array, stdin: Uint8Array): Result {
  const confVersion = configVersion(parseConfigJSON(stdin))
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(stdout.buffer, stdout.byteOffset, stdout.byteLength).toString('utf8'))
  } catch (err) {
    throw new Error(`failed to unmarshal raw result: ${stdout.length === 0 ? 'unexpected end of JSON input' : (err as Error).message}`)
  }
  if (raw === null) raw = {}
  if (!isObject(raw)) throw new Error(`failed to unmarshal raw result: expected an object, got ${jsonTypeName(raw)}`)
  let version = raw.cniVersion
  if (typeof version !== 'string' || version === '') {
    version = confVersion
    raw = { ...raw, cniVersion: confVersion }
  }
  return toResult(parseResult(raw, version as string))
}

/** The delegation options of a plugin command: its stderr and its caller. */
export function delegateOptionsOf (ctx: { stderr: (text: string) => void, caller: Caller }): DelegateOptions {
  return { stderr: ctx.stderr, caller: ctx.caller }
}

/** Finds `type` on the env's CNI_PATH and runs `command` on it. */
export async function delegate (command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS', type: string, stdin: Uint8Array, env: NodeJS.ProcessEnv, options?: DelegateOptions): Promise<Buffer> {
  const path = findInPath(type, splitPath(env.CNI_PATH ?? ''), options?.caller)
  return await execPlugin(path, command, stdin, env, options)
}

/** IPAM ADD: the delegate's result as a 1.1.0 result. */
export async function delegateAdd (type: string, stdin: Uint8Array, env: NodeJS.ProcessEnv, options?: DelegateOptions): Promise<Result> {
  return parseDelegateResult(await delegate('ADD', type, stdin, env, options), stdin)
}

export async function delegateDel (type: string, stdin: Uint8Array, env: NodeJS.ProcessEnv, options?: DelegateOptions): Promise<void> {
  await delegate('DEL', type, stdin, env, options)
}

export async function delegateCheck (type: string, stdin: Uint8Array, env: NodeJS.ProcessEnv, options?: DelegateOptions): Promise<void> {
  await delegate('CHECK', type, stdin, env, options)
}

export async function delegateGC (type: string, stdin: Uint8Array, env: NodeJS.ProcessEnv, options?: DelegateOptions): Promise<void> {
  await delegate('GC', type, stdin, env, options)
}

export async function delegateStatus (type: string, stdin: Uint8Array, env: NodeJS.ProcessEnv, options?: DelegateOptions): Promise<void> {
  await delegate('STATUS', type, stdin, env, options)
}

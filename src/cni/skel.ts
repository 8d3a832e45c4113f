// The plugin skeleton: reads the CNI_* environment and the stdin config,
// checks them in the Go skel's order (pkg/skel), calls the plugin's command
// and prints its result or error the way the Go plugins print them.
//
// Every plugin start loads this module, so its import graph stays small:
// no zod, no koffi, no netlink socket; only node:fs and the spec modules.
//
// Logging: `ctx.log.{error,warn,info,debug}` writes one line per message to
// stderr (never stdout, which carries the result), or appends it to the file
// named by the config key `"logFile"` instead. `"logLevel"` ("error", "warn",
// "info", "debug"; default "warn") sets the least severe level written. With
// a logFile, an error result is also logged there. TRACEPARENT and
// TRACESTATE from the environment go on every line (traceFields).
import { appendFileSync, fstatSync, readSync, writeSync } from 'node:fs'
import { CniError, ErrInvalidEnvironmentVariables, ErrInvalidNetNS, ErrIOFailure, invalidConfig, toCniError } from './errors.js'
import { readCniEnv, type CniCommand } from './env.js'
import { checkCommandAllowed, checkVersionSupported, SUPPORTED_VERSIONS, versionOutput } from './version.js'
import { checkBaseFields, checkNetworkName, configVersion, parseConfigJSON } from './config.js'
import { convertResult, formatResult, parsePrevResult, type AnyResult, type Result } from './result.js'
import { fieldCI, marshalIndent, type JSONObject } from './json.js'
import { LOCAL_CALLER, isCallerNetns, type Caller } from './caller.js'

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'

export interface Logger {
  error (msg: string): void
  warn (msg: string): void
  info (msg: string): void
  debug (msg: string): void
}

/** What a plugin command gets. */
export interface PluginContext {
  command: CniCommand
  /** CNI_CONTAINERID ("" for GC and STATUS). */
  containerId: string
  /** CNI_NETNS; "" when not given (DEL may come without one). */
  netns: string
  ifname: string
  /** CNI_ARGS, raw (parse it with args.ts). */
  cniArgs: string
  /** CNI_PATH entries. */
  path: string[]
  /** The exact stdin bytes (what a delegated IPAM plugin must receive). */
  stdin: Buffer
  /** The parsed config; name and cniVersion checked, everything else as given. */
  config: JSONObject
  /** The network name. */
  name: string
  /** The config's cniVersion ("0.1.0" when absent); the result is printed in it. */
  cniVersion: string
  /**
   * `prevResult` parsed with the config's version and converted to 1.1.0;
   * undefined when absent or null. Parsed on first access (a plugin that never
   * reads it, like Go's host-local, is not failed by a broken one): a bad one
   * throws CniError 7 `failed to parse prevResult: …`.
   */
  readonly prevResult: Result | undefined
  /** The whole environment of the invocation (delegation passes it on). */
  env: NodeJS.ProcessEnv
  log: Logger
  /** Where a delegated plugin's stderr is copied. */
  stderr: (text: string) => void
  /** Whose namespaces and paths the command acts in (LOCAL_CALLER when exec'd). */
  caller: Caller
}

export interface Plugin {
  /** The plugin type, e.g. "bridge" (used in logs and the about text). */
  name: string
  /** Printed (with the versions) on stderr when CNI_COMMAND is unset. Default `CNI <name> plugin (tscni)`. */
  about?: string
  /** Supported spec versions; default all (version.ts SUPPORTED_VERSIONS). */
  versions?: readonly string[]
  /** Returns the result in any version (a 1.1 Result usually); it is printed converted to the config's version. */
  add (ctx: PluginContext): Promise<AnyResult>
  del (ctx: PluginContext): Promise<void>
  /** Absent → CHECK succeeds without doing anything (as in Go). */
  check? (ctx: PluginContext): Promise<void>
  gc? (ctx: PluginContext): Promise<void>
  status? (ctx: PluginContext): Promise<void>
}

/** Where runPluginWith reads and writes. */
export interface PluginIO {
  env: NodeJS.ProcessEnv
  /** The stdin bytes, or a function reading them (its throw becomes error 5). */
  stdin: Uint8Array | string | (() => Uint8Array)
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** The caller, when not this process (the agent serves another one). Default LOCAL_CALLER. */
  caller?: Caller | undefined
  /**
   * Whether a bad environment may read stdin to put the config's version in
   * its error (default true). False when stdin is a terminal: a person
   * trying the binary by hand gets the error at once.
   */
  readStdinForErrors?: boolean
}

const COMMANDS: readonly string[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS']

/**
 * The plugin's main: runs one CNI command for this process (env, fd 0, fd 1,
 * fd 2) and exits with 0 or 1. Pass `{ exit: false }` to only set
 * process.exitCode, `exitWith` to end the process another way (exit.ts).
 */
export async function runPlugin (plugin: Plugin, options: { exit?: boolean, exitWith?: (code: number) => never } = {}): Promise<number> {
  const code = await runPluginWith(plugin, {
    env: process.env,
    stdin: readAllStdin,
    readStdinForErrors: !stdinIsCharacterDevice(),
    stdout: text => writeAll(1, text),
    stderr: text => writeAll(2, text)
  })
  process.exitCode = code
  if (options.exit !== false) {
    if (options.exitWith !== undefined) options.exitWith(code)
    process.exit(code)
  }
  return code
}

/**
 * Runs one CNI command with the given environment and streams, in process
 * (tests, and in-process delegation). Returns the exit code: 0, or 1 after
 * printing the error JSON. Never throws.
 */
export async function runPluginWith (plugin: Plugin, io: PluginIO): Promise<number> {
  const versions = plugin.versions ?? SUPPORTED_VERSIONS
  let errorVersion: string | undefined
  let log: Logger | undefined
  // stdin is read once: early when the environment is bad (only to put the
  // config's version in that error), else where the Go skel reads it.
  let stdinRead: { bytes: Buffer } | { error: unknown } | undefined
  const readStdin = (): Buffer => {
    if (stdinRead === undefined) {
      try {
        const s = typeof io.stdin === 'function' ? io.stdin() : io.stdin
        stdinRead = { bytes: typeof s === 'string' ? Buffer.from(s) : Buffer.isBuffer(s) ? s : Buffer.from(s.buffer, s.byteOffset, s.byteLength) }
      } catch (err) {
        stdinRead = { error: err }
      }
    }
    if ('error' in stdinRead) throw new CniError(ErrIOFailure, `error reading from stdin: ${(stdinRead.error as Error).message}`)
    return stdinRead.bytes
  }
  try {
    let cni
    try {
      cni = readCniEnv(io.env)
    } catch (err) {
      if (err instanceof CniError && err.code === ErrInvalidEnvironmentVariables && (io.env.CNI_COMMAND ?? '') === '') {
        io.stderr(`${plugin.about ?? `CNI ${plugin.name} plugin (tscni)`}\nCNI protocol versions supported: ${versions.join(', ')}\n`)
        return 0
      }
      // The Go skel's order stays (the environment is judged before the
      // config); only the error carries the config's version when stdin
      // holds one.
      try {
        if (io.readStdinForErrors !== false) errorVersion = versionForErrors(parseConfigJSON(readStdin()))
      } catch {
        // Unreadable or not a config: the error goes out without a version.
      }
      throw err
    }
    const command = cni.command
    if (command === 'VERSION') {
      // The config is not read at all (Go does not read stdin for VERSION).
      io.stdout(versionOutput(versions))
      return 0
    }

    const stdin = readStdin()
    const config = parseConfigJSON(stdin)
    // From here on every error carries the config's version (also a bad name or an unknown command).
    errorVersion = versionForErrors(config)
    const name = checkNetworkName(config)
    if (!COMMANDS.includes(command)) throw new CniError(ErrInvalidEnvironmentVariables, `unknown CNI_COMMAND: ${command}`)
    const cniVersion = configVersion(config)
    errorVersion = cniVersion
    checkCommandAllowed(command, cniVersion, versions)
    checkVersionSupported(cniVersion, versions)
    checkBaseFields(config)

    const caller = io.caller ?? LOCAL_CALLER
    log = makeLogger(plugin.name, command, cni.containerId, config, io.stderr, caller, io.env)
    // Refuse our own namespace before touching anything (Go checks only after the ADD/DEL ran).
    if ((command === 'ADD' || command === 'DEL') && !cni.netnsOverride && isCallerNetns(caller, cni.netns)) {
      throw new CniError(ErrInvalidNetNS, "plugin's netns and netns from CNI_NETNS should not be the same")
    }

    const ctx = makeContext(command as CniCommand, cni, stdin, config, name, cniVersion, io, log, caller)
    switch (command) {
      case 'ADD': {
        const result = await plugin.add(ctx)
        io.stdout(formatResult(convertResult(result, cniVersion)))
        break
      }
      case 'DEL': await plugin.del(ctx); break
      case 'CHECK': await plugin.check?.(ctx); break
      case 'GC': await plugin.gc?.(ctx); break
      case 'STATUS': await plugin.status?.(ctx); break
    }
    return 0
  } catch (err) {
    const e = toCniError(err)
    if (log !== undefined && logsToFile(log)) log.error(`${e.code}: ${e.message}`)
    io.stdout(marshalIndent(e.toJSON(errorVersion)))
    return 1
  }
}

/**
 * The version an error result carries for a parsed config: its cniVersion
 * when that is a string ("0.1.0" when absent, null or "", as the skel reads
 * it), none when it is of another type (that is itself error 6).
 */
function versionForErrors (config: JSONObject): string | undefined {
  const v = fieldCI(config, 'cniVersion')
  if (v === undefined || v === null || v === '') return configVersion(config)
  return typeof v === 'string' ? v : undefined
}

/**
 * An in-process stand-in for exec'ing the plugin: takes the env and stdin a
 * child would get, returns what it would print and its exit code (the shape
 * invoke.ts's registerInProcessPlugin expects).
 */
export function pluginHandler (plugin: Plugin): (req: { env: NodeJS.ProcessEnv, stdin: Uint8Array, stderr: (text: string) => void, caller?: Caller | undefined }) => Promise<{ exitCode: number, stdout: string }> {
  return async (req) => {
    let stdout = ''
    const exitCode = await runPluginWith(plugin, {
      env: req.env,
      stdin: req.stdin,
      stdout: t => { stdout += t },
      stderr: req.stderr,
      caller: req.caller
    })
    return { exitCode, stdout }
  }
}

function makeContext (command: CniCommand, cni: ReturnType<typeof readCniEnv>, stdin: Buffer, config: JSONObject,
  name: string, cniVersion: string, io: PluginIO, log: Logger, caller: Caller): PluginContext {
  let parsed = false
  let prev: Result | undefined
  return {
    command,
    containerId: cni.containerId,
    netns: cni.netns,
    ifname: cni.ifname,
    cniArgs: cni.args,
    path: cni.paths,
    stdin,
    config,
    name,
    cniVersion,
    get prevResult (): Result | undefined {
      if (!parsed) {
        const raw = fieldCI(config, 'prevResult')
        if (raw !== undefined && raw !== null) {
          try {
            prev = parsePrevResult(raw, cniVersion)
          } catch (err) {
            throw invalidConfig(`failed to parse prevResult: ${(err as Error).message}`)
          }
        }
        parsed = true
      }
      return prev
    },
    env: io.env,
    log,
    stderr: io.stderr,
    caller
  }
}

/**
 * True when `path` names the namespace this thread is in: same device and
 * inode as /proc/thread-self/ns/net (what `NetNamespace.sameAs` compares,
 * without opening anything or loading koffi). An empty or unreadable path is
 * not ours: the plugin reports it in its own words.
 */
export function isOwnNetns (path: string): boolean {
  return isCallerNetns(LOCAL_CALLER, path)
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }

function makeLogger (plugin: string, command: string, containerId: string, config: JSONObject, stderr: (text: string) => void, caller: Caller, env: NodeJS.ProcessEnv): Logger {
  const logFile = fieldCI(config, 'logFile')
  const file = typeof logFile === 'string' && logFile !== '' ? caller.path(logFile) : logFile
  const levelName = fieldCI(config, 'logLevel')
  const max = typeof levelName === 'string' && levelName.toLowerCase() in LEVELS ? LEVELS[levelName.toLowerCase() as LogLevel] : LEVELS.warn
  // The runtime's trace context (TRACEPARENT/TRACESTATE) on every line of this call.
  const where = `${plugin}[${command}${containerId === '' ? '' : ' ' + containerId}]${traceFields(env)}`
  const write = (level: LogLevel, msg: string): void => {
    if (LEVELS[level] > max) return
    const line = `${new Date().toISOString()} ${where} ${level}: ${msg}\n`
    if (typeof file === 'string' && file !== '') {
      try {
        appendFileSync(file, line)
        return
      } catch {
        // Fall back to stderr: a log line must never fail the command.
      }
    }
    stderr(line)
  }
  const logger: Logger = {
    error: msg => write('error', msg),
    warn: msg => write('warn', msg),
    info: msg => write('info', msg),
    debug: msg => write('debug', msg)
  }
  if (typeof file === 'string' && file !== '') FILE_LOGGERS.add(logger)
  return logger
}

/**
 * ` traceparent=… tracestate=…` for the log prefix: the W3C trace context
 * libcni passes in the environment (cni#561); '' when it has none. Values
 * lose spaces and control characters and are cut at 512 characters, so one
 * line stays one line. (Here rather than in trace.ts: every start loads it.)
 */
export function traceFields (env: NodeJS.ProcessEnv): string {
  // eslint-disable-next-line no-control-regex
  const clean = (v: string): string => v.replace(/[\u0000-\u0020\u007f]/g, '').slice(0, 512)
  let out = ''
  if (env.TRACEPARENT !== undefined && env.TRACEPARENT !== '') out += ` traceparent=${clean(env.TRACEPARENT)}`
  if (env.TRACESTATE !== undefined && env.TRACESTATE !== '') out += ` tracestate=${clean(env.TRACESTATE)}`
  return out
}

const FILE_LOGGERS = new WeakSet<Logger>()
function logsToFile (log: Logger): boolean { return FILE_LOGGERS.has(log) }

function stdinIsCharacterDevice (): boolean {
  try {
    return fstatSync(0).isCharacterDevice()
  } catch {
    return false
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4))
function sleepMs (ms: number): void { Atomics.wait(pause, 0, 0, ms) }

/**
 * All of fd 0. Not readFileSync(0): on a non-blocking pipe it throws EAGAIN
 * and loses what it had read; here EAGAIN waits briefly and reads on.
 */
function readAllStdin (): Buffer {
  const chunks: Buffer[] = []
  for (;;) {
    const buf = Buffer.allocUnsafe(65536)
    let n: number
    try {
      n = readSync(0, buf, 0, buf.length, null)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
      sleepMs(2)
      continue
    }
    if (n === 0) return Buffer.concat(chunks)
    chunks.push(buf.subarray(0, n))
  }
}

// stdout/stderr may be non-blocking pipes: retry EAGAIN until all is written.
function writeAll (fd: number, text: string): void {
  const buf = Buffer.from(text)
  let off = 0
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
      sleepMs(1)
    }
  }
}


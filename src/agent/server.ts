// The agent: a long-lived process that serves CNI calls warm. The native
// client a runtime execs (client/tscni-client.c) forwards its plugin name,
// environment and stdin here; the agent runs the plugin in process with the
// exec path's code (runPluginWith), as the caller (src/agent/caller.ts), and
// sends back stdout, stderr and the exit code.
//
// Limits, so that no request blocks another or the agent: a request must
// arrive whole within `readTimeoutMs` and be at most MAX_REQUEST bytes (a
// larger one is read to its end and answered "fallback": the exec path takes
// any size); at most `maxInFlight` run at once, the rest wait in order;
// requests for the same attachment (CNI_CONTAINERID + CNI_IFNAME) run one
// after the other, so a DEL never overtakes the ADD it undoes; a request
// that outlives `requestTimeoutMs` is answered with error 11 while its work
// finishes (still holding its attachment's turn).
import { chmodSync, mkdirSync, statSync, unlinkSync, appendFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { runPluginWith, pluginHandler, type Plugin } from '../cni/skel.js'
import { registerInProcessPlugin, findInPath, runsInProcess } from '../cni/invoke.js'
import { CniError, ErrTryAgainLater } from '../cni/errors.js'
import { marshalIndent, fieldCI, isObject } from '../cni/json.js'
import { splitPath } from '../cni/env.js'
import { peerCredentials, peerPidfd } from '../netlink/libc.js'
import { bridge } from '../plugins/bridge/index.js'
import { keepOwnNamespaceSockets } from '../plugins/bridge/session.js'
import { loopback } from '../plugins/loopback/index.js'
import { hostLocal } from '../plugins/host-local/index.js'
import { openCaller, closeFd, type AgentCaller } from './caller.js'
import { Watcher } from './watch.js'
import { isListening } from './client.js'
import { attachmentsDir } from '../plugins/bridge/attachments.js'
import { NetNamespace } from '../netlink/netns.js'
import { MAX_REQUEST, PROTOCOL, STATUS_PLUGIN, encodeFallback, encodeReply, parseRequest, type AgentRequest } from './protocol.js'

export const DEFAULT_SOCKET = '/run/tscni/agent.sock'

export type AgentLogLevel = 'error' | 'warn' | 'info' | 'debug'
const LEVELS: Record<AgentLogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }

export interface AgentOptions {
  socket?: string
  /** Log lines go here (appended), else to stderr. */
  logFile?: string | undefined
  logLevel?: AgentLogLevel
  maxInFlight?: number
  /** Connections open at once (reading, waiting or running); more are closed at once. */
  maxConnections?: number
  readTimeoutMs?: number
  requestTimeoutMs?: number
}

export const PLUGINS: Readonly<Record<string, Plugin>> = { bridge, loopback, 'host-local': hostLocal }

interface Counters {
  served: Record<string, Record<string, number>>
  fallbacks: number
  refused: number
  errors: number
  malformed: number
  timeouts: number
}

export class Agent {
  readonly socketPath: string
  private readonly options: Required<Omit<AgentOptions, 'logFile' | 'socket'>> & Pick<AgentOptions, 'logFile'>
  private server: Server | undefined
  private readonly started = Date.now()
  private inFlight = 0
  private readonly waiting: Array<() => void> = []
  private readonly attachments = new Map<string, Promise<void>>()
  private readonly running = new Set<Promise<void>>()
  private readonly counters: Counters = { served: {}, fallbacks: 0, refused: 0, errors: 0, malformed: 0, timeouts: 0 }
  private stopping: Promise<void> | undefined
  /** Self-healing: the hosts with live bridge attachments, watched for deleted rules and changed bridges. */
  private readonly watcher = new Watcher((level, msg) => { this.log(level, msg) })

  constructor (options: AgentOptions = {}) {
    this.socketPath = options.socket ?? DEFAULT_SOCKET
    this.options = {
      logLevel: options.logLevel ?? 'info',
      maxInFlight: options.maxInFlight ?? 64,
      maxConnections: options.maxConnections ?? 1024,
      readTimeoutMs: options.readTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
      logFile: options.logFile
    }
    // Our own host-local, found on CNI_PATH, runs in process (as in the exec'd bridge).
    registerInProcessPlugin('host-local', pluginHandler(hostLocal))
  }

  log (level: AgentLogLevel, msg: string): void {
    if (LEVELS[level] > LEVELS[this.options.logLevel]) return
    const line = `${new Date().toISOString()} tscni-agent ${level}: ${msg}\n`
    if (this.options.logFile !== undefined) {
      try {
        appendFileSync(this.options.logFile, line)
        return
      } catch {}
    }
    process.stderr.write(line)
  }

  /** Listens on the socket: its directory 0700, the socket 0600. Refuses to replace a live agent's socket. */
  async start (): Promise<void> {
    const dir = dirname(this.socketPath)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (statSync(dir).uid === process.getuid?.()) chmodSync(dir, 0o700)
    if (await isListening(this.socketPath)) throw new Error(`an agent already serves ${this.socketPath}`)
    try { unlinkSync(this.socketPath) } catch {}
    const server = createServer({ allowHalfOpen: true }, socket => { this.accept(socket) })
    server.maxConnections = this.options.maxConnections
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.socketPath, () => { server.off('error', reject); resolve() })
    })
    chmodSync(this.socketPath, 0o600)
    this.server = server
    // Host-side rtnetlink sockets of our own namespace (our callers' usually) stay open between requests.
    keepOwnNamespaceSockets(8)
    this.log('info', `serving ${Object.keys(PLUGINS).join(', ')} on ${this.socketPath} (protocol ${PROTOCOL}, pid ${process.pid})`)
    // Attachments made before this start (an agent restart): watch them again.
    this.watcher.watch(undefined, attachmentsDir(process.env), 'the agent\'s namespace')
  }

  /** Stops taking connections, waits for the requests in flight, removes the socket. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      const server = this.server
      if (server !== undefined) await new Promise<void>(resolve => server.close(() => { resolve() }))
      while (this.running.size > 0) await Promise.allSettled([...this.running])
      this.watcher.close()
      keepOwnNamespaceSockets(0)
      try { unlinkSync(this.socketPath) } catch {}
      this.log('info', 'stopped')
    })()
    await this.stopping
  }

  status (): Record<string, unknown> {
    return {
      pid: process.pid,
      protocol: PROTOCOL,
      socket: this.socketPath,
      uptimeSeconds: Math.round((Date.now() - this.started) / 100) / 10,
      rssBytes: process.memoryUsage.rss(),
      inFlight: this.inFlight,
      waiting: this.waiting.length,
      served: this.counters.served,
      fallbacks: this.counters.fallbacks,
      refused: this.counters.refused,
      errors: this.counters.errors,
      malformed: this.counters.malformed,
      timeouts: this.counters.timeouts,
      watch: this.watcher.counters
    }
  }

  private accept (socket: Socket): void {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const timer = setTimeout(() => {
      done = true
      this.counters.malformed++
      this.log('warn', `dropped a connection that sent no whole request within ${this.options.readTimeoutMs} ms`)
      socket.destroy()
    }, this.options.readTimeoutMs)
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => {
      size += d.length
      if (size <= MAX_REQUEST) chunks.push(d) // past the limit: read on to the end, keep nothing
    })
    socket.on('end', () => {
      clearTimeout(timer)
      if (done) return
      done = true
      const track = this.handle(socket, size > MAX_REQUEST ? undefined : Buffer.concat(chunks, size))
        .catch((err: unknown) => { this.log('error', `request failed: ${(err as Error).stack ?? String(err)}`) })
        .finally(() => { this.running.delete(track); if (!socket.destroyed) socket.end() })
      this.running.add(track)
    })
    socket.on('close', () => { clearTimeout(timer) })
  }

  private fallback (socket: Socket, why: string): void {
    this.counters.fallbacks++
    this.log('debug', `fallback: ${why}`)
    socket.end(encodeFallback(why))
  }

  private async handle (socket: Socket, data: Buffer | undefined): Promise<void> {
    if (data === undefined) { this.fallback(socket, `request larger than ${MAX_REQUEST} bytes`); return }
    if (data.length === 0) return // a probe (connect and close): nothing to answer
    // Who is asking: root only.
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd
    if (fd === undefined || fd < 0) { socket.destroy(); return }
    const cred = peerCredentials(fd)
    if (cred.uid !== 0) {
      this.counters.refused++
      this.log('warn', `refused a request of uid ${cred.uid} (pid ${cred.pid}): only root is served`)
      socket.end(encodeFallback('only root is served'))
      return
    }
    const parsed = parseRequest(data)
    if (!parsed.ok) {
      this.counters.malformed++
      this.log('warn', `pid ${cred.pid}: ${parsed.why}`)
      socket.end(encodeFallback(parsed.why))
      return
    }
    const req = parsed.request
    if (req.plugin === STATUS_PLUGIN) { socket.end(encodeReply(0, JSON.stringify(this.status()) + '\n', '')); return }
    const plugin = PLUGINS[req.plugin]
    if (plugin === undefined) { this.fallback(socket, `no plugin ${JSON.stringify(req.plugin)} in the agent`); return }

    const pidfd = peerPidfd(fd)
    let caller: AgentCaller
    try {
      caller = openCaller(cred.pid, pidfd)
    } catch (err) {
      // The caller is gone (or its /proc is not readable): nobody to answer.
      this.log('warn', `pid ${cred.pid}: ${(err as Error).message}`)
      socket.destroy()
      return
    } finally {
      closeFd(pidfd)
    }
    try {
      const why = this.cannotServe(req, caller)
      if (why !== undefined) { this.fallback(socket, why); return }
      await this.run(socket, plugin, req, caller)
    } finally {
      caller.close()
    }
  }

  /** Why the agent cannot do the whole request in process (a delegated IPAM plugin that is not ours), or undefined. */
  private cannotServe (req: AgentRequest, caller: AgentCaller): string | undefined {
    if (req.plugin !== 'bridge') return undefined
    let type: unknown
    try {
      const conf: unknown = JSON.parse(req.stdin.toString('utf8'))
      const ipam = isObject(conf) ? fieldCI(conf, 'ipam') : undefined
      type = isObject(ipam) ? fieldCI(ipam, 'type') : undefined
    } catch {
      return undefined // the plugin reports the bad config
    }
    if (typeof type !== 'string' || type === '') return undefined
    let path: string
    try {
      path = findInPath(type, splitPath(req.env.CNI_PATH ?? ''), caller)
    } catch {
      return undefined // not found: the plugin reports it as the exec path would
    }
    return runsInProcess(caller.path(path)) ? undefined : `IPAM plugin ${path} is not ours`
  }

  private async run (socket: Socket, plugin: Plugin, req: AgentRequest, caller: AgentCaller): Promise<void> {
    const command = req.env.CNI_COMMAND ?? ''
    const key = command === 'ADD' || command === 'DEL' || command === 'CHECK' ? `${req.env.CNI_CONTAINERID ?? ''}\0${req.env.CNI_IFNAME ?? ''}` : undefined
    // One request per attachment at a time, in arrival order.
    const before = key !== undefined ? this.attachments.get(key) : undefined
    let release!: () => void
    const turn = new Promise<void>(resolve => { release = resolve })
    if (key !== undefined) this.attachments.set(key, turn)
    try {
      if (before !== undefined) await before
      await this.slot()
      try {
        let stdout = ''
        let stderr = ''
        const work = runPluginWith(plugin, { env: req.env, stdin: req.stdin, stdout: t => { stdout += t }, stderr: t => { stderr += t }, caller })
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, this.options.requestTimeoutMs) })
        const outcome = await Promise.race([work, timeout])
        if (outcome === 'timeout') {
          this.counters.timeouts++
          this.log('error', `${plugin.name} ${command} ${req.env.CNI_CONTAINERID ?? ''} outlived ${this.options.requestTimeoutMs} ms; answered error 11, the work goes on`)
          const err = new CniError(ErrTryAgainLater, `the tscni agent did not finish ${plugin.name} ${command} within ${this.options.requestTimeoutMs} ms`, 'the request goes on in the agent; a DEL undoes what it made')
          socket.end(encodeReply(1, marshalIndent(err.toJSON(cniVersionOf(req.stdin))), ''))
          await work
          return
        }
        clearTimeout(timer)
        this.count(plugin.name, command, outcome)
        if (plugin === bridge && outcome === 0 && (command === 'ADD' || command === 'DEL')) this.watchHost(caller, req, command)
        socket.end(encodeReply(outcome, stdout, stderr))
      } finally {
        this.release()
      }
    } finally {
      release()
      if (key !== undefined && this.attachments.get(key) === turn) this.attachments.delete(key)
    }
  }

  /**
   * After a bridge ADD: the caller's host is watched (from now on, while it
   * has live attachments). After a DEL: a watched host with nothing left is
   * let go. Done before the answer, while the caller's /proc entries exist.
   */
  private watchHost (caller: AgentCaller, req: AgentRequest, command: string): void {
    try {
      const describe = caller.netns === undefined ? 'the agent\'s namespace' : `the namespace of pid ${caller.pid} (net ${caller.netns.id()})`
      if (command === 'DEL') { this.watcher.recheck(caller.netns?.id(), caller.path(attachmentsDir(req.env))); return }
      // A handle of its own, through ours (the caller may be gone by now).
      const netns = caller.netns === undefined ? undefined : NetNamespace.open(`/proc/self/fd/${caller.netns.fd}`, caller.netns.path)
      this.watcher.watch(netns, caller.path(attachmentsDir(req.env)), describe)
    } catch (err) {
      this.log('warn', `watching the caller's attachments: ${(err as Error).message}`)
    }
  }

  private count (plugin: string, command: string, exitCode: number): void {
    const byCommand = this.counters.served[plugin] ??= {}
    const name = command === '' ? 'none' : command
    byCommand[name] = (byCommand[name] ?? 0) + 1
    if (exitCode !== 0) this.counters.errors++
  }

  private async slot (): Promise<void> {
    if (this.inFlight < this.options.maxInFlight) { this.inFlight++; return }
    await new Promise<void>(resolve => { this.waiting.push(resolve) })
  }

  private release (): void {
    const next = this.waiting.shift()
    if (next !== undefined) next() // the slot passes on
    else this.inFlight--
  }
}

function cniVersionOf (stdin: Buffer): string | undefined {
  try {
    const conf: unknown = JSON.parse(stdin.toString('utf8'))
    const v = isObject(conf) ? fieldCI(conf, 'cniVersion') : undefined
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}

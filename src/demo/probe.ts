// Reachability probes between network namespaces, with no program but node.
//
// A NamespaceAgent is a worker thread that moves itself into one namespace
// before it opens any socket. setns(2) acts on the calling thread only, and a
// worker runs its own libuv loop on its own thread: every socket syscall of
// node:net (socket, bind, listen, connect, accept, read, write) happens on
// that loop thread, so the worker's TCP listeners and connections live in the
// namespace while the main thread stays where it was. (The worker never does
// name lookups: addresses are IP literals, which node does not send to the
// shared libuv thread pool.)
//
// A probe: the client sends a random token and a newline; the listener
// answers "<its label> <token>" and closes. The client checks both, so a
// reply from the wrong namespace (or a stale connection) cannot pass.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

export interface ProbeResult {
  ok: boolean
  /** The label of the listener that answered, when one did. */
  answeredBy?: string | undefined
  /** The client's source address as the connection used it. */
  localAddress?: string | undefined
  /** The client's address as the listener saw it (after any NAT on the way). */
  seenFrom?: string | undefined
  durationMs: number
  error?: string | undefined
}

interface Reply { id: number, ok: boolean, error?: string, [key: string]: unknown }

/** The worker's code: CommonJS run with eval, loading our libc module (setns) by URL. */
const WORKER_SOURCE = `
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const net = require('node:net')
const fs = require('node:fs')
const servers = []
const reply = (msg) => parentPort.postMessage(msg)

async function enter () {
  const { setns, CLONE_NEWNET } = await import(workerData.libcUrl)
  const fd = fs.openSync(workerData.nsPath, 'r')
  try { setns(fd, CLONE_NEWNET, 'into ' + workerData.nsPath) } finally { fs.closeSync(fd) }
  return fs.readlinkSync('/proc/thread-self/ns/net')
}

function listen (msg) {
  const server = net.createServer((sock) => {
    let got = ''
    sock.setTimeout(5000, () => sock.destroy())
    sock.on('error', () => {})
    sock.on('data', (d) => {
      got += d.toString('latin1')
      const nl = got.indexOf('\\n')
      // label, token, and the client's address as seen here, tab-separated.
      if (nl >= 0) sock.end(workerData.label + '\\t' + got.slice(0, nl) + '\\t' + sock.remoteAddress + '\\n')
    })
  })
  server.on('error', (err) => reply({ id: msg.id, ok: false, error: String(err && err.message) }))
  server.listen({ port: msg.port, host: msg.host, exclusive: true }, () => {
    servers.push(server)
    const a = server.address()
    reply({ id: msg.id, ok: true, address: a.address, port: a.port })
  })
}

function connect (msg) {
  const started = performance.now()
  let done = false
  let got = ''
  const finish = (ok, extra) => {
    if (done) return
    done = true
    clearTimeout(timer)
    sock.destroy()
    reply({ id: msg.id, ok, durationMs: performance.now() - started, ...extra })
  }
  const sock = net.connect({ host: msg.host, port: msg.port, family: msg.host.includes(':') ? 6 : 4 })
  const timer = setTimeout(() => finish(false, { error: 'no answer within ' + msg.timeoutMs + ' ms' }), msg.timeoutMs)
  let localAddress
  sock.on('connect', () => { localAddress = sock.localAddress; sock.write(msg.token + '\\n') })
  sock.on('data', (d) => { got += d.toString('latin1') })
  sock.on('error', (err) => finish(false, { error: (err.code ? err.code + ': ' : '') + err.message, localAddress }))
  sock.on('close', () => {
    const line = got.trim()
    const [label, token, seenFrom] = line.split('\\t')
    if (token !== msg.token) finish(false, { error: 'wrong or no answer: ' + JSON.stringify(line.slice(0, 100)), localAddress, answeredBy: label })
    else finish(true, { answeredBy: label, localAddress, seenFrom })
  })
}

enter().then((ns) => {
  reply({ id: 0, ok: true, ns })
  parentPort.on('message', (msg) => {
    if (msg.op === 'listen') listen(msg)
    else if (msg.op === 'connect') connect(msg)
    else if (msg.op === 'close') {
      let left = servers.length
      if (left === 0) reply({ id: msg.id, ok: true })
      for (const s of servers) s.close(() => { if (--left === 0) reply({ id: msg.id, ok: true }) })
    }
  })
}, (err) => reply({ id: 0, ok: false, error: String(err && err.message) }))
`

/**
 * The URL of one of our compiled modules for the worker to import: the .js
 * beside this file, or, when this file runs as TypeScript source under a test
 * loader (which an eval'd worker does not get), its twin in dist/.
 */
function compiledModule (relativeJs: string): string {
  const js = new URL(relativeJs, import.meta.url)
  if (existsSync(fileURLToPath(js))) return js.href
  const built = new URL(`../../dist/${relativeJs.replace(/^\.\.\//, '')}`, import.meta.url)
  if (existsSync(fileURLToPath(built))) return built.href
  throw new Error(`${fileURLToPath(js)} is not built: run \`npm run build\``)
}

export class NamespaceAgent {
  /** What the listener answers with, e.g. the pod's name. */
  readonly label: string
  readonly nsPath: string
  /** The namespace the worker reports it is in ("net:[4026532…]"). */
  readonly namespaceId: string
  private readonly worker: Worker
  private readonly pending = new Map<number, (r: Reply) => void>()
  private nextId = 1
  private closed = false

  private constructor (worker: Worker, label: string, nsPath: string, namespaceId: string) {
    this.worker = worker
    this.label = label
    this.nsPath = nsPath
    this.namespaceId = namespaceId
    worker.on('message', (r: Reply) => {
      const resolve = this.pending.get(r.id)
      if (resolve !== undefined) {
        this.pending.delete(r.id)
        resolve(r)
      }
    })
    const failAll = (error: string): void => {
      for (const [id, resolve] of this.pending) resolve({ id, ok: false, error })
      this.pending.clear()
    }
    worker.on('error', err => { failAll(`agent ${label} failed: ${err.message}`) })
    worker.on('exit', () => { failAll(`agent ${label} exited`) })
  }

  /** Starts a worker that enters the namespace at nsPath (e.g. /var/run/netns/NAME). */
  static async start (nsPath: string, label: string): Promise<NamespaceAgent> {
    const libcUrl = compiledModule('../netlink/libc.js')
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { nsPath, label, libcUrl } })
    const first = await new Promise<Reply>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    if (!first.ok) {
      await worker.terminate()
      throw new Error(`cannot enter ${nsPath}: ${first.error ?? 'unknown error'}`)
    }
    return new NamespaceAgent(worker, label, nsPath, String(first.ns))
  }

  /** A TCP listener in the namespace answering probes; port 0 picks one. Resolves to the port. */
  async listen (port: number, host?: string): Promise<number> {
    const r = await this.request({ op: 'listen', port, host })
    if (!r.ok) throw new Error(`listen on ${host ?? '*'}:${port} in ${this.label}: ${r.error ?? ''}`)
    return r.port as number
  }

  /** Connects from the namespace to host:port and checks the answer. */
  async probe (host: string, port: number, timeoutMs = 3000): Promise<ProbeResult> {
    const token = randomBytes(8).toString('hex')
    const r = await this.request({ op: 'connect', host, port, timeoutMs, token })
    return {
      ok: r.ok,
      answeredBy: r.answeredBy as string | undefined,
      localAddress: r.localAddress as string | undefined,
      seenFrom: r.seenFrom as string | undefined,
      durationMs: (r.durationMs as number | undefined) ?? 0,
      error: r.error
    }
  }

  /** Closes the listeners and ends the worker (its sockets go with it). */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.race([this.request({ op: 'close' }), new Promise(resolve => setTimeout(resolve, 1000))])
    await this.worker.terminate()
  }

  private request (msg: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId++
    return new Promise(resolve => {
      if (this.closed && msg.op !== 'close') {
        resolve({ id, ok: false, error: `agent ${this.label} is closed` })
        return
      }
      this.pending.set(id, resolve)
      this.worker.postMessage({ ...msg, id })
    })
  }
}

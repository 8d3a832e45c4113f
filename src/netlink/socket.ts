// The request/response client: one netlink socket (the `netlink` package's
// RawNetlinkSocket), sequence numbers, replies matched by seq and port, ACKs,
// dumps collected until NLMSG_DONE (retried when interrupted), timeouts,
// several requests in flight, multicast delivery for event subscribers.
import { fstatSync, readdirSync } from 'node:fs'
import type { RawNetlinkSocket as RawSocketType, MessageInfo } from 'netlink/dist/raw.js'
import { NetlinkDecodeError, NetlinkError, NetlinkOverrunError, NetlinkTimeoutError, type OperationContext } from './errors.js'
import {
  NETLINK_ROUTE, NLMSG_DONE, NLMSG_ERROR, NLMSG_MIN_TYPE, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP_INTR,
  NLM_F_REQUEST, NLMSG_HDRLEN, decodeDoneErrno, decodeErrorMessage, messageLengthAt
} from './message.js'
import { align4, readU16, readU32 } from './attributes.js'
import { SOL_NETLINK, NETLINK_EXT_ACK } from './message.js'
import type { NetNamespace } from './netns.js'
import { loadKoffi, loadRawNetlinkSocket } from './native.js'



export const NETLINK_GET_STRICT_CHK = 12
export const NETLINK_CAP_ACK = 10
export const NETLINK_NO_ENOBUFS = 5
const SOL_SOCKET = 1
const SO_MEMINFO = 55
/** SK_MEMINFO_DROPS: the index of the drop counter in SO_MEMINFO's u32 array. */
const SK_MEMINFO_DROPS = 8
const SK_MEMINFO_VARS = 9


export interface NetlinkSocketOptions {
  /** Netlink protocol; NETLINK_ROUTE (0) by default. */
  protocol?: number | undefined
  /** Create the socket inside this namespace; every request then acts there. */
  namespace?: NetNamespace | undefined
  /** SO_RCVBUF in bytes (the kernel caps it at net.core.rmem_max). Default 1 MiB. */
  receiveBufferSize?: number | undefined
  /** Per-request timeout in ms (dumps: since the last message received). Default 10 s. */
  timeoutMs?: number | undefined
  /** Ask the kernel for extended acks (its error text). Costs loading koffi. */
  extendedAck?: boolean | undefined
  /** Strict checking, which lets dump requests carry filters. Costs loading koffi. */
  strictCheck?: boolean | undefined
  /**
   * NETLINK_NO_ENOBUFS: the kernel never reports a full receive queue as an
   * error (ENOBUFS, which the `netlink` addon turns into a process abort);
   * messages it drops are counted instead (drops()) and reported to the
   * onMulticast overrun handler. For event listeners. Costs loading koffi.
   */
  noEnobufs?: boolean | undefined
}

/** Turns one reply message into a value; undefined to skip it. */
export type ReplyDecoder<T> = (buf: Uint8Array, type: number, start: number, end: number) => T | undefined

type Visit = (buf: Uint8Array, type: number, flags: number, start: number, end: number) => void

interface Pending {
  /** Handles one message of this request; the request decides when it is done. */
  visit: Visit
  /**
   * Dumps: takes their data messages (type >= NLMSG_MIN_TYPE, no
   * NLM_F_DUMP_INTR) in visit's place, and leaves the request pending.
   */
  collect: ((buf: Uint8Array, type: number, start: number, end: number) => void) | undefined
  fail: (err: Error) => void
  timer: NodeJS.Timeout | undefined
  context: OperationContext
}

/** A multicast (event) message handler. */
export type MulticastHandler = (buf: Uint8Array, type: number, flags: number, start: number, end: number) => void

const MAX_DUMP_RETRIES = 5
// The kernel builds dump replies of at most 32 KiB; single messages can be larger.
const RECEIVE_MESSAGE_SIZE = 64 * 1024

export class NetlinkSocket {
  readonly port: number
  readonly namespaceName: string | undefined
  readonly timeoutMs: number
  private readonly raw: RawSocketType
  private seq = Math.floor(Math.random() * 0x7fffffff) >>> 0
  private readonly pending = new Map<number, Pending>()
  private multicast: MulticastHandler | undefined
  private overrun: ((err: NetlinkOverrunError) => void) | undefined
  private closed = false
  /** Our fd, found when a socket option had to be set. */
  private fd: number | undefined
  private droppedSeen = 0
  private dropCheckPending = false
  private dumpQueue: Promise<void> = Promise.resolve()

  private constructor (raw: RawSocketType, options: NetlinkSocketOptions) {
    this.raw = raw
    this.port = raw.address().port
    this.namespaceName = options.namespace?.path
    this.timeoutMs = options.timeoutMs ?? 10_000
    raw.on('message', (msg, info) => { this.receive(msg, info) })
    raw.on('truncatedMessage', (_msg, info) => {
      this.failAll(new NetlinkDecodeError(`a netlink message of ${info.truncated ?? '?'} bytes did not fit the ${RECEIVE_MESSAGE_SIZE}-byte receive buffer`, 0))
    })
    raw.on('error', (err) => {
      if (err.code === 'ENOBUFS') {
        const e = new NetlinkOverrunError(`netlink socket ${this.port}${this.where()}`)
        this.overrun?.(e)
        this.failAll(e)
      } else {
        this.failAll(err)
      }
    })
  }

  /** Opens a socket, inside options.namespace when given (synchronously, then back). */
  static open (options: NetlinkSocketOptions = {}): NetlinkSocket {
    const Raw = loadRawNetlinkSocket()
    const make = (): RawSocketType => new Raw(options.protocol ?? NETLINK_ROUTE, {
      messagePeeking: false,
      msgBufferSize: RECEIVE_MESSAGE_SIZE,
      recvBufferSize: options.receiveBufferSize ?? 1 << 20,
      sendBufferSize: 0
    })
    const wantOptions = options.extendedAck === true || options.strictCheck === true || options.noEnobufs === true
    // Our fds just before the socket is made: its fd is one of the new ones (fdOfNewSocket).
    let before: Set<string> | undefined
    const makeAndList = (): RawSocketType => {
      if (wantOptions) before = openFds()
      return make()
    }
    const raw = options.namespace !== undefined ? options.namespace.run(makeAndList) : makeAndList()
    const sock = new NetlinkSocket(raw, options)
    try {
      if (before !== undefined) {
        const fd = fdOfNewSocket(before, sock.port)
        sock.fd = fd
        if (options.extendedAck === true) sock.setOption(fd, NETLINK_EXT_ACK, 1)
        if (options.strictCheck === true) sock.setOption(fd, NETLINK_GET_STRICT_CHK, 1)
        if (options.noEnobufs === true) sock.setOption(fd, NETLINK_NO_ENOBUFS, 1)
      }
    } catch (err) {
      sock.close()
      throw err
    }
    return sock
  }

  private where (): string { return this.namespaceName !== undefined ? ` in ${this.namespaceName}` : '' }

  /** setsockopt(fd, SOL_NETLINK, opt, value) through koffi (loaded lazily). */
  private setOption (fd: number, opt: number, value: number): void {
    const koffi = loadKoffi()
    const setsockopt = koffi.load('libc.so.6').func('int setsockopt(int fd, int level, int opt, _In_ int *value, unsigned int len)')
    if (setsockopt(fd, SOL_NETLINK, opt, [value], 4) !== 0) {
      throw new NetlinkError(koffi.errno(), this.context(`setsockopt(SOL_NETLINK, ${opt})`))
    }
  }

  /**
   * How many messages the kernel dropped because our receive queue was full
   * (SO_MEMINFO's drop counter); undefined when the socket was opened
   * without an option that finds its fd (noEnobufs, extendedAck, strictCheck).
   */
  drops (): number | undefined {
    if (this.fd === undefined || this.closed) return undefined
    const getsockopt = loadGetsockopt()
    const buf = Buffer.alloc(SK_MEMINFO_VARS * 4)
    const len = [buf.length]
    if (getsockopt(this.fd, SOL_SOCKET, SO_MEMINFO, buf, len) !== 0) {
      throw new NetlinkError(loadKoffi().errno(), this.context('getsockopt(SOL_SOCKET, SO_MEMINFO)'))
    }
    return buf.readUInt32LE(SK_MEMINFO_DROPS * 4)
  }

  /**
   * Once per event-loop turn that received something: has the kernel dropped
   * messages since the last look? Then the overrun handler hears how many.
   * (A drop means the queue was full, so more datagrams follow it and bring
   * us back here: no timer is needed.)
   */
  private scheduleDropCheck (): void {
    if (this.dropCheckPending || this.fd === undefined || this.overrun === undefined) return
    this.dropCheckPending = true
    setImmediate(() => {
      this.dropCheckPending = false
      if (this.closed) return
      let now: number | undefined
      try { now = this.drops() } catch (err) { this.failAll(err as Error); return }
      if (now === undefined || now === this.droppedSeen) return
      const lost = (now - this.droppedSeen) >>> 0
      this.droppedSeen = now
      this.overrun?.(new NetlinkOverrunError(`netlink socket ${this.port}${this.where()}`, lost))
    })
  }

  /** Joins an rtnetlink (or other) multicast group. */
  addMembership (group: number): void { this.raw.addMembership(group) }
  dropMembership (group: number): void { this.raw.dropMembership(group) }
  /** Messages that answer no request of ours (events) go here. */
  onMulticast (handler: MulticastHandler | undefined, onOverrun?: (err: NetlinkOverrunError) => void): void {
    this.multicast = handler
    this.overrun = onOverrun
  }

  /** Lets the process exit while this socket is open (event listeners). */
  unref (): void { this.raw.unref() }
  ref (): void { this.raw.ref() }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.failAll(new Error(`netlink socket ${this.port}${this.where()} closed`))
    this.raw.close()
  }

  /** Open, with no request waiting for an answer: fit to be kept for the next user (a socket pool). */
  get idle (): boolean { return !this.closed && this.pending.size === 0 }

  private nextSeq (): number {
    this.seq = (this.seq + 1) >>> 0
    if (this.seq === 0) this.seq = 1
    return this.seq
  }

  private context (operation: string): OperationContext {
    return this.namespaceName !== undefined ? { operation, namespace: this.namespaceName } : { operation }
  }

  private failAll (err: Error): void {
    const all = [...this.pending.values()]
    this.pending.clear()
    for (const p of new Set(all)) { clearTimeout(p.timer); p.fail(err) }
  }

  private receive (buf: Buffer, info: MessageInfo): void {
    if (info.port !== 0) return // only the kernel talks to us
    this.scheduleDropCheck()
    const unicast = info.groups === 0
    let lastSeq = -1
    let last: Pending | undefined
    // A dump's data messages (hundreds per datagram) share one seq and leave
    // the pending requests as they are: the request found for the previous
    // one serves the next while they last; any other message ends that.
    let dump: Pending | undefined
    let dumpSeq = -1
    try {
      for (let off = 0; off < buf.length;) {
        const len = messageLengthAt(buf, off)
        const type = readU16(buf, off + 4)
        const flags = readU16(buf, off + 6)
        const seq = readU32(buf, off + 8)
        const start = off + NLMSG_HDRLEN
        const end = off + len
        const p = !unicast || readU32(buf, off + 12) !== this.port ? undefined : dump !== undefined && seq === dumpSeq ? dump : this.pending.get(seq)
        off += align4(len)
        if (p === undefined) {
          dump = undefined
          if (type !== NLMSG_NOOP) this.multicast?.(buf, type, flags, start, end)
          continue
        }
        last = p
        lastSeq = seq
        if (p.collect !== undefined && type >= NLMSG_MIN_TYPE && (flags & NLM_F_DUMP_INTR) === 0) {
          dump = p
          dumpSeq = seq
          p.collect(buf, type, start, end)
        } else {
          dump = undefined
          p.visit(buf, type, flags, start, end)
        }
      }
      // A dump still going: its timeout counts from the last datagram (once per datagram, not per message).
      if (last !== undefined && this.pending.get(lastSeq) === last) last.timer?.refresh()
    } catch (err) {
      this.failAll(err as Error)
    }
  }

  private armTimer (seqs: number[], p: Pending): void {
    clearTimeout(p.timer)
    p.timer = setTimeout(() => {
      for (const s of seqs) this.pending.delete(s)
      p.fail(new NetlinkTimeoutError(p.context, this.timeoutMs))
    }, this.timeoutMs)
  }

  /** Writes seq and port into each message header of buf; returns the seqs. */
  private stamp (buf: Buffer, flagsOr: number): Array<{ seq: number, flags: number }> {
    const out: Array<{ seq: number, flags: number }> = []
    let off = 0
    while (off + NLMSG_HDRLEN <= buf.length) {
      const len = readU32(buf, off)
      if (len < NLMSG_HDRLEN || off + len > buf.length) throw new TypeError(`request has a bad message length ${len} at byte ${off}`)
      const flags = readU16(buf, off + 6) | NLM_F_REQUEST | flagsOr
      const seq = this.nextSeq()
      buf.writeUInt16LE(flags, off + 6)
      buf.writeUInt32LE(seq, off + 8)
      buf.writeUInt32LE(0, off + 12)
      out.push({ seq, flags })
      off += (len + 3) & ~3
    }
    return out
  }

  private send (buf: Buffer, p: Pending, seqs: number[]): void {
    if (this.closed) { p.fail(new Error(`netlink socket ${this.port}${this.where()} is closed`)); return }
    for (const s of seqs) this.pending.set(s, p)
    this.armTimer(seqs, p)
    this.raw.send(buf, {}, (err) => {
      if (err !== undefined) {
        for (const s of seqs) this.pending.delete(s)
        clearTimeout(p.timer)
        p.fail(new NetlinkError(err.errno, this.context(`sendmsg of ${p.context.operation}`)))
      }
    })
  }

  private errorFrom (buf: Uint8Array, start: number, end: number, flags: number, operation: string): NetlinkError | undefined {
    const e = decodeErrorMessage(buf, start, end, flags)
    if (e.errno === 0) return undefined
    return new NetlinkError(e.errno, this.context(operation), e)
  }

  /** Sends one request with NLM_F_ACK and waits for the kernel's acknowledgement. */
  async ack (request: Buffer, operation: string): Promise<void> {
    await this.batch(request, operation, NLM_F_ACK)
  }

  /**
   * Sends every message in request (one datagram) and waits until each one
   * that asked for an ACK is answered. Rejects with the first error the
   * kernel reports for any of them (nf_tables batches report per message).
   * describe(i), when given, names the i-th message of request (0-based) in
   * the error of a message that failed, e.g. the failing op of a batch.
   * tolerate(errno, i), when given, lets a message fail with that errno
   * without failing the batch (e.g. ENOENT for a delete of what is already
   * gone); the promise resolves with how many were tolerated.
   */
  batch (request: Buffer, operation: string, flagsOr = 0, describe?: (index: number) => string,
    tolerate?: (errno: number, index: number) => boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      const stamped = this.stamp(request, flagsOr)
      const seqs = stamped.map(s => s.seq)
      let waiting = stamped.filter(s => (s.flags & NLM_F_ACK) !== 0).length
      if (waiting === 0) { reject(new TypeError(`${operation}: no message asks for an acknowledgement`)); return }
      let firstError: Error | undefined
      let tolerated = 0
      const p: Pending = {
        context: this.context(operation),
        timer: undefined,
        fail: reject,
        collect: undefined,
        visit: (buf, type, flags, start, end) => {
          if (type !== NLMSG_ERROR) return
          const index = stamped.findIndex(s => s.seq === readU32(buf, start + 12))
          let e = this.errorFrom(buf, start, end, flags, describe !== undefined && index >= 0 ? describe(index) : operation)
          if (e !== undefined && tolerate?.(e.errno, index) === true) { tolerated++; e = undefined }
          const acked = e === undefined || (stamped[index]?.flags ?? 0) & NLM_F_ACK
          if (e !== undefined) firstError ??= e
          if (acked !== 0) waiting--
          // An error for a message that asked for no ACK (nf_tables refusing a whole batch at its
          // BATCH_BEGIN, e.g. a stale generation) ends the batch: no other answer will come.
          else if (e !== undefined) waiting = 0
          if (waiting <= 0) {
            for (const s of seqs) this.pending.delete(s)
            clearTimeout(p.timer)
            if (firstError !== undefined) reject(firstError); else resolve(tolerated)
          }
        }
      }
      this.send(request, p, seqs)
    })
  }

  /** Sends a GET for one object and decodes the single reply. */
  get<T>(request: Buffer, decode: ReplyDecoder<T>, operation: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const [{ seq }] = this.stamp(request, 0) as [{ seq: number, flags: number }]
      const p: Pending = {
        context: this.context(operation),
        timer: undefined,
        fail: reject,
        collect: undefined,
        visit: (buf, type, flags, start, end) => {
          this.pending.delete(seq)
          clearTimeout(p.timer)
          if (type === NLMSG_ERROR) {
            const e = this.errorFrom(buf, start, end, flags, operation)
            reject(e ?? new Error(`${operation}: the kernel acknowledged but sent no object`))
            return
          }
          try {
            const v = decode(buf, type, start, end)
            if (v === undefined) reject(new NetlinkDecodeError(`${operation}: unexpected reply type ${type}`, start)); else resolve(v)
          } catch (err) { reject(err as Error) }
        }
      }
      this.send(request, p, [seq])
    })
  }

  /**
   * Sends a dump request (NLM_F_DUMP is the caller's) and collects every
   * decoded reply until NLMSG_DONE. An interrupted dump (NLM_F_DUMP_INTR:
   * the table changed under it) is repeated, at most MAX_DUMP_RETRIES times.
   */
  dump<T>(request: Buffer, decode: ReplyDecoder<T>, operation: string): Promise<T[]> {
    // The kernel runs one dump per socket at a time (a second one gets EBUSY): queue them.
    const run = this.dumpQueue.then(() => this.dumpWithRetries(request, decode, operation))
    this.dumpQueue = run.then(() => undefined, () => undefined)
    return run
  }

  private async dumpWithRetries<T>(request: Buffer, decode: ReplyDecoder<T>, operation: string): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      const { items, interrupted } = await this.dumpOnce(Buffer.from(request), decode, operation)
      if (!interrupted) return items
      if (attempt + 1 >= MAX_DUMP_RETRIES) {
        throw new NetlinkError(4 /* EINTR */, this.context(`${operation} (dump interrupted by concurrent changes ${MAX_DUMP_RETRIES} times)`))
      }
    }
  }

  private dumpOnce<T>(request: Buffer, decode: ReplyDecoder<T>, operation: string): Promise<{ items: T[], interrupted: boolean }> {
    return new Promise((resolve, reject) => {
      const [{ seq }] = this.stamp(request, 0) as [{ seq: number, flags: number }]
      const items: T[] = []
      let interrupted = false
      let failed: Error | undefined
      const finish = (): void => {
        this.pending.delete(seq)
        clearTimeout(p.timer)
      }
      const collect = (buf: Uint8Array, type: number, start: number, end: number): void => {
        if (failed !== undefined) return
        try {
          const v = decode(buf, type, start, end)
          if (v !== undefined) items.push(v)
        } catch (err) { failed = err as Error }
      }
      const p: Pending = {
        context: this.context(operation),
        timer: undefined,
        fail: reject,
        collect,
        visit: (buf, type, flags, start, end) => {
          if ((flags & NLM_F_DUMP_INTR) !== 0) interrupted = true
          if (type === NLMSG_DONE) {
            finish()
            const errno = decodeDoneErrno(buf, start, end)
            if (failed !== undefined) reject(failed)
            else if (errno !== 0) reject(new NetlinkError(errno, this.context(operation)))
            else resolve({ items, interrupted })
            return
          }
          if (type === NLMSG_ERROR) {
            finish()
            reject(this.errorFrom(buf, start, end, flags, operation) ?? new Error(`${operation}: acknowledged without a dump`))
            return
          }
          if (type === NLMSG_OVERRUN) { failed ??= new NetlinkOverrunError(operation); return }
          collect(buf, type, start, end)
        }
      }
      this.send(request, p, [seq])
    })
  }
}

type Getsockopt = (fd: number, level: number, opt: number, value: Buffer, len: number[]) => number
let getsockoptFn: Getsockopt | undefined
function loadGetsockopt (): Getsockopt {
  getsockoptFn ??= loadKoffi().load('libc.so.6').func('int getsockopt(int fd, int level, int opt, _Out_ uint8_t *value, _Inout_ uint32_t *len)') as Getsockopt
  return getsockoptFn
}

// RawNetlinkSocket does not expose its fd, so socket options need a detour:
// of the fds that appeared while the socket was made, the one whose
// getsockname() is our netlink address. (Not /proc/net/netlink: the kernel
// builds that file by walking every netlink socket of every namespace, which
// took ~3 ms per socket with 2,000 pod namespaces on the node.)
type Getsockname = (fd: number, addr: Buffer, len: number[]) => number
let getsocknameFn: Getsockname | undefined
const AF_NETLINK = 16

/**
 * The fds open now. The listing holds the directory fd readdir itself used,
 * closed again by the time it returns (and the next socket may get its
 * number): only fds still open count.
 */
function openFds (): Set<string> {
  const out = new Set<string>()
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      fstatSync(Number(name))
      out.add(name)
    } catch {}
  }
  return out
}

function fdOfNewSocket (before: ReadonlySet<string>, port: number): number {
  getsocknameFn ??= loadKoffi().load('libc.so.6').func('int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *len)') as Getsockname
  const addr = Buffer.alloc(12) // struct sockaddr_nl: family u16, pad u16, pid u32, groups u32
  const ours = (fd: number): boolean => getsocknameFn!(fd, addr, [addr.length]) === 0 && addr.readUInt16LE(0) === AF_NETLINK && addr.readUInt32LE(4) === port
  const all = readdirSync('/proc/self/fd').map(Number)
  for (const fd of all) if (!before.has(String(fd)) && ours(fd)) return fd
  // Its number was freed by another thread and reused meanwhile: then it must be the only one with our address.
  const matches = all.filter(ours)
  if (matches.length === 1) return matches[0]!
  throw new Error(`${matches.length === 0 ? 'no' : 'more than one'} file descriptor of this process is netlink socket ${port}`)
}

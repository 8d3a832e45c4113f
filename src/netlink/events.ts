// Multicast subscriptions as an async iterator. The kernel drops messages when
// a listener's receive queue is full (ENOBUFS); we report that as an
// { kind: 'overrun' } item so a consumer knows to resynchronise, never silently.
import { NetlinkSocket } from './socket.js'
import type { NetlinkOverrunError } from './errors.js'
import type { NetNamespace } from './netns.js'

/** Decodes one multicast message; undefined to skip it. */
export type EventDecoder<T> = (buf: Uint8Array, type: number, flags: number, start: number, end: number) => T | undefined

export interface Overrun { kind: 'overrun', error: NetlinkOverrunError }

export interface SubscriptionOptions {
  protocol?: number
  namespace?: NetNamespace
  /** Multicast group numbers to join. */
  groups: number[]
  /** SO_RCVBUF; event bursts need room. Default 4 MiB (net.core.rmem_max here). */
  receiveBufferSize?: number
  /** Items buffered before the oldest are dropped and an overrun reported. Default 100,000. */
  maxQueued?: number
}

/** A live subscription: `for await (const ev of sub) …`, and `close()` to stop. */
export class Subscription<T> implements AsyncIterable<T | Overrun> {
  private readonly socket: NetlinkSocket
  private readonly queue: Array<T | Overrun> = []
  private waiter: { resolve: (r: IteratorResult<T | Overrun>) => void, reject: (e: Error) => void } | undefined
  private failure: Error | undefined
  private closed = false
  private readonly maxQueued: number

  constructor (decode: EventDecoder<T>, options: SubscriptionOptions) {
    this.maxQueued = options.maxQueued ?? 100_000
    this.socket = NetlinkSocket.open({
      protocol: options.protocol,
      namespace: options.namespace,
      receiveBufferSize: options.receiveBufferSize ?? 4 << 20
    })
    try {
      for (const g of options.groups) this.socket.addMembership(g)
    } catch (err) {
      this.socket.close()
      throw err
    }
    this.socket.onMulticast((buf, type, flags, start, end) => {
      let item: T | undefined
      try {
        item = decode(buf, type, flags, start, end)
      } catch (err) {
        this.fail(err as Error)
        return
      }
      if (item !== undefined) this.push(item)
    }, (error) => { this.push({ kind: 'overrun', error }) })
  }

  private push (item: T | Overrun): void {
    if (this.closed) return
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({ value: item, done: false })
      return
    }
    if (this.queue.length >= this.maxQueued) {
      this.queue.length = 0
      this.queue.push({ kind: 'overrun', error: Object.assign(new Error('event queue overflowed: the consumer is too slow'), { name: 'NetlinkOverrunError', code: 'ENOBUFS' }) as NetlinkOverrunError })
    }
    this.queue.push(item)
  }

  private fail (err: Error): void {
    this.failure = err
    const w = this.waiter
    this.waiter = undefined
    w?.reject(err)
    this.close()
  }

  /** Stops listening; a pending `next()` ends the iteration. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.socket.close()
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({ value: undefined, done: true })
    }
  }

  /** Lets the process exit while subscribed. */
  unref (): void { this.socket.unref() }

  next (): Promise<IteratorResult<T | Overrun>> {
    const item = this.queue.shift()
    if (item !== undefined) return Promise.resolve({ value: item, done: false })
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closed) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject } })
  }

  [Symbol.asyncIterator] (): AsyncIterator<T | Overrun> {
    return {
      next: () => this.next(),
      return: () => { this.close(); return Promise.resolve({ value: undefined, done: true }) }
    }
  }
}

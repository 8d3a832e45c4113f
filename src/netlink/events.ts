// Multicast subscriptions as an async iterator. The kernel drops messages when
// a listener's receive queue is full. The socket is opened with
// NETLINK_NO_ENOBUFS, so the kernel counts those drops instead of raising
// ENOBUFS (which the `netlink` addon would turn into a process abort); the
// socket reads its drop counter after each burst it receives, and we report a
// loss as an { kind: 'overrun' } item so a consumer knows to resynchronise,
// never silently. With a `resync` function the subscription does it itself:
// after the overrun comes { kind: 'resync', snapshot } with the state as a
// dump found it.
import { NetlinkSocket } from './socket.js'
import { NetlinkOverrunError } from './errors.js'
import type { NetNamespace } from './netns.js'

/** Decodes one multicast message; undefined to skip it. */
export type EventDecoder<T> = (buf: Uint8Array, type: number, flags: number, start: number, end: number) => T | undefined

/** Events were lost: the kernel's queue (dropped counts them) or ours (maxQueued) overflowed. */
export interface Overrun { kind: 'overrun', error: NetlinkOverrunError }

/**
 * The state after an overrun, as the subscription's resync function dumped
 * it. Events that arrived while the dump ran come before this item; those
 * after it are newer than (or as old as) the snapshot: apply them in order.
 */
export interface Resync<S> { kind: 'resync', snapshot: S }

export interface SubscriptionOptions<S = never> {
  protocol?: number | undefined
  namespace?: NetNamespace | undefined
  /** Multicast group numbers to join. */
  groups: number[]
  /** SO_RCVBUF; event bursts need room. Default 4 MiB (net.core.rmem_max here). */
  receiveBufferSize?: number | undefined
  /** Items buffered before the oldest are dropped and an overrun reported. Default 100,000. */
  maxQueued?: number | undefined
  /**
   * Called after every overrun (overruns during a call are coalesced into
   * one more call); its result is delivered as { kind: 'resync', snapshot }.
   * A failure ends the subscription with that error.
   */
  resync?: (() => Promise<S>) | undefined
  /** Called when the subscription closes (to release what resync uses). */
  onClose?: (() => void) | undefined
}

export type SubscriptionItem<T, S = never> = T | Overrun | Resync<S>

/** A live subscription: `for await (const ev of sub) …`, and `close()` to stop. */
export class Subscription<T, S = never> implements AsyncIterable<SubscriptionItem<T, S>> {
  private readonly socket: NetlinkSocket
  private readonly queue: Array<SubscriptionItem<T, S>> = []
  private waiter: { resolve: (r: IteratorResult<SubscriptionItem<T, S>>) => void, reject: (e: Error) => void } | undefined
  private failure: Error | undefined
  private closed = false
  private readonly maxQueued: number
  private readonly resync: (() => Promise<S>) | undefined
  private readonly onClose: (() => void) | undefined
  private resyncing = false
  private resyncAgain = false
  /** Overruns seen so far (kernel drops and queue overflows). */
  overruns = 0

  constructor (decode: EventDecoder<T>, options: SubscriptionOptions<S>) {
    this.maxQueued = options.maxQueued ?? 100_000
    this.resync = options.resync
    this.onClose = options.onClose
    this.socket = NetlinkSocket.open({
      protocol: options.protocol,
      namespace: options.namespace,
      receiveBufferSize: options.receiveBufferSize ?? 4 << 20,
      noEnobufs: true
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
    }, (error) => { this.overrun(error) })
  }

  private overrun (error: NetlinkOverrunError): void {
    if (this.closed) return
    this.overruns++
    this.push({ kind: 'overrun', error })
    if (this.resync === undefined) return
    if (this.resyncing) { this.resyncAgain = true; return }
    this.resyncing = true
    const run = (): void => {
      this.resyncAgain = false
      this.resync!().then((snapshot) => {
        if (this.closed) return
        this.push({ kind: 'resync', snapshot })
        if (this.resyncAgain) run(); else this.resyncing = false
      }, (err: Error) => { this.resyncing = false; this.fail(err) })
    }
    run()
  }

  private push (item: SubscriptionItem<T, S>): void {
    if (this.closed) return
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({ value: item, done: false })
      return
    }
    if (this.queue.length >= this.maxQueued) {
      // Our queue is full: drop what the consumer has not read, and say so.
      this.queue.length = 0
      this.overrun(new NetlinkOverrunError(`event queue of ${this.maxQueued} items (the consumer is too slow)`, this.maxQueued))
    }
    this.queue.push(item)
  }

  private fail (err: Error): void {
    if (this.closed) return
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
    this.onClose?.()
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({ value: undefined, done: true })
    }
  }

  /** Lets the process exit while subscribed. */
  unref (): void { this.socket.unref() }

  next (): Promise<IteratorResult<SubscriptionItem<T, S>>> {
    const item = this.queue.shift()
    if (item !== undefined) return Promise.resolve({ value: item, done: false })
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closed) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject } })
  }

  [Symbol.asyncIterator] (): AsyncIterator<SubscriptionItem<T, S>> {
    return {
      next: () => this.next(),
      return: () => { this.close(); return Promise.resolve({ value: undefined, done: true }) }
    }
  }
}

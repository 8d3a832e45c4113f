// Address allocation over range sets, as the official host-local does it
// (backend/allocator/allocator.go, plugins/ipam/host-local/main.go): one
// address per range set, a requested address when one falls in the set,
// otherwise round robin from the set's last reserved address. The store is an
// interface, so this layer is tested without a disk; locking is the caller's.
import { type IP, formatIPText, ipEqual, nextIP } from '../netlink/addr.js'
import type { Range } from './range.js'
import type { RangeSet } from './range-set.js'

/** What the allocator needs from a store; the caller holds the store's lock around each call. */
export interface AllocatorStore {
  /** Claim ip for id+ifname; false when it is already taken. Records it as the set's last reserved address. */
  reserve: (id: string, ifname: string, ip: IP, rangeId: number) => boolean
  /** The set's last reserved address, or undefined when none is recorded (or it does not parse). May throw on an I/O error. */
  lastReservedIP: (rangeId: number) => IP | undefined
  /** Every address held by id+ifname (or by id alone, the legacy format). */
  getByID: (id: string, ifname: string) => IP[]
  /** Give ip back, if id+ifname still holds it. */
  release: (ip: IP, id: string, ifname: string) => void
}

export type AllocationFailure =
  /** No free address left in the set. */
  | 'exhausted'
  /** The requested address is taken. */
  | 'unavailable'
  /** The requested address is the set's gateway. */
  | 'gateway'
  /** id+ifname already holds an address in the set. */
  | 'duplicate'
  /** A requested address lies in no range set. */
  | 'unfulfilled'

export class AllocationError extends Error {
  override name = 'AllocationError'
  readonly reason: AllocationFailure
  /** The range set index, when one set failed. */
  readonly rangeSet: number | undefined
  constructor (message: string, reason: AllocationFailure, rangeSet?: number) {
    super(message)
    this.reason = reason
    this.rangeSet = rangeSet
  }
}

/** One allocated address with its subnet length and the range's gateway. */
export interface IPConfig {
  address: IP
  prefixLength: number
  gateway: IP
  /** Index of the range set it came from. */
  rangeSet: number
}

/**
 * Candidate addresses of a set, upstream's RangeIter: starting after
 * `lastReserved` when that lies in the set (so it is tried last), otherwise
 * at the first range's rangeStart; +1 each step, from one range's end to the
 * next range's start, wrapping round, skipping gateways, ending when back at
 * the start.
 */
export class RangeIterator {
  private readonly ranges: readonly Range[]
  private rangeIdx = 0
  private cur: IP | undefined
  private startIP: IP | undefined

  constructor (set: RangeSet, lastReserved?: IP) {
    this.ranges = set.ranges
    if (lastReserved !== undefined) {
      const i = this.ranges.findIndex(r => r.contains(lastReserved))
      if (i >= 0) {
        this.rangeIdx = i
        this.cur = lastReserved
        return
      }
    }
    this.startIP = this.ranges[0]!.rangeStart
  }

  next (): { ip: IP, range: Range } | undefined {
    // A loop where upstream recurses to skip a gateway.
    for (;;) {
      let r = this.ranges[this.rangeIdx]!
      if (this.cur === undefined) {
        this.cur = r.rangeStart
        this.startIP = this.cur
        if (ipEqual(this.cur, r.gateway)) continue
        return { ip: this.cur, range: r }
      }
      if (ipEqual(this.cur, r.rangeEnd)) {
        this.rangeIdx = (this.rangeIdx + 1) % this.ranges.length
        r = this.ranges[this.rangeIdx]!
        this.cur = r.rangeStart
      } else {
        this.cur = nextIP(this.cur)
      }
      if (this.startIP === undefined) this.startIP = this.cur
      else if (ipEqual(this.cur, this.startIP)) return undefined
      if (ipEqual(this.cur, r.gateway)) continue
      return { ip: this.cur, range: r }
    }
  }
}

export class IPAllocator {
  readonly rangeSet: RangeSet
  readonly store: AllocatorStore
  readonly rangeId: number
  private readonly warn: (message: string) => void

  constructor (rangeSet: RangeSet, store: AllocatorStore, rangeId: number, warn: (message: string) => void = () => {}) {
    this.rangeSet = rangeSet
    this.store = store
    this.rangeId = rangeId
    this.warn = warn
  }

  /** The iterator for a dynamic allocation, resuming after the set's last reserved address. */
  iterator (): RangeIterator {
    let last: IP | undefined
    try {
      last = this.store.lastReservedIP(this.rangeId)
    } catch (err) {
      // Not fatal: only round robin is lost (upstream logs it the same way).
      this.warn(`Error retrieving last reserved ip: ${(err as Error).message}`)
    }
    return new RangeIterator(this.rangeSet, last)
  }

  /** One address of this set for id+ifname: `requested` if given, otherwise the next free one. */
  get (id: string, ifname: string, requested?: IP): IPConfig {
    const set = this.rangeSet
    if (requested !== undefined) {
      const r = set.rangeFor(requested)
      if (r === undefined) {
        throw new AllocationError(`${formatIPText(requested)} not in range set ${set.toString()}`, 'unfulfilled')
      }
      if (ipEqual(requested, r.gateway)) {
        throw new AllocationError(`requested ip ${formatIPText(requested)} is subnet's gateway`, 'gateway')
      }
      if (!this.store.reserve(id, ifname, requested, this.rangeId)) {
        throw new AllocationError(
          `requested IP address ${formatIPText(requested)} is not available in range set ${set.toString()}`, 'unavailable')
      }
      return { address: requested, prefixLength: r.prefixLength, gateway: r.gateway, rangeSet: this.rangeId }
    }
    // The spec forbids a second ADD for the same attachment without a DEL.
    for (const held of this.store.getByID(id, ifname)) {
      if (set.contains(held)) {
        throw new AllocationError(`${formatIPText(held)} has been allocated to ${id}, duplicate allocation is not allowed`, 'duplicate')
      }
    }
    const it = this.iterator()
    for (let c = it.next(); c !== undefined; c = it.next()) {
      if (this.store.reserve(id, ifname, c.ip, this.rangeId)) {
        return { address: c.ip, prefixLength: c.range.prefixLength, gateway: c.range.gateway, rangeSet: this.rangeId }
      }
    }
    throw new AllocationError(`no IP addresses available in range set: ${set.toString()}`, 'exhausted')
  }
}

/**
 * A store that only pretends: reservations and round-robin positions are
 * kept in memory over the real store's view. allocateAll on it first tells
 * whether an ADD would succeed and what it would get, so that a failing ADD
 * never touches the real store (upstream reserves, fails, then releases).
 */
export class DryRunStore implements AllocatorStore {
  private readonly base: AllocatorStore & { isReserved: (ip: IP) => boolean }
  private readonly reserved = new Set<string>()
  private readonly last = new Map<number, IP>()

  constructor (base: AllocatorStore & { isReserved: (ip: IP) => boolean }) {
    this.base = base
  }

  reserve (_id: string, _ifname: string, ip: IP, rangeId: number): boolean {
    const key = formatIPText(ip)
    if (this.reserved.has(key) || this.base.isReserved(ip)) return false
    this.reserved.add(key)
    this.last.set(rangeId, ip)
    return true
  }

  lastReservedIP (rangeId: number): IP | undefined {
    return this.last.get(rangeId) ?? this.base.lastReservedIP(rangeId)
  }

  getByID (id: string, ifname: string): IP[] {
    return this.base.getByID(id, ifname)
  }

  release (ip: IP): void {
    this.reserved.delete(formatIPText(ip))
  }
}

/**
 * An ADD's allocation (upstream cmdAdd): for each set in order, the first
 * still-unused requested address inside it, or a dynamic one. When a set
 * fails, or a requested address fits no set, the addresses this call
 * reserved are given back before the error is thrown.
 */
export function allocateAll (
  sets: readonly RangeSet[], store: AllocatorStore, id: string, ifname: string,
  requested: readonly IP[] = [], warn?: (message: string) => void
): IPConfig[] {
  const pending = new Map<string, IP>()
  for (const ip of requested) pending.set(formatIPText(ip), ip)
  const done: IPConfig[] = []
  const releaseDone = (): void => {
    for (const c of done) {
      try { store.release(c.address, id, ifname) } catch { /* best effort, as upstream */ }
    }
  }
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i]!
    let want: IP | undefined
    for (const [key, ip] of pending) {
      if (set.contains(ip)) { want = ip; pending.delete(key); break }
    }
    try {
      done.push(new IPAllocator(set, store, i, warn).get(id, ifname, want))
    } catch (err) {
      releaseDone()
      if (err instanceof AllocationError) {
        throw new AllocationError(`failed to allocate for range ${i}: ${err.message}`, err.reason, i)
      }
      throw err
    }
  }
  if (pending.size > 0) {
    releaseDone()
    throw new AllocationError(`failed to allocate all requested IPs: ${[...pending.keys()].join(' ')}`, 'unfulfilled')
  }
  return done
}

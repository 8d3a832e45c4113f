// An in-memory AllocatorStore (upstream's backend/testing/fake_store.go), so
// the allocator is tested without a disk.
import type { AllocatorStore } from '../../src/ipam/allocator.js'
import { type IP, formatIPText, parseIPText } from '../../src/netlink/addr.js'

export class FakeStore implements AllocatorStore {
  /** address text -> key ("id\r\nifname", or a bare id). */
  readonly ips: Map<string, string>
  /** range id -> last reserved address text. */
  readonly last: Map<number, string>
  reserveCalls: string[] = []

  constructor (ips: Record<string, string> = {}, last: Record<number, string> = {}) {
    this.ips = new Map(Object.entries(ips))
    this.last = new Map(Object.entries(last).map(([k, v]) => [Number(k), v]))
  }

  reserve (id: string, ifname: string, ip: IP, rangeId: number): boolean {
    const key = formatIPText(ip)
    this.reserveCalls.push(key)
    if (this.ips.has(key)) return false
    this.ips.set(key, `${id.trim()}\r\n${ifname}`)
    this.last.set(rangeId, key)
    return true
  }

  lastReservedIP (rangeId: number): IP | undefined {
    const s = this.last.get(rangeId)
    return s === undefined ? undefined : parseIPText(s)
  }

  getByID (id: string, ifname: string): IP[] {
    const key = `${id.trim()}\r\n${ifname}`
    return [...this.ips].filter(([, k]) => k === key || k === id.trim()).map(([ip]) => parseIPText(ip)!)
  }

  release (ip: IP, id: string, ifname: string): void {
    const key = formatIPText(ip)
    if (this.ips.get(key) === `${id.trim()}\r\n${ifname}`) this.ips.delete(key)
  }

  releaseByID (id: string, ifname: string): void {
    const key = `${id.trim()}\r\n${ifname}`
    for (const [ip, k] of this.ips) if (k === key) this.ips.delete(ip)
  }
}

// Self-healing while the agent runs: for every host (a caller's network
// namespace with its attachment records) that has live bridge attachments,
// the agent listens to nf_tables and link events there. When rules, chains
// or tables are deleted (`nft flush ruleset`, a firewall reload) it runs the
// reconciler (src/plugins/bridge/reconcile.ts), which puts back what the
// records say is live, never what a DEL removed and never anything not
// ours. A deleted bridge, or one whose MTU or MAC changed, is logged and
// counted. A kernel overrun (events lost) triggers a pass too.
//
// A watch holds the host's namespace (an fd) and its records directory (an
// fd, so a caller in another mount namespace can have exited): it is dropped
// as soon as a pass finds no record left, so a namespace is never kept
// alive for nothing.
import { closeSync, fstatSync, openSync, readdirSync, statSync } from 'node:fs'
import { Subscription, type SubscriptionItem } from '../netlink/events.js'
import { subscribeRouteEvents, type RouteEvent, type RouteSnapshot } from '../netlink/handle.js'
import { NETLINK_NETFILTER } from '../netlink/message.js'
import { NFNLGRP_NFTABLES, NFNL_SUBSYS_NFTABLES, NFT_MSG_DELCHAIN, NFT_MSG_DELRULE, NFT_MSG_DELTABLE } from '../netlink/nftables/constants.js'
import type { NetNamespace } from '../netlink/netns.js'
import { listRecords } from '../plugins/bridge/attachments.js'
import { reconcile, type ReconcileReport } from '../plugins/bridge/reconcile.js'

export interface WatchCounters {
  /** Hosts being watched now. */
  hosts: number
  /** Reconcile passes run. */
  passes: number
  /** Attachments whose rules were put back, and shared tables/chains put back. */
  attachmentsRepaired: number
  sharedRepaired: number
  /** Bridges of live attachments found deleted, or with another MTU or MAC than when first seen. */
  bridgesMissing: number
  bridgesChanged: number
  /** Event overruns (events lost; a pass followed). */
  overruns: number
  errors: number
}

type Log = (level: 'error' | 'warn' | 'info' | 'debug', msg: string) => void

const DELETIONS = new Set([NFT_MSG_DELTABLE, NFT_MSG_DELCHAIN, NFT_MSG_DELRULE].map(m => (NFNL_SUBSYS_NFTABLES << 8) | m))

/** Only the deletions matter: nothing else can take our rules away. */
function nftDeletion (_buf: Uint8Array, type: number): true | undefined {
  return DELETIONS.has(type) ? true : undefined
}

/** Whether a records directory holds any record (`<dir>/<network>/<id>:<ifname>.json`). */
function hasRecords (dir: string): boolean {
  try {
    return readdirSync(dir, { withFileTypes: true }).some(n => n.isDirectory() && readdirSync(`${dir}/${n.name}`).some(f => f.endsWith('.json') && !f.startsWith('.')))
  } catch {
    return false
  }
}

class HostWatch {
  readonly key: string
  private readonly dirFd: number
  private readonly nft: Subscription<true>
  private readonly links: Subscription<RouteEvent, RouteSnapshot>
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private closed = false
  /** Bridge name → "mtu mac" when first seen. */
  private readonly bridges = new Map<string, string>()

  constructor (key: string, private readonly netns: NetNamespace | undefined, dirFd: number,
    private readonly owner: Watcher, private readonly describe: string) {
    this.key = key
    this.dirFd = dirFd
    this.nft = new Subscription<true>(nftDeletion, { protocol: NETLINK_NETFILTER, groups: [NFNLGRP_NFTABLES], receiveBufferSize: 1 << 20, namespace: netns })
    try {
      this.links = subscribeRouteEvents(['link'], { namespace: netns, receiveBufferSize: 1 << 20 })
    } catch (err) {
      this.nft.close()
      throw err
    }
    void this.consume(this.nft, () => { this.schedule() })
    void this.consume(this.links, ev => { this.onLink(ev) })
  }

  /** The records directory, through this process's fd on it. */
  get recordsDir (): string { return `/proc/self/fd/${this.dirFd}` }

  private async consume<T, S> (sub: AsyncIterable<SubscriptionItem<T, S>>, on: (ev: T) => void): Promise<void> {
    try {
      for await (const ev of sub) {
        if (typeof ev === 'object' && ev !== null && 'kind' in ev) {
          if (ev.kind === 'overrun') { this.owner.counters.overruns++; this.schedule() }
          continue
        }
        on(ev as T)
      }
    } catch (err) {
      if (this.closed) return
      this.owner.counters.errors++
      this.owner.log('error', `${this.describe}: event subscription failed: ${(err as Error).message}`)
    }
  }

  private onLink (ev: RouteEvent): void {
    if (!('link' in ev) || ev.link.kind !== 'bridge') return
    const l = ev.link
    const seen = this.bridges.get(l.name)
    if (seen === undefined) return
    if (ev.type === 'RTM_DELLINK') {
      this.owner.counters.bridgesMissing++
      this.owner.log('warn', `${this.describe}: bridge ${l.name} of live attachments was deleted (their pods have lost the network until they are re-added)`)
      this.bridges.delete(l.name)
      return
    }
    const now = `${l.mtu} ${l.mac ?? ''}`
    if (now !== seen) {
      this.owner.counters.bridgesChanged++
      this.owner.log('warn', `${this.describe}: bridge ${l.name} changed: mtu/mac ${seen} → ${now}`)
      this.bridges.set(l.name, now)
    }
  }

  /** A pass soon (events come in bursts: one pass for the burst). */
  schedule (delayMs = 50): void {
    if (this.closed) return
    if (this.running !== undefined) { this.again = true; return }
    this.timer ??= setTimeout(() => { this.timer = undefined; this.running = this.pass().finally(() => { this.running = undefined; if (this.again) { this.again = false; this.schedule() } }) }, delayMs)
  }

  async pass (): Promise<void> {
    let report: ReconcileReport
    try {
      report = await reconcile({ recordsDir: this.recordsDir, netns: this.netns })
    } catch (err) {
      this.owner.counters.errors++
      this.owner.log('error', `${this.describe}: reconcile failed: ${(err as Error).message}`)
      return
    }
    const c = this.owner.counters
    c.passes++
    c.attachmentsRepaired += report.repaired.length
    c.sharedRepaired += report.shared.length
    c.errors += report.errors.length
    for (const s of report.shared) this.owner.log('info', `${this.describe}: put back ${s}`)
    for (const a of report.repaired) this.owner.log('info', `${this.describe}: put back the rules of ${a.network} ${a.containerID}/${a.ifname}: ${a.missing.join('; ')}`)
    for (const e of report.errors) this.owner.log('error', `${this.describe}: ${e.what}: ${e.error}`)
    if (report.records === 0) { this.owner.unwatch(this); return }
    await this.learnBridges()
  }

  /** The bridges of the live records, with their MTU and MAC as now (the reference for "changed"). */
  private async learnBridges (): Promise<void> {
    const names = new Set(listRecords(this.recordsDir).records.map(r => r.record.bridge).filter(b => b !== ''))
    for (const name of [...this.bridges.keys()]) if (!names.has(name)) this.bridges.delete(name)
    const missing = [...names].filter(n => !this.bridges.has(n))
    if (missing.length === 0) return
    const { openHandles, closeHandles } = await import('../plugins/bridge/session.js')
    const h = openHandles(this.netns)
    try {
      for (const name of missing) {
        const l = await h.links.find(name)
        if (l !== undefined && l.kind === 'bridge') this.bridges.set(name, `${l.mtu} ${l.mac ?? ''}`)
      }
    } finally {
      closeHandles(h)
    }
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.nft.close()
    this.links.close()
    this.netns?.close()
    try { closeSync(this.dirFd) } catch {}
  }
}

export class Watcher {
  readonly counters: WatchCounters = { hosts: 0, passes: 0, attachmentsRepaired: 0, sharedRepaired: 0, bridgesMissing: 0, bridgesChanged: 0, overruns: 0, errors: 0 }
  private readonly hosts = new Map<string, HostWatch>()

  constructor (readonly log: Log) {}

  /**
   * Watches a host: `netns` (owned by the watch from here on; undefined for
   * the agent's own) and the records directory as this process can open it
   * now. A host already watched is left as it is (the new handle closed).
   */
  watch (netns: NetNamespace | undefined, recordsDir: string, describe: string): void {
    let dirFd: number
    try {
      dirFd = openSync(recordsDir, 'r')
    } catch (err) {
      netns?.close()
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log('warn', `${describe}: cannot open ${recordsDir}: ${(err as Error).message}`)
      return
    }
    const dir = fstatSync(dirFd)
    const key = `${netns?.id() ?? 'own'} ${dir.dev}:${dir.ino}`
    const existing = this.hosts.get(key)
    if (existing !== undefined) {
      closeSync(dirFd)
      netns?.close()
      return
    }
    let w: HostWatch
    try {
      w = new HostWatch(key, netns, dirFd, this, describe)
    } catch (err) {
      closeSync(dirFd)
      netns?.close()
      this.counters.errors++
      this.log('error', `${describe}: cannot watch: ${(err as Error).message}`)
      return
    }
    this.hosts.set(key, w)
    this.counters.hosts = this.hosts.size
    this.log('info', `watching ${describe} (records ${recordsDir})`)
    w.schedule(0)
  }

  /** After a DEL on a host: let the watch go when no record is left (a directory listing, no pass). */
  recheck (netnsId: string | undefined, recordsDir: string): void {
    let dir
    try {
      dir = statSync(recordsDir) // the same dev:ino as fstat of an fd on it, with no fd to close
    } catch {
      return
    }
    const w = this.hosts.get(`${netnsId ?? 'own'} ${dir.dev}:${dir.ino}`)
    if (w !== undefined && !hasRecords(w.recordsDir)) this.unwatch(w)
  }

  unwatch (w: HostWatch): void {
    if (this.hosts.get(w.key) !== w) return
    this.hosts.delete(w.key)
    w.close()
    this.counters.hosts = this.hosts.size
    this.log('debug', `no live attachment left: stopped watching ${w.key}`)
  }

  close (): void {
    for (const w of this.hosts.values()) w.close()
    this.hosts.clear()
    this.counters.hosts = 0
  }
}

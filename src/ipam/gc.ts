// host-local GC as a library call, for the plugin's GC command and for
// `tscni gc` (which prints what goes, or with --dry-run what would go).
import type { GCAttachment } from '../cni/gc.js'
import { parseIPText } from '../netlink/addr.js'
import { HostLocalStore, goTrimSpace, reservationKey } from './store.js'

export interface ReservationGCOptions {
  dataDir: string
  network: string
  valid: readonly GCAttachment[]
  /** List what would be released; change nothing (not even the boot record). */
  dryRun?: boolean
  /** With reclaim, reservations made under an earlier boot go too (src/ipam/boot.ts). */
  bootId?: string
  reclaim?: boolean
}

export interface ReservationGCReport {
  /** Reservation file names (addresses) released, or that would be. */
  released: string[]
  /** Of those, the ones released because they predate the boot. */
  preBoot: string[]
  errors: Error[]
}

/**
 * Releases every reservation of `<dataDir>/<network>` held by an attachment
 * not in `valid` (a legacy id-only file stays while its container has a
 * valid attachment), and, on the first GC of a new boot, those made under
 * the earlier boot. The lock and last_reserved_ip files are never touched.
 * A store that does not exist has nothing to release (and is not created).
 */
export async function gcReservations (o: ReservationGCOptions): Promise<ReservationGCReport> {
  const report: ReservationGCReport = { released: [], preBoot: [], errors: [] }
  if (!HostLocalStore.exists(o.dataDir, o.network)) return report
  const keepKeys = new Set(o.valid.map(a => reservationKey(a.containerID, a.ifname)))
  const keepIds = new Set(o.valid.map(a => goTrimSpace(a.containerID)))
  const store = HostLocalStore.open(o.dataDir, o.network)
  try {
    await store.withLock(() => {
      if (o.dryRun === true) {
        const preBoot = o.bootId !== undefined && o.reclaim !== false ? store.preBootReservations(o.bootId).names : []
        report.preBoot = preBoot
        const pre = new Set(preBoot)
        for (const [name, key] of store.reservations()) {
          if (pre.has(name) || (!keepKeys.has(key) && !keepIds.has(key) && parseIPText(name) !== undefined)) report.released.push(name)
        }
        return
      }
      if (o.bootId !== undefined) {
        const boot = store.checkBoot(o.bootId, o.reclaim !== false)
        report.preBoot = boot.released
        report.released.push(...boot.released)
        report.errors.push(...boot.errors)
      }
      const outcome = store.releaseExcept(keepKeys, keepIds)
      report.released.push(...outcome.removed)
      report.errors.push(...outcome.errors)
    })
  } finally {
    store.close()
  }
  report.released.sort()
  return report
}

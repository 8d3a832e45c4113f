// The reconciler: one pass that puts back the nf_tables rules, chains and
// tables of live attachments after someone removed them (`nft flush
// ruleset`, a firewall reload), working from the attachment records
// (attachments.ts). `tscni reconcile [--dry-run]` runs it once; the agent
// calls it whenever nf_tables or links change.
//
// Rules of the pass:
//  - Only "ready" records: an ADD in progress (or killed) is not live.
//  - Only attachments whose host veth still exists: a container deleted
//    without a DEL is GC's to clean, not ours to re-arm.
//  - Never re-creates what a DEL removed: DEL holds the record's flock while
//    it tears down and removes the record before releasing it; the pass
//    takes the same lock (without waiting: a busy record is skipped, the next
//    pass sees it) and re-checks that the record is still there, and holds it
//    until its batch is committed.
//  - Never touches rules that are not ours: it deletes only rules carrying
//    the attachment's own comment, flushes only the attachment's own chains
//    and our masquerade table's postrouting chain (upstream's layout, which
//    the Go plugin rewrites the same way), and declares the shared tables and
//    base chains only when missing.
//  - Cost: the two tables are read once per chunk of records and every
//    repair of the chunk goes in one atomic batch.
import { NftService } from '../../netlink/nftables/service.js'
import { isErrno } from '../../netlink/errors.js'
import type { NetNamespace } from '../../netlink/netns.js'
import { attachmentsDir, listRecords, lockRecord, type AttachmentRecord, type RecordLock } from './attachments.js'
import { appendMasqInstance, appendMasqLayout, masqInstanceProblems, masqLayoutProblems, masqSnapshot } from './masquerade.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { closeHandles, openHandles } from './session.js'
import { appendSpoofBase, appendSpoofInstance, spoofBaseProblems, spoofCheckNames, spoofInstanceProblems, spoofSnapshot } from './spoofcheck.js'

export interface ReconcileOptions {
  /** The records directory; default `attachmentsDir(process.env)` (TSCNI_STATE_DIR or /run/tscni, + /attachments). */
  recordsDir?: string
  /** The network namespace the records' host side lives in; undefined: this thread's. */
  netns?: NetNamespace | undefined
  /** Only the records of these networks (default: all). */
  networks?: readonly string[]
  /** Report what would be repaired; change nothing. */
  dryRun?: boolean
  /** Records locked and repaired per batch (bounds open fds). Default 256. */
  chunkSize?: number
}

export interface ReconcileAttachment {
  network: string
  containerID: string
  ifname: string
  hostVeth: string
}

export interface ReconcileReport {
  dryRun: boolean
  /** Records looked at. */
  records: number
  /** Attachments whose rules were all there. */
  intact: number
  /** Attachments repaired (or, dry, that would be), with what was missing. */
  repaired: Array<ReconcileAttachment & { missing: string[] }>
  /** Records not acted on, with why. */
  skipped: Array<ReconcileAttachment & { reason: string }>
  /** Failures (the pass goes on with the next chunk). */
  errors: Array<{ what: string, error: string }>
  /** Shared pieces (table, base chains) put back, each as a phrase. */
  shared: string[]
}

/** The attachment a record path names (`<dir>/<network>/<containerID>:<ifname>.json`). */
function fromPath (path: string): ReconcileAttachment {
  const parts = path.split('/')
  const m = /^(.*):(.*)\.json$/.exec(parts[parts.length - 1] ?? '')
  return { network: parts[parts.length - 2] ?? '', containerID: m?.[1] ?? '', ifname: m?.[2] ?? '', hostVeth: '' }
}

const who = (r: AttachmentRecord): ReconcileAttachment => ({ network: r.network, containerID: r.containerID, ifname: r.ifname, hostVeth: r.hostVeth })

/** One pass over the records (see the header). Never throws for one attachment's trouble: see `errors`. */
export async function reconcile (options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const dryRun = options.dryRun === true
  const report: ReconcileReport = { dryRun, records: 0, intact: 0, repaired: [], skipped: [], errors: [], shared: [] }
  const dir = options.recordsDir ?? attachmentsDir(process.env)
  const wanted = options.networks === undefined ? undefined : new Set(options.networks)
  const listed = listRecords(dir).records.filter(r => wanted === undefined || wanted.has(r.record.network))
  report.records = listed.length
  // Nothing with rules: nothing to open.
  const withRules = listed.filter(r => {
    if (r.record.ipMasq || r.record.macspoofchk) return true
    report.intact++
    return false
  })
  if (withRules.length === 0) return report

  const chunkSize = Math.max(1, options.chunkSize ?? 256)
  const nft = NftService.open({ namespace: options.netns })
  const host = openHandles(options.netns)
  try {
    for (let i = 0; i < withRules.length; i += chunkSize) {
      const chunk = withRules.slice(i, i + chunkSize)
      try {
        await reconcileChunk(nft, host, chunk.map(r => r.path), dryRun, report)
      } catch (err) {
        report.errors.push({ what: `records ${i + 1}..${i + chunk.length}`, error: (err as Error).message })
      }
    }
  } finally {
    closeHandles(host)
    nft.close()
  }
  return report
}

async function reconcileChunk (nft: NftService, host: NetlinkHandle, paths: readonly string[], dryRun: boolean, report: ReconcileReport): Promise<void> {
  const locks: RecordLock[] = []
  try {
    // Lock what is live; skip the rest.
    const live: AttachmentRecord[] = []
    for (const path of paths) {
      const held = await lockRecord(path, { wait: false })
      if (held === undefined) {
        report.skipped.push({ ...fromPath(path), reason: 'busy (an ADD or DEL is at work) or removed' })
        continue
      }
      locks.push(held)
      const r = held.record
      if (r === undefined) { report.errors.push({ what: path, error: 'not a readable attachment record' }); continue }
      if (r.state !== 'ready') { report.skipped.push({ ...who(r), reason: 'its ADD has not finished (or was killed): not live' }); continue }
      const veth = await host.links.find(r.hostVeth)
      if (veth === undefined || veth.kind !== 'veth') { report.skipped.push({ ...who(r), reason: `host veth ${r.hostVeth} is gone: not live (GC removes the record)` }); continue }
      live.push(r)
    }
    if (live.length === 0) return

    // One read of each table, one batch for every repair, retried once if a rule vanished meanwhile.
    for (let attempt = 1; ; attempt++) {
      try {
        await repair(nft, live, dryRun, report)
        return
      } catch (err) {
        if (attempt >= 2 || !isErrno(err, 'ENOENT')) throw err
      }
    }
  } finally {
    for (const l of locks) l.release()
  }
}

async function repair (nft: NftService, live: readonly AttachmentRecord[], dryRun: boolean, report: ReconcileReport): Promise<void> {
  const needMasq = live.some(r => r.ipMasq && r.ips.length > 0)
  const needSpoof = live.some(r => r.macspoofchk && r.containerMac !== undefined)
  const [masq, spoof] = await Promise.all([needMasq ? masqSnapshot(nft) : undefined, needSpoof ? spoofSnapshot(nft) : undefined])
  const b = nft.batch()
  const shared: string[] = []
  const repaired: Array<ReconcileAttachment & { missing: string[] }> = []
  let intact = 0
  if (masq !== undefined) {
    const layout = masqLayoutProblems(masq)
    if (layout.length > 0) { appendMasqLayout(b); shared.push(...layout) }
  }
  let spoofBaseMissing = false
  if (spoof !== undefined) {
    const base = spoofBaseProblems(spoof)
    if (base.length > 0) {
      shared.push(...base)
      // A base chain that exists but is not ours to redefine is reported, not touched.
      if (spoof.base === undefined) { appendSpoofBase(b); spoofBaseMissing = true }
    }
  }
  for (const r of live) {
    const missing: string[] = []
    if (masq !== undefined && r.ipMasq && r.ips.length > 0) {
      const instance = { network: r.network, ifname: r.ifname, containerID: r.containerID }
      const p = masqInstanceProblems(masq, r.ips, instance)
      if (p.length > 0) { missing.push(...p); appendMasqInstance(b, masq, r.ips, instance) }
    }
    if (spoof !== undefined && r.macspoofchk && r.containerMac !== undefined) {
      const names = spoofCheckNames(r.containerID, r.ifname, r.network)
      const p = spoofInstanceProblems(spoof, names, r.hostVeth, r.containerMac)
      if (p.length > 0 || spoofBaseMissing) {
        missing.push(...(p.length > 0 ? p : [`the jump from PREROUTING for ${r.hostVeth}`]))
        appendSpoofInstance(b, spoof, names, r.hostVeth, r.containerMac)
      }
    }
    if (missing.length > 0) repaired.push({ ...who(r), missing })
    else intact++
  }
  if (!dryRun && b.size > 0) await b.commit()
  report.shared.push(...shared)
  report.repaired.push(...repaired)
  report.intact += intact
}

// Bridge GC (spec 1.1; upstream has none): everything of one network that
// belongs to an attachment not in `cni.dev/valid-attachments`:
//  - masquerade rules (by the network hash in their comment),
//  - spoof-check chains and their PREROUTING jump (by the owner comment on
//    the chains, which names the network, or by an attachment record),
//  - host veths named by attachment records (a killed ADD's veth, a veth left
//    by a DEL that never came),
//  - the attachment records themselves (and temp files of killed writers).
// A host veth, chain or rule with neither our comment nor a record is left
// alone: it may be the Go plugin's or someone else's. The IPAM plugin's GC
// (reservations) runs after this, in index.ts.
import type { Caller } from '../../cni/caller.js'
import type { GCAttachment } from '../../cni/gc.js'
import type { Logger } from '../../cni/skel.js'
import { NftService } from '../../netlink/nftables/service.js'
import { listRecords, removeRecord, type ListedRecord } from './attachments.js'
import { deleteHostVeth } from './del.js'
import { gcMasqueradeRules, masqComment, networkHash } from './masquerade.js'
import { closeHandles, openHandles } from './session.js'
import { listSpoofCheckChains, spoofCheckNames, teardownSpoofCheck, type SpoofCheckNames } from './spoofcheck.js'

export interface BridgeGCOptions {
  network: string
  /** The network config's switches: whether to look at nf_tables at all. */
  ipMasq: boolean
  macspoofchk: boolean
  valid: readonly GCAttachment[]
  /** The records directory (records.ts recordsDirOf). */
  recordsDir: string
  caller: Pick<Caller, 'netns'>
  dryRun?: boolean
  log?: Pick<Logger, 'warn' | 'info'>
}

export interface BridgeGCReport {
  network: string
  dryRun: boolean
  /** Comments of masquerade rules removed (or that would be). */
  masqueradeRules: string[]
  /** Spoof-check chain pairs removed, by their iface chain's name. */
  spoofCheckChains: string[]
  /** Host veths deleted. */
  hostVeths: string[]
  /** Attachment records removed, as "<containerID>:<ifname>" (temp files as their path). */
  records: string[]
  errors: string[]
}

const key = (containerID: string, ifname: string): string => `${containerID}\u0000${ifname}`

export async function gcBridge (o: BridgeGCOptions): Promise<BridgeGCReport> {
  const dryRun = o.dryRun === true
  const report: BridgeGCReport = { network: o.network, dryRun, masqueradeRules: [], spoofCheckChains: [], hostVeths: [], records: [], errors: [] }
  const fail = (what: string, err: unknown): void => { report.errors.push(`${what}: ${(err as Error).message}`) }
  const valid = new Set(o.valid.map(a => key(a.containerID, a.ifname)))
  const listing = listRecords(o.recordsDir, o.network)
  const stale: ListedRecord[] = listing.records.filter(r => !valid.has(key(r.record.containerID, r.record.ifname)))

  const wantsNft = o.ipMasq || o.macspoofchk || stale.some(r => r.record.ipMasq || r.record.macspoofchk)
  if (wantsNft) {
    let nft: NftService | undefined
    try {
      nft = NftService.open({ namespace: o.caller.netns })
      if (o.ipMasq || stale.some(r => r.record.ipMasq)) {
        try {
          report.masqueradeRules = await gcMasqueradeRules(nft, o.network, o.valid, { dryRun })
        } catch (err) { fail('masquerade rules', err) }
      }
      try {
        await gcSpoofCheck(nft, o, stale, dryRun, report)
      } catch (err) { fail('spoof-check chains', err) }
    } catch (err) {
      fail('nf_tables', err)
    } finally {
      nft?.close()
    }
  }

  // The veths named by stale records, then the records.
  if (stale.length > 0) {
    for (const { record } of stale) {
      try {
        if (dryRun) {
          if (await hostVethExists(o, record.hostVeth)) report.hostVeths.push(record.hostVeth)
        } else if (await deleteHostVeth({ caller: o.caller as Caller }, record)) report.hostVeths.push(record.hostVeth)
      } catch (err) { fail(`host veth ${record.hostVeth}`, err) }
    }
  }
  for (const { path, record } of stale) {
    if (report.errors.length > 0) break // keep the records of what could not be undone, for the next GC
    try {
      if (!dryRun) removeRecord(path)
      report.records.push(`${record.containerID}:${record.ifname}`)
    } catch (err) { fail(`record ${path}`, err) }
  }
  // Temp files of killed writers, of attachments no longer valid.
  for (const path of listing.temps) {
    const m = /\/\.([^/]+):([^/:]+)\.json\.tmp$/.exec(path)
    if (m !== null && valid.has(key(m[1]!, m[2]!))) continue
    try {
      if (!dryRun) removeRecord(path.replace(/\/\.([^/]+)\.tmp$/, '/$1'))
      report.records.push(path)
    } catch (err) { fail(`temp file ${path}`, err) }
  }
  return report
}

async function hostVethExists (o: BridgeGCOptions, name: string): Promise<boolean> {
  const host = openHandles(o.caller.netns)
  try {
    return (await host.links.find(name))?.kind === 'veth'
  } finally {
    closeHandles(host)
  }
}

/**
 * The network's spoof-check chains of invalid attachments: those whose owner
 * comment carries this network's hash but is not a valid attachment's, and
 * those named by stale records (chains made before owner comments).
 */
async function gcSpoofCheck (nft: NftService, o: BridgeGCOptions, stale: readonly ListedRecord[], dryRun: boolean, report: BridgeGCReport): Promise<void> {
  const chains = await listSpoofCheckChains(nft)
  if (chains.length === 0) return
  const keep = new Set(o.valid.map(a => masqComment({ network: o.network, ifname: a.ifname, containerID: a.containerID })))
  const prefix = networkHash(o.network) + '-'
  const owned = new Set(chains.filter(c => c.owner !== undefined && c.owner.startsWith(prefix) && !keep.has(c.owner)).map(c => c.name))
  const targets = new Map<string, SpoofCheckNames>()
  for (const name of owned) {
    // The iface chain is the one whose "-mac" partner is also there.
    if (!owned.has(`${name}-mac`)) continue
    const refID = name.slice('cni-br-iface-'.length)
    targets.set(name, { ifaceChain: name, macChain: `${name}-mac`, comment: `macspoofchk-${refID}` })
  }
  const present = new Set(chains.map(c => c.name))
  for (const { record } of stale) {
    const names = spoofCheckNames(record.containerID, record.ifname)
    if (present.has(names.ifaceChain) || present.has(names.macChain)) targets.set(names.ifaceChain, names)
  }
  for (const names of targets.values()) {
    if (dryRun) { report.spoofCheckChains.push(names.ifaceChain); continue }
    try {
      if (await teardownSpoofCheck(nft, names)) report.spoofCheckChains.push(names.ifaceChain)
    } catch (err) {
      report.errors.push(`spoof-check chains ${names.ifaceChain}: ${(err as Error).message}`)
    }
  }
  report.spoofCheckChains.sort()
}

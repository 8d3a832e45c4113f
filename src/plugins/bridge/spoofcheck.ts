// macspoofchk through nf_tables netlink, in upstream's layout
// (containernetworking/plugins pkg/link/spoofcheck.go), which follows
// libvirt's ebtables one:
//
//   table bridge nat {
//     chain PREROUTING { type filter hook prerouting priority -300; policy accept;
//       iifname "vethXXXXXXXX" jump cni-br-iface-ID-IF comment "macspoofchk-ID-IF" }
//     chain cni-br-iface-ID-IF { jump cni-br-iface-ID-IF-mac comment "…" }
//     chain cni-br-iface-ID-IF-mac { ether saddr MAC return comment "…"; drop comment "…" }
//   }
//
// Frames entering the bridge from the host veth pass only with the
// container's MAC as source. Upstream applies this in two `nft` runs; one
// batch does it here, so a failure leaves nothing half made.
//
// Ownership (ours, beyond upstream): the two per-attachment chains carry a
// comment `<hash16(net)>-<hash16(ifname:id)>, net: N, if: I, id: C` (the
// masquerade rules' format), so that GC can tell which network's chains they
// are: their names hold only the container ID and interface.
import { isErrno } from '../../netlink/errors.js'
import { retryOnVanishedRule } from './nft-retry.js'
import { masqComment } from './masquerade.js'
import {
  NF_ACCEPT, NF_BR_PRE_ROUTING, NF_BR_PRI_NAT_DST_BRIDGED, NFTNL_UDATA_RULE_COMMENT, NftRuleBuilder, decodeNftUserdata, encodeNftUserdata,
  expressionsEqual, nftCommentItem, nftCommentText, type NftBatch, type NftChain, type NftRule, type NftRuleSpec, type NftService
} from '../../netlink/nftables/index.js'

export const SPOOF_TABLE = 'nat'
export const SPOOF_BASE_CHAIN = 'PREROUTING'
const FAMILY = 'bridge'

export interface SpoofCheckNames {
  ifaceChain: string
  macChain: string
  comment: string
  /** The chains' comment naming the owning network (given the network). */
  owner?: string
}

/** Upstream's names for one attachment: refID is `<containerID>-<ifname>`; with the network, the chains' owner comment. */
export function spoofCheckNames (containerID: string, ifname: string, network?: string): SpoofCheckNames {
  const refID = `${containerID}-${ifname}`
  const ifaceChain = `cni-br-iface-${refID}`
  const names: SpoofCheckNames = { ifaceChain, macChain: `${ifaceChain}-mac`, comment: `macspoofchk-${refID}` }
  if (network !== undefined) names.owner = masqComment({ network, ifname, containerID })
  return names
}

/** A chain's comment (its userdata's comment TLV). */
export function chainComment (c: NftChain): string | undefined {
  if (c.userdata === undefined) return undefined
  try {
    const item = decodeNftUserdata(c.userdata, 0, c.userdata.length).find(i => i.type === NFTNL_UDATA_RULE_COMMENT)
    return item === undefined ? undefined : nftCommentText(item.value)
  } catch {
    return undefined
  }
}

/** The per-attachment chains of the bridge nat table (every `cni-br-iface-*` chain), with their owner comments. */
export async function listSpoofCheckChains (nft: NftService): Promise<Array<{ name: string, owner: string | undefined }>> {
  let chains: NftChain[]
  try {
    chains = await nft.listChains(FAMILY, SPOOF_TABLE)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
  return chains.filter(c => c.name.startsWith('cni-br-iface-')).map(c => ({ name: c.name, owner: chainComment(c) }))
}

/** The PREROUTING rules carrying this attachment's comment; none when the table or chain is missing. */
async function jumpRules (nft: NftService, names: SpoofCheckNames): Promise<NftRule[]> {
  try {
    return (await nft.listRules(FAMILY, SPOOF_TABLE, SPOOF_BASE_CHAIN)).filter(r => r.comment === names.comment)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
}

async function chainExists (nft: NftService, name: string): Promise<boolean> {
  try {
    await nft.getChain(FAMILY, SPOOF_TABLE, name)
    return true
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw err
  }
}

/**
 * Lets frames from hostIfname into the bridge only with source MAC mac. A
 * repeated setup for the same attachment replaces its rules (upstream adds
 * a second PREROUTING jump). The table and base chain are declared only
 * when missing: re-declaring an existing chain makes the kernel free the old
 * one after an RCU grace period, which the socket's close then waits for.
 */
export async function setupSpoofCheck (nft: NftService, names: SpoofCheckNames, hostIfname: string, mac: string): Promise<void> {
  const rule = (chain: string, b: NftRuleBuilder): NftRuleSpec => ({ family: FAMILY, table: SPOOF_TABLE, chain, expressions: b.build(), comment: names.comment })
  const builder = (): NftRuleBuilder => new NftRuleBuilder(FAMILY)
  await retryOnVanishedRule(async () => {
    const [haveBase, stale] = await Promise.all([chainExists(nft, SPOOF_BASE_CHAIN), chainExists(nft, names.ifaceChain)])
    // Only a repeated setup has a stale jump: the cheap chain lookup spares the PREROUTING dump otherwise.
    const staleJumps = stale ? await jumpRules(nft, names) : []
    const b = nft.batch()
    if (!haveBase) appendSpoofBase(b)
    const userdata = names.owner !== undefined ? { userdata: encodeNftUserdata([nftCommentItem(names.owner)]) } : {}
    // A stale chain is re-declared as it is (the kernel does not update a chain's comment).
    b.addChain({ family: FAMILY, table: SPOOF_TABLE, name: names.ifaceChain, ...(stale ? {} : userdata) })
      .addChain({ family: FAMILY, table: SPOOF_TABLE, name: names.macChain, ...(stale ? {} : userdata) })
    if (stale) {
      // Left by an earlier setup of the same attachment: emptied and reused.
      b.flushChain(FAMILY, SPOOF_TABLE, names.ifaceChain).flushChain(FAMILY, SPOOF_TABLE, names.macChain)
      for (const r of staleJumps) b.deleteRule(FAMILY, SPOOF_TABLE, SPOOF_BASE_CHAIN, r.handle!)
    }
    b.addRule(rule(SPOOF_BASE_CHAIN, builder().iifname(hostIfname).jump(names.ifaceChain)))
      .addRule(rule(names.ifaceChain, builder().jump(names.macChain)))
      .addRule(rule(names.macChain, builder().etherSaddr(mac).return()))
      .addRule(rule(names.macChain, builder().drop()))
    await b.commit()
  })
}

/**
 * Removes the attachment's PREROUTING jump (found by comment) and its two
 * chains. Returns false when there was nothing to remove.
 */
export async function teardownSpoofCheck (nft: NftService, names: SpoofCheckNames): Promise<boolean> {
  return await retryOnVanishedRule(async () => {
    const [jumps, iface, mac] = await Promise.all([
      jumpRules(nft, names), chainExists(nft, names.ifaceChain), chainExists(nft, names.macChain)
    ])
    if (jumps.length === 0 && !iface && !mac) return false
    const b = nft.batch()
    for (const r of jumps) b.deleteRule(FAMILY, SPOOF_TABLE, SPOOF_BASE_CHAIN, r.handle!)
    // Flushed first: a chain must be empty and unreferenced to be deleted.
    if (iface) b.flushChain(FAMILY, SPOOF_TABLE, names.ifaceChain)
    if (mac) b.flushChain(FAMILY, SPOOF_TABLE, names.macChain)
    if (iface) b.deleteChain(FAMILY, SPOOF_TABLE, names.ifaceChain)
    if (mac) b.deleteChain(FAMILY, SPOOF_TABLE, names.macChain)
    await b.commit()
    return true
  })
}

/** The rules of one attachment as ADD writes them: [chain, expressions]. */
function expectedRules (names: SpoofCheckNames, hostIfname: string, mac: string): Array<[string, NftRule['expressions']]> {
  const b = (): NftRuleBuilder => new NftRuleBuilder(FAMILY)
  return [
    [SPOOF_BASE_CHAIN, b().iifname(hostIfname).jump(names.ifaceChain).build()],
    [names.ifaceChain, b().jump(names.macChain).build()],
    [names.macChain, b().etherSaddr(mac).return().build()],
    [names.macChain, b().drop().build()]
  ]
}

/** The bridge nat table as one read sees it (the reconciler reads it once for every attachment). */
export interface SpoofSnapshot {
  /** The base chain; undefined when it (or the table) is missing. */
  base: NftChain | undefined
  chains: Set<string>
  /** Every rule of the table, expressions decoded. */
  rules: NftRule[]
}

export async function spoofSnapshot (nft: NftService): Promise<SpoofSnapshot> {
  let chains: NftChain[]
  try {
    chains = await nft.listChains(FAMILY, SPOOF_TABLE)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { base: undefined, chains: new Set(), rules: [] }
    throw err
  }
  let rules: NftRule[] = []
  if (chains.length > 0) {
    try {
      rules = await nft.listRules(FAMILY, SPOOF_TABLE)
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  }
  return { base: chains.find(c => c.name === SPOOF_BASE_CHAIN), chains: new Set(chains.map(c => c.name)), rules }
}

/** What of the shared base chain is missing or differs, each as a phrase. */
export function spoofBaseProblems (snap: SpoofSnapshot): string[] {
  if (snap.base === undefined) return [`chain ${SPOOF_BASE_CHAIN} of table ${FAMILY} ${SPOOF_TABLE} is missing`]
  if (snap.base.hook?.hooknum !== NF_BR_PRE_ROUTING || snap.base.type !== 'filter') return [`chain ${FAMILY} ${SPOOF_TABLE} ${SPOOF_BASE_CHAIN} is not a filter chain on the prerouting hook`]
  return []
}

/** What of one attachment's chains and rules is missing or differs, each as a phrase. */
export function spoofInstanceProblems (snap: SpoofSnapshot, names: SpoofCheckNames, hostIfname: string, mac: string): string[] {
  const problems: string[] = []
  for (const chain of [names.ifaceChain, names.macChain]) {
    if (!snap.chains.has(chain)) problems.push(`chain ${chain} of table ${FAMILY} ${SPOOF_TABLE} is missing`)
  }
  const rules = snap.rules.filter(r => r.comment === names.comment)
  const expected = expectedRules(names, hostIfname, mac)
  const what = [`the jump from ${SPOOF_BASE_CHAIN} for ${hostIfname}`, `the jump to ${names.macChain}`, `the rule accepting source MAC ${mac}`, 'the drop rule']
  expected.forEach(([chain, exprs], i) => {
    const found = rules.filter(r => r.chain === chain).some(r => expressionsEqual(r.expressions ?? [], exprs))
    if (!found) problems.push(`${what[i]!} (chain ${chain}, comment ${JSON.stringify(names.comment)}) is missing or differs`)
  })
  const extra = rules.length - expected.length
  if (extra > 0 && problems.length === 0) problems.push(`${extra} more rule(s) with comment ${JSON.stringify(names.comment)} than ADD writes`)
  return problems
}

/**
 * What of one attachment's spoof check is missing or differs from what ADD
 * writes, each as a phrase naming it; empty when everything is there.
 * Read-only (CHECK).
 */
export async function spoofCheckProblems (nft: NftService, names: SpoofCheckNames, hostIfname: string, mac: string): Promise<string[]> {
  const snap = await spoofSnapshot(nft)
  return [...spoofBaseProblems(snap), ...spoofInstanceProblems(snap, names, hostIfname, mac)]
}

/** The table and its base chain, as ADD declares them when missing. */
export function appendSpoofBase (b: NftBatch): void {
  b.addTable({ family: FAMILY, name: SPOOF_TABLE })
    .addChain({ family: FAMILY, table: SPOOF_TABLE, name: SPOOF_BASE_CHAIN, type: 'filter', hook: { hooknum: NF_BR_PRE_ROUTING, priority: NF_BR_PRI_NAT_DST_BRIDGED }, policy: NF_ACCEPT })
}

/** One attachment's chains and rules rebuilt in a batch: its old jumps deleted, its chains emptied or created, its four rules added. */
export function appendSpoofInstance (b: NftBatch, snap: SpoofSnapshot, names: SpoofCheckNames, hostIfname: string, mac: string): void {
  const userdata = names.owner !== undefined ? { userdata: encodeNftUserdata([nftCommentItem(names.owner)]) } : {}
  for (const chain of [names.ifaceChain, names.macChain]) {
    if (snap.chains.has(chain)) b.flushChain(FAMILY, SPOOF_TABLE, chain)
    else b.addChain({ family: FAMILY, table: SPOOF_TABLE, name: chain, ...userdata })
  }
  for (const r of snap.rules) {
    if (r.chain === SPOOF_BASE_CHAIN && r.comment === names.comment) b.deleteRule(FAMILY, SPOOF_TABLE, SPOOF_BASE_CHAIN, r.handle!)
  }
  for (const [chain, expressions] of expectedRules(names, hostIfname, mac)) b.addRule({ family: FAMILY, table: SPOOF_TABLE, chain, expressions, comment: names.comment })
}

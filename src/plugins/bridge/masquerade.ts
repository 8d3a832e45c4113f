// ipMasq through nf_tables netlink, in upstream's nftables layout
// (containernetworking/plugins pkg/ip/ipmasq_nftables_linux.go, v1.6.1+) so
// an operator sees the same ruleset from either plugin:
//
//   table inet cni_plugins_masquerade {
//     chain masq_checks { ip saddr == IP ip daddr != SUBNET masquerade comment "…" … }
//     chain postrouting { type nat hook postrouting priority srcnat;
//       ip daddr 224.0.0.0/4 return; ip6 daddr ff00::/8 return; goto masq_checks }
//   }
//
// Every container rule carries a comment that starts with a hash of the
// network and a hash of ifname+containerID, so DEL and GC find a container's
// rules by comment alone: no addresses needed, which is why our DEL works
// after the namespace is gone (upstream's leaks there, #810).
import { isErrno } from '../../netlink/errors.js'
import { isIPv4Text } from '../../netlink/addr.js'
import { retryOnVanishedRule } from './nft-retry.js'
import { sha512Hex } from './sha512.js'
import type { GCAttachment } from '../../cni/gc.js'
import {
  NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC, NftRuleBuilder, decodeExpressionBytes, encodeNftUserdata, expressionsEqual, nftCommentItem,
  type NftBatch, type NftChain, type NftRule, type NftService
} from '../../netlink/nftables/index.js'

export const MASQ_TABLE = 'cni_plugins_masquerade'
export const MASQ_CHAIN = 'masq_checks'
export const MASQ_POSTROUTING = 'postrouting'
const FAMILY = 'inet'
/** knftables.CommentLengthMax (nft's NFT_USERDATA_MAXLEN for comments). */
const COMMENT_MAX = 128
// The table and chain comments knftables writes for upstream.
const TABLE_COMMENT = 'Masquerading for plugins from github.com/containernetworking/plugins'
const CHAIN_COMMENT = 'Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet'

export interface MasqInstance {
  network: string
  ifname: string
  containerID: string
}

/** utils.MustFormatHashWithPrefix(16, "", s): the first 16 hex digits of SHA-512. */
const hash16 = (s: string): string => sha512Hex(s).slice(0, 16)

export function networkHash (network: string): string { return hash16(network) }

export function instanceHash (i: MasqInstance): string {
  return `${hash16(i.network)}-${hash16(`${i.ifname}:${i.containerID}`)}`
}

/** `<hash>, net: <net>, if: <ifname>, id: <id>` without `"`, cut at 128 bytes, as upstream. */
export function masqComment (i: MasqInstance, hash = instanceHash(i)): string {
  const clean = (s: string): string => s.replaceAll('"', '')
  const text = `${hash}, net: ${clean(i.network)}, if: ${clean(i.ifname)}, id: ${clean(i.containerID)}`
  // Go slices bytes; so do we (a multi-byte character cut in two is dropped whole).
  const bytes = Buffer.from(text, 'utf8')
  return bytes.length <= COMMENT_MAX ? text : bytes.subarray(0, COMMENT_MAX).toString('utf8').replace(/\uFFFD$/, '')
}

/** The rules of masq_checks among rules whose comment starts with prefix (an instance's or a network's hash). */
function masqRulesWith (rules: readonly NftRule[], prefix: string): NftRule[] {
  return rules.filter(r => r.chain === MASQ_CHAIN && r.comment?.startsWith(prefix) === true)
}

/** postrouting's rules: multicast is never masqueraded, everything else goes through masq_checks. */
function postroutingRules (): NftRule['expressions'][] {
  return [
    new NftRuleBuilder(FAMILY).ipDaddr('224.0.0.0/4').return().build(),
    new NftRuleBuilder(FAMILY).ip6Daddr('ff00::/8').return().build(),
    new NftRuleBuilder(FAMILY).goto(MASQ_CHAIN).build()
  ]
}

/**
 * Masquerades traffic from each address (CIDR text, "10.1.0.2/24") to
 * anything outside its subnet, in one batch the kernel applies whole or not
 * at all: the instance's stale rules deleted, one rule per address added.
 *
 * Upstream re-creates the table and chains and flushes and refills
 * postrouting on every ADD. We do that only when postrouting is not exactly
 * its three rules (first use, or someone changed it), so the usual batch
 * only adds rules: re-declaring a chain and deleting rules make the kernel
 * free the old objects after an RCU grace period, and the socket's close
 * then waits for that (~10 ms on this machine).
 */
export async function setupMasquerade (nft: NftService, addresses: readonly string[], instance: MasqInstance): Promise<void> {
  const hash = instanceHash(instance)
  const comment = masqComment(instance, hash)
  const ruleExpressions = addresses.map(a => masqExpressions(a))
  const wanted = postroutingRules()
  await retryOnVanishedRule(async () => {
    // One dump of the table, expressions left as bytes: only postrouting's three are decoded.
    const rules = await listTableRules(nft)
    const post = rules.filter(r => r.chain === MASQ_POSTROUTING)
    const stale = masqRulesWith(rules, hash)
    const layoutOK = post.length === wanted.length && post.every((r, i) => expressionsEqual(decodeExpressionBytes(r.expressionBytes ?? new Uint8Array()), wanted[i]!))
    const b = nft.batch()
    if (!layoutOK) appendMasqLayout(b)
    for (const r of stale) b.deleteRule(FAMILY, MASQ_TABLE, MASQ_CHAIN, r.handle!)
    for (const expressions of ruleExpressions) b.addRule({ family: FAMILY, table: MASQ_TABLE, chain: MASQ_CHAIN, expressions, comment })
    await b.commit()
  })
}

/** The table, its two chains and postrouting's three rules (postrouting flushed first), as upstream declares them. */
export function appendMasqLayout (b: NftBatch): void {
  b.addTable({ family: FAMILY, name: MASQ_TABLE, userdata: encodeNftUserdata([nftCommentItem(TABLE_COMMENT)]) })
    .addChain({ family: FAMILY, table: MASQ_TABLE, name: MASQ_CHAIN, userdata: encodeNftUserdata([nftCommentItem(CHAIN_COMMENT)]) })
    // After masq_checks: it jumps there.
    .addChain({ family: FAMILY, table: MASQ_TABLE, name: MASQ_POSTROUTING, type: 'nat', hook: { hooknum: NF_INET_POST_ROUTING, priority: NF_IP_PRI_NAT_SRC } })
    .flushChain(FAMILY, MASQ_TABLE, MASQ_POSTROUTING)
  for (const expressions of postroutingRules()) b.addRule({ family: FAMILY, table: MASQ_TABLE, chain: MASQ_POSTROUTING, expressions })
}

/** One instance's rules replaced in a batch: those the snapshot holds deleted, one per address added. */
export function appendMasqInstance (b: NftBatch, snap: MasqSnapshot, addresses: readonly string[], instance: MasqInstance): void {
  const hash = instanceHash(instance)
  const comment = masqComment(instance, hash)
  for (const r of masqRulesWith(snap.rules, hash)) b.deleteRule(FAMILY, MASQ_TABLE, MASQ_CHAIN, r.handle!)
  for (const a of addresses) b.addRule({ family: FAMILY, table: MASQ_TABLE, chain: MASQ_CHAIN, expressions: masqExpressions(a), comment })
}

/** The rules of our table, expressions undecoded; none when the table is missing. */
async function listTableRules (nft: NftService): Promise<NftRule[]> {
  try {
    return await nft.listRules(FAMILY, MASQ_TABLE, undefined, { expressions: false })
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
}

/** `ip saddr == IP ip daddr != SUBNET masquerade` (ip6 for IPv6) for "IP/len". */
function masqExpressions (cidr: string): NftRule['expressions'] {
  const slash = cidr.indexOf('/')
  if (slash < 0) throw new TypeError(`ipMasq: ${JSON.stringify(cidr)} has no prefix length`)
  const ip = cidr.slice(0, slash)
  // `daddr != cidr` is `daddr != subnet`: the builder compares only the prefix bits.
  const b = new NftRuleBuilder(FAMILY)
  return (!isIPv4Text(ip) ? b.ip6Saddr(ip).ip6Daddr(cidr, 'neq') : b.ipSaddr(ip).ipDaddr(cidr, 'neq')).masquerade().build()
}

/**
 * Deletes the instance's rules (by comment). Returns how many were deleted;
 * 0 when there were none or the table is missing.
 */
export async function teardownMasquerade (nft: NftService, instance: MasqInstance): Promise<number> {
  return await deleteMatching(nft, instanceHash(instance), () => true)
}

/**
 * GC: deletes the network's rules whose comment is not that of a valid
 * attachment (upstream's GCIPMasqForNetwork). Returns how many were deleted.
 */
export async function gcMasquerade (nft: NftService, network: string, valid: readonly GCAttachment[]): Promise<number> {
  return (await gcMasqueradeRules(nft, network, valid)).length
}

/** gcMasquerade, returning the comments of the rules it deleted (with dryRun: would delete; nothing is changed). */
export async function gcMasqueradeRules (nft: NftService, network: string, valid: readonly GCAttachment[], options: { dryRun?: boolean } = {}): Promise<string[]> {
  const keep = new Set(valid.map(a => masqComment({ network, ifname: a.ifname, containerID: a.containerID })))
  return (await deleteMatchingRules(nft, networkHash(network), r => !keep.has(r.comment ?? ''), options.dryRun === true)).map(r => r.comment ?? '')
}

async function deleteMatching (nft: NftService, prefix: string, select: (r: NftRule) => boolean): Promise<number> {
  return (await deleteMatchingRules(nft, prefix, select, false)).length
}

async function deleteMatchingRules (nft: NftService, prefix: string, select: (r: NftRule) => boolean, dryRun: boolean): Promise<NftRule[]> {
  return await retryOnVanishedRule(async () => {
    const rules = masqRulesWith(await listTableRules(nft), prefix).filter(select)
    if (rules.length === 0 || dryRun) return rules
    const b = nft.batch()
    for (const r of rules) b.deleteRule(FAMILY, MASQ_TABLE, MASQ_CHAIN, r.handle!)
    await b.commit()
    return rules
  })
}

/** Our table as one read sees it (the reconciler reads it once for every attachment). */
export interface MasqSnapshot {
  table: boolean
  chains: Map<string, NftChain>
  /** Every rule of the table, expressions decoded. */
  rules: NftRule[]
}

export async function masqSnapshot (nft: NftService): Promise<MasqSnapshot> {
  try {
    await nft.getTable(FAMILY, MASQ_TABLE)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { table: false, chains: new Map(), rules: [] }
    throw err
  }
  const [chains, rules] = await Promise.all([nft.listChains(FAMILY, MASQ_TABLE), nft.listRules(FAMILY, MASQ_TABLE)])
  return { table: true, chains: new Map(chains.map(c => [c.name, c])), rules }
}

/** What of the table and chains is missing or differs (shared by every instance), each as a phrase. */
export function masqLayoutProblems (snap: MasqSnapshot): string[] {
  const where = `table ${FAMILY} ${MASQ_TABLE}`
  if (!snap.table) return [`${where} is missing`]
  const problems: string[] = []
  if (!snap.chains.has(MASQ_CHAIN)) problems.push(`chain ${MASQ_CHAIN} of ${where} is missing`)
  const post = snap.chains.get(MASQ_POSTROUTING)
  if (post === undefined) problems.push(`chain ${MASQ_POSTROUTING} of ${where} is missing`)
  else {
    if (post.hook?.hooknum !== NF_INET_POST_ROUTING || post.type !== 'nat') problems.push(`chain ${MASQ_POSTROUTING} of ${where} is not a nat chain on the postrouting hook`)
    const wanted = postroutingRules()
    const have = snap.rules.filter(r => r.chain === MASQ_POSTROUTING)
    if (have.length !== wanted.length || !have.every((r, i) => expressionsEqual(r.expressions ?? [], wanted[i]!))) {
      problems.push(`chain ${MASQ_POSTROUTING} of ${where} does not hold its three rules (multicast return, goto ${MASQ_CHAIN})`)
    }
  }
  return problems
}

/** What of one instance's own rules is missing or differs, each as a phrase. */
export function masqInstanceProblems (snap: MasqSnapshot, addresses: readonly string[], instance: MasqInstance): string[] {
  const problems: string[] = []
  const comment = masqComment(instance)
  const mine = snap.rules.filter(r => r.chain === MASQ_CHAIN && r.comment === comment)
  for (const a of addresses) {
    const exprs = masqExpressions(a)
    if (!mine.some(r => expressionsEqual(r.expressions ?? [], exprs))) problems.push(`the masquerade rule for ${a} (chain ${MASQ_CHAIN}, comment ${JSON.stringify(comment)}) is missing or differs`)
  }
  if (mine.length > addresses.length && problems.length === 0) problems.push(`${mine.length - addresses.length} more masquerade rule(s) with comment ${JSON.stringify(comment)} than ADD writes`)
  return problems
}

/**
 * What of one instance's masquerade is missing or differs from what ADD
 * writes (the table, its two chains, postrouting's three rules, one rule per
 * address with the instance's comment), each as a phrase naming it; empty
 * when everything is there. Read-only (CHECK).
 */
export async function masqueradeProblems (nft: NftService, addresses: readonly string[], instance: MasqInstance): Promise<string[]> {
  const snap = await masqSnapshot(nft)
  const layout = masqLayoutProblems(snap)
  return !snap.table ? layout : [...layout, ...masqInstanceProblems(snap, addresses, instance)]
}

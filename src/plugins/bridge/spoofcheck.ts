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
import { isErrno } from '../../netlink/errors.js'
import { retryOnVanishedRule } from './nft-retry.js'
import { NF_ACCEPT, NF_BR_PRE_ROUTING, NF_BR_PRI_NAT_DST_BRIDGED, NftRuleBuilder, type NftRule, type NftRuleSpec, type NftService } from '../../netlink/nftables/index.js'

export const SPOOF_TABLE = 'nat'
export const SPOOF_BASE_CHAIN = 'PREROUTING'
const FAMILY = 'bridge'

export interface SpoofCheckNames {
  ifaceChain: string
  macChain: string
  comment: string
}

/** Upstream's names for one attachment: refID is `<containerID>-<ifname>`. */
export function spoofCheckNames (containerID: string, ifname: string): SpoofCheckNames {
  const refID = `${containerID}-${ifname}`
  const ifaceChain = `cni-br-iface-${refID}`
  return { ifaceChain, macChain: `${ifaceChain}-mac`, comment: `macspoofchk-${refID}` }
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
    if (!haveBase) {
      b.addTable({ family: FAMILY, name: SPOOF_TABLE })
        .addChain({ family: FAMILY, table: SPOOF_TABLE, name: SPOOF_BASE_CHAIN, type: 'filter', hook: { hooknum: NF_BR_PRE_ROUTING, priority: NF_BR_PRI_NAT_DST_BRIDGED }, policy: NF_ACCEPT })
    }
    b.addChain({ family: FAMILY, table: SPOOF_TABLE, name: names.ifaceChain })
      .addChain({ family: FAMILY, table: SPOOF_TABLE, name: names.macChain })
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

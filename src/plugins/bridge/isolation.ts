// `"isolate": true`: forwarded traffic between this network's bridge and
// every other isolated bridge is dropped (netavark's `isolate`, plugins#573,
// #1107), in our own nf_tables table, written over netlink like ipMasq:
//
//   table inet tscni_isolation {
//     chain forward { type filter hook forward priority filter; policy accept;
//       iifname "br1" oifname != "br1" goto isolated_out comment "tscni isolate br1"
//       iifname "br2" oifname != "br2" goto isolated_out comment "tscni isolate br2" }
//     chain isolated_out {
//       oifname "br1" drop comment "tscni isolate br1"
//       oifname "br2" drop comment "tscni isolate br2" }
//   }
//
// Two rules per isolated bridge (not per container, not per pair of
// bridges): a packet routed out of an isolated bridge to another interface
// goes to isolated_out, which drops it when that interface is another
// isolated bridge; anything else (the uplink, a bridge without isolate)
// falls off the end of the goto chain and gets the base chain's accept.
// Traffic inside one bridge is switched, not forwarded, and traffic to the
// gateway address is input, not forward: both stay allowed.
//
// The rules of a bridge are added by the first ADD that finds them missing
// and removed when the bridge has no port left: by the DEL that removes its
// last port, by GC, or by the undo of a failed ADD that added them.
import { isErrno } from '../../netlink/errors.js'
import {
  NF_ACCEPT, NF_INET_FORWARD, NF_IP_PRI_FILTER, NftRuleBuilder, encodeNftUserdata, nftCommentItem, type NftRule, type NftService
} from '../../netlink/nftables/index.js'
import type { LinkService } from '../../netlink/route/links.js'
import { retryOnVanishedRule } from './nft-retry.js'

export const ISOLATION_TABLE = 'tscni_isolation'
export const ISOLATION_BASE_CHAIN = 'forward'
export const ISOLATION_CHAIN = 'isolated_out'
const FAMILY = 'inet'
const COMMENT_PREFIX = 'tscni isolate '
const TABLE_COMMENT = 'tscni bridge: isolate:true networks do not forward to each other'

/** The comment on both rules of a bridge. */
export function isolationComment (bridge: string): string { return COMMENT_PREFIX + bridge }

/** The rules of our table (expressions undecoded); none when it is missing. */
async function tableRules (nft: NftService): Promise<NftRule[]> {
  try {
    return await nft.listRules(FAMILY, ISOLATION_TABLE, undefined, { expressions: false })
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
}

async function chainExists (nft: NftService, name: string): Promise<boolean> {
  try {
    await nft.getChain(FAMILY, ISOLATION_TABLE, name)
    return true
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw err
  }
}

/** The bridges that have isolation rules, from the rules' comments. */
export async function isolatedBridges (nft: NftService): Promise<string[]> {
  const names = new Set<string>()
  for (const r of await tableRules(nft)) if (r.comment?.startsWith(COMMENT_PREFIX) === true) names.add(r.comment.slice(COMMENT_PREFIX.length))
  return [...names].sort()
}

/**
 * Makes sure the bridge's two rules exist (one batch, the table and chains
 * declared only when missing). Returns true when it added anything.
 */
export async function ensureIsolation (nft: NftService, bridge: string): Promise<boolean> {
  const comment = isolationComment(bridge)
  return await retryOnVanishedRule(async () => {
    const mine = (await tableRules(nft)).filter(r => r.comment === comment)
    const haveJump = mine.some(r => r.chain === ISOLATION_BASE_CHAIN)
    const haveDrop = mine.some(r => r.chain === ISOLATION_CHAIN)
    if (haveJump && haveDrop) return false
    const [haveBase, haveOut] = await Promise.all([chainExists(nft, ISOLATION_BASE_CHAIN), chainExists(nft, ISOLATION_CHAIN)])
    const b = nft.batch()
    if (!haveBase || !haveOut) {
      b.addTable({ family: FAMILY, name: ISOLATION_TABLE, userdata: encodeNftUserdata([nftCommentItem(TABLE_COMMENT)]) })
      // isolated_out first: forward jumps there.
      if (!haveOut) b.addChain({ family: FAMILY, table: ISOLATION_TABLE, name: ISOLATION_CHAIN })
      if (!haveBase) {
        b.addChain({
          family: FAMILY, table: ISOLATION_TABLE, name: ISOLATION_BASE_CHAIN, type: 'filter',
          hook: { hooknum: NF_INET_FORWARD, priority: NF_IP_PRI_FILTER }, policy: NF_ACCEPT
        })
      }
    }
    if (!haveDrop) {
      b.addRule({ family: FAMILY, table: ISOLATION_TABLE, chain: ISOLATION_CHAIN, expressions: new NftRuleBuilder(FAMILY).oifname(bridge).drop().build(), comment })
    }
    if (!haveJump) {
      b.addRule({
        family: FAMILY, table: ISOLATION_TABLE, chain: ISOLATION_BASE_CHAIN,
        expressions: new NftRuleBuilder(FAMILY).iifname(bridge).oifname(bridge, 'neq').goto(ISOLATION_CHAIN).build(),
        comment
      })
    }
    await b.commit()
    return true
  })
}

/**
 * Removes the bridge's rules; the whole table when no other bridge has any.
 * Returns true when it removed anything.
 */
export async function removeIsolation (nft: NftService, bridge: string): Promise<boolean> {
  const comment = isolationComment(bridge)
  return await retryOnVanishedRule(async () => {
    const rules = await tableRules(nft)
    const mine = rules.filter(r => r.comment === comment)
    if (mine.length === 0) return false
    const b = nft.batch()
    if (mine.length === rules.length) b.deleteTable(FAMILY, ISOLATION_TABLE)
    else for (const r of mine) b.deleteRule(FAMILY, ISOLATION_TABLE, r.chain, r.handle!)
    await b.commit()
    return true
  })
}

/** The bridge's ports, except `except` (an ifindex): none when the bridge is gone. */
async function portsOf (links: LinkService, bridge: string, except?: number): Promise<number> {
  const br = await links.find(bridge)
  if (br === undefined) return 0
  return (await links.list({ master: br.index })).filter(l => l.index !== except).length
}

/**
 * Removes the bridge's rules when it has no port left (but `except`, a
 * port about to go). An ADD may attach a port between the look and the
 * removal: the ports are looked at again afterwards and the rules put back
 * if one appeared, so an isolated container is at worst unprotected for
 * the few milliseconds in between. Returns true when the rules were removed
 * and stay removed.
 */
export async function releaseIsolationIfUnused (nft: NftService, links: LinkService, bridge: string, except?: number): Promise<boolean> {
  if (await portsOf(links, bridge, except) > 0) return false
  if (!await removeIsolation(nft, bridge)) return false
  if (await portsOf(links, bridge, except) > 0) {
    await ensureIsolation(nft, bridge)
    return false
  }
  return true
}

/**
 * GC: the rules of every bridge that no longer exists, and of `bridge`
 * (this network's) when it has no port. Returns the bridges whose rules
 * were removed.
 */
export async function gcIsolation (nft: NftService, links: LinkService, bridge: string): Promise<string[]> {
  const removed: string[] = []
  for (const name of await isolatedBridges(nft)) {
    if (name !== bridge && await links.find(name) !== undefined) continue
    if (await releaseIsolationIfUnused(nft, links, name)) removed.push(name)
  }
  return removed
}

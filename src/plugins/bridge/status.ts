// STATUS of the bridge's own dependencies: with ipMasq or macspoofchk, an
// ADD needs nf_tables in the caller's namespace. One request (the ruleset
// generation) answers whether it can be used: nf_tables missing from the
// kernel, no CAP_NET_ADMIN, a socket that cannot be opened all fail it.
import type { NetNamespace } from '../../netlink/netns.js'
import { NftService } from '../../netlink/nftables/service.js'

/** Why nf_tables cannot be used in ns (the caller's when undefined), or undefined when it can. */
export async function nftablesProblem (ns: NetNamespace | undefined): Promise<string | undefined> {
  let nft: NftService | undefined
  try {
    nft = NftService.open({ namespace: ns, timeoutMs: 1000 })
    await nft.getGeneration()
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    nft?.close()
  }
}

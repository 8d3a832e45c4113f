// CHECK beyond upstream's (which looks at interfaces, addresses and routes
// only): the nf_tables rules ADD wrote must be there and equal to what ADD
// would write, the container's MAC must be the one configured, and a missing
// host veth is described. Read-only: dumps and gets, nothing is repaired
// (`tscni reconcile` or the agent repairs). Each failure names what is
// missing.
import type { PluginContext } from '../../cni/skel.js'
import type { Result } from '../../cni/result.js'
import { NftService } from '../../netlink/nftables/service.js'
import type { Link } from '../../netlink/route/links.js'
import { parseMAC, formatMAC } from '../../netlink/addr.js'
import type { BridgeConfig } from './config.js'
import { masqueradeProblems } from './masquerade.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { spoofCheckNames, spoofCheckProblems } from './spoofcheck.js'

const normMAC = (m: string | undefined): string | undefined => {
  if (m === undefined) return undefined
  const b = parseMAC(m)
  return b === undefined ? m.toLowerCase() : formatMAC(b, 0, b.length)
}

/** Why the container interface's host end is not where CHECK looks for it (appended to upstream's message). */
export async function hostVethHint (host: NetlinkHandle, bridge: Link, cont: Link): Promise<string> {
  if (cont.parentIndex === undefined) return ''
  const peer = await host.links.find(cont.parentIndex)
  if (peer === undefined) return `: the peer of the container's interface (index ${cont.parentIndex}) is not in the host namespace`
  if (peer.kind !== 'veth' || peer.parentIndex !== cont.index) return `: index ${cont.parentIndex} in the host namespace is ${peer.name}, not the container interface's peer`
  if (peer.master !== bridge.index) return `: host veth ${peer.name} is not a port of bridge ${bridge.name}${peer.master === undefined ? ' (it has no master)' : ` (its master has index ${peer.master})`}`
  return `: host veth ${peer.name} is not among the prevResult interfaces`
}

/** The rules and the configured container MAC; throws naming the first thing missing. */
export async function checkAttachmentRules (ctx: PluginContext, conf: BridgeConfig, result: Result, hostVeth: Link, cont: Link): Promise<void> {
  if (conf.mac !== undefined && normMAC(conf.mac) !== normMAC(cont.mac)) {
    throw new Error(`Interface ${cont.name} Mac ${cont.mac ?? ''} is not the configured ${conf.mac}`)
  }
  const masq = conf.ipMasq && conf.ipamType !== ''
  if (!masq && !conf.macspoofchk) return
  const nft = NftService.open({ namespace: ctx.caller.netns })
  try {
    if (conf.macspoofchk) {
      const problems = await spoofCheckProblems(nft, spoofCheckNames(ctx.containerId, ctx.ifname), hostVeth.name, cont.mac ?? '')
      if (problems.length > 0) throw new Error(`macspoofchk: ${problems.join('; ')}`)
    }
    if (masq) {
      const addresses = (result.ips ?? []).map(ip => ip.address)
      const problems = await masqueradeProblems(nft, addresses, { network: ctx.name, ifname: ctx.ifname, containerID: ctx.containerId })
      if (problems.length > 0) throw new Error(`ipMasq: ${problems.join('; ')}`)
    }
  } finally {
    nft.close()
  }
}

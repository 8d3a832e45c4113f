// IP-reuse hygiene (upstream plugins#756, cni#194): an address handed out
// again must not meet what its previous holder left.
//  - ADD, host side: neighbour entries for the new addresses on the bridge
//    (and on `<bridge>.<vlan>`) are deleted, whatever their state: a
//    permanent or recently confirmed entry with the old holder's MAC is not
//    replaced by the new holder's gratuitous ARP (the kernel keeps permanent
//    entries and ignores updates within locktime).
//  - ADD, container side: the container announces itself: arp_notify=1
//    (gratuitous ARP, set over netlink before link-up in container.ts)
//    and ndisc_notify=1 for IPv6 (unsolicited neighbour advertisements with
//    the override flag). The kernel sends both when the interface comes up,
//    but at that moment the bridge has not yet enabled the host end as a port
//    (it does when the carrier change reaches it, a moment later), so they
//    are dropped (upstream plugins#756: peers kept the old MAC). Once the port
//    forwards, the "announce" step sets the container interface's MAC to
//    itself: the kernel treats that as an address change (NETDEV_CHANGEADDR)
//    and sends both announcements again, now through the bridge.
//  - DEL: conntrack entries whose original or reply tuple holds a released
//    address are deleted (conntrack.ts).
import type { PluginContext } from '../../cni/skel.js'
import type { IPConfig } from '../../cni/result.js'
import { ConntrackService } from '../../netlink/conntrack/service.js'
import { isErrno } from '../../netlink/errors.js'
import { isIPv4Text } from '../../netlink/addr.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { readSysctl, writeSysctl, type NetNamespace } from '../../netlink/netns.js'
import type { NeighbourService } from '../../netlink/route/neighbours.js'
import type { Link } from '../../netlink/route/links.js'
import type { BridgeConfig } from './config.js'
import type { AttachmentRecord } from './attachments.js'

/** "10.1.0.2/24" → "10.1.0.2". */
export function addressOf (cidr: string): string {
  const slash = cidr.indexOf('/')
  return slash < 0 ? cidr : cidr.slice(0, slash)
}

/**
 * Deletes the neighbour entries for `addresses` on the given host interfaces
 * (one RTM_DELNEIGH each; ENOENT means there was none). Returns the entries
 * deleted, as "address dev index".
 */
export async function flushNeighbours (neigh: NeighbourService, indexes: readonly number[], addresses: readonly string[]): Promise<string[]> {
  const deleted: string[] = []
  await Promise.all(indexes.flatMap(index => addresses.map(async address => {
    try {
      await neigh.delete({ index, address })
      deleted.push(`${address} dev ${index}`)
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  })))
  return deleted
}

/** The container's addresses, from IPAM. */
interface Addresses { ips: ReadonlyArray<Pick<IPConfig, 'address'>> }

/** What the ADD step "neighbours" works on. */
export interface HygieneInput {
  ctx: Pick<PluginContext, 'ifname' | 'log'>
  conf: Pick<BridgeConfig, 'vlan'>
  host: NetlinkHandle
  sandbox: NetNamespace
  bridge: Link
  ipam: Addresses
}

/** The ADD step "neighbours": stale host entries out, ndisc_notify on in the container. */
export async function ipReuseHygiene (s: HygieneInput): Promise<void> {
  const addresses = s.ipam.ips.map(ip => addressOf(ip.address))
  if (addresses.length === 0) return
  const indexes = [s.bridge.index]
  if (s.conf.vlan !== 0) {
    const vlanLink = await s.host.links.find(`${s.bridge.name}.${s.conf.vlan}`)
    if (vlanLink !== undefined) indexes.push(vlanLink.index)
  }
  try {
    const deleted = await flushNeighbours(s.host.neighbours, indexes, addresses)
    if (deleted.length > 0) s.ctx.log.info(`deleted stale neighbour entries: ${deleted.join(', ')}`)
  } catch (err) {
    throw new Error(`failed to delete stale neighbour entries for ${addresses.join(', ')}: ${(err as Error).message}`, { cause: err })
  }
  if (addresses.some(a => !isIPv4Text(a))) {
    try {
      writeSysctl(`net/ipv6/conf/${s.ctx.ifname}/ndisc_notify`, '1', s.sandbox)
    } catch (err) {
      // ENOENT: no IPv6 in this kernel (then there is nothing to announce).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`failed to set ndisc_notify on ${JSON.stringify(s.ctx.ifname)}: ${(err as Error).message}`, { cause: err })
    }
  }
}

/** Upstream-style retries while the bridge port is not forwarding yet (ms between reads). */
const FORWARDING_RETRIES_MS = [0, 10, 50, 100, 200]

/** What the ADD step "announce" works on. */
export interface AnnounceInput {
  ctx: Pick<PluginContext, 'ifname'>
  host: NetlinkHandle
  container: NetlinkHandle
  /** The host end as last read. */
  hostVeth: Link
  containerLink: Link
  ipam: Addresses
}

/** The ADD step "announce" (see the header): after the port forwards, the container's MAC set to itself. */
export async function announce (s: AnnounceInput): Promise<void> {
  const mac = s.containerLink.mac
  if (mac === undefined || s.ipam.ips.length === 0) return
  for (const ms of FORWARDING_RETRIES_MS) {
    if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
    const port = ms === 0 ? s.hostVeth : await s.host.links.get(s.hostVeth.index)
    if (port.bridgePort?.state === undefined || port.bridgePort.state === 'forwarding') break
  }
  try {
    await s.container.links.setMAC(s.containerLink.index, mac)
  } catch (err) {
    throw new Error(`failed to announce ${JSON.stringify(s.ctx.ifname)} (gratuitous ARP / unsolicited NA): ${(err as Error).message}`, { cause: err })
  }
}

/** The namespace's number of conntrack entries (net.netfilter.nf_conntrack_count), or undefined when unreadable. */
function conntrackCount (ns: PluginContext['caller']['netns']): number | undefined {
  try {
    const n = Number(readSysctl('net/netfilter/nf_conntrack_count', ns))
    return Number.isInteger(n) ? n : undefined
  } catch {
    return undefined
  }
}

/**
 * DEL: deletes the conntrack entries (in the caller's namespace, where the
 * pod's forwarded and masqueraded flows are tracked) whose original or
 * reply tuple holds one of the attachment's addresses, as known from its
 * record and from prevResult. Runs after the interface is gone (no new
 * entries) and before IPAM releases the addresses. A failure is logged, not
 * fatal: DEL must succeed. Returns how many entries went.
 */
export async function flushConntrack (ctx: Pick<PluginContext, 'caller' | 'log' | 'prevResult'>, record: AttachmentRecord | undefined): Promise<number> {
  const cidrs = [...record?.ips ?? []]
  try {
    for (const ip of ctx.prevResult?.ips ?? []) cidrs.push(ip.address)
  } catch {
    // A broken prevResult: the record's addresses are all we know.
  }
  const addresses = [...new Set(cidrs.map(addressOf))]
  if (addresses.length === 0) return 0
  // A dump walks the kernel's whole conntrack hash table, shared by every
  // namespace (262,144 buckets here: 15-20 ms, holding the agent's thread):
  // skip it when this namespace tracks no connection at all.
  if (conntrackCount(ctx.caller.netns) === 0) return 0
  let deleted = 0
  let ct: ConntrackService | undefined
  try {
    ct = ConntrackService.open({ namespace: ctx.caller.netns })
    deleted = await ct.deleteByAddress(addresses) // one dump for every address
    if (deleted > 0) ctx.log.info(`deleted ${deleted} conntrack entr${deleted === 1 ? 'y' : 'ies'} of ${addresses.join(', ')}`)
  } catch (err) {
    ctx.log.warn(`conntrack entries of ${addresses.join(', ')} not deleted: ${(err as Error).message}`)
  } finally {
    ct?.close()
  }
  return deleted
}

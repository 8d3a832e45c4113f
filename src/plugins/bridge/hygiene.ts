// IP-reuse hygiene (upstream plugins#756, cni#194): an address handed out
// again must not meet what its previous holder left.
//  - ADD, host side: neighbour entries for the new addresses on the bridge
//    (and on `<bridge>.<vlan>`) are deleted, whatever their state: a
//    permanent or recently confirmed entry with the old holder's MAC is not
//    replaced by the new holder's gratuitous ARP (the kernel keeps permanent
//    entries and ignores updates within locktime).
//  - ADD, container side: the container announces itself when its interface
//    comes up: arp_notify=1 (gratuitous ARP, set with the other container
//    sysctls in container.ts) and ndisc_notify=1 for IPv6 (unsolicited
//    neighbour advertisements with the override flag), both before link-up.
//  - DEL: conntrack entries whose original or reply tuple holds a released
//    address are deleted (conntrack.ts).
import { isErrno } from '../../netlink/errors.js'
import { writeSysctl } from '../../netlink/netns.js'
import { NeighbourService } from '../../netlink/route/neighbours.js'
import type { AddState } from './add.js'

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

/** The ADD step "neighbours": stale host entries out, ndisc_notify on in the container. */
export async function ipReuseHygiene (s: AddState): Promise<void> {
  const addresses = (s.result.ips ?? []).map(ip => addressOf(ip.address))
  if (addresses.length === 0) return
  const indexes = [s.bridge!.index]
  if (s.conf.vlan !== 0) {
    const vlanLink = await s.host.links.find(`${s.bridge!.name}.${s.conf.vlan}`)
    if (vlanLink !== undefined) indexes.push(vlanLink.index)
  }
  try {
    const deleted = await flushNeighbours(new NeighbourService(s.host.socket), indexes, addresses)
    if (deleted.length > 0) s.ctx.log.info(`deleted stale neighbour entries: ${deleted.join(', ')}`)
  } catch (err) {
    throw new Error(`failed to delete stale neighbour entries for ${addresses.join(', ')}: ${(err as Error).message}`, { cause: err })
  }
  if (addresses.some(a => a.includes(':'))) {
    try {
      writeSysctl(`net/ipv6/conf/${s.ctx.ifname}/ndisc_notify`, '1', s.sandbox)
    } catch (err) {
      // ENOENT: no IPv6 in this kernel (then there is nothing to announce).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`failed to set ndisc_notify on ${JSON.stringify(s.ctx.ifname)}: ${(err as Error).message}`, { cause: err })
    }
  }
}

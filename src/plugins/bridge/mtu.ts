// `"mtu": "auto"`: the MTU of the host interface that carries the default
// route, IPv4 first, else IPv6 (netavark's default since v1.16). Routes
// through `lo` and host-scope routes are not "the way out" and are skipped
// (netavark#1381 picked `lo` and gave containers MTU 65536). Without such a
// route: 1500, with a log line.
import { AF_INET, AF_INET6 } from '../../netlink/route/rtnetlink.js'
import { RTN_UNICAST, RT_SCOPE_HOST, RT_TABLE_MAIN, type Route } from '../../netlink/route/route.js'
import { IFF_LOOPBACK } from '../../netlink/route/link.js'
import type { Logger } from '../../cni/skel.js'
import { isErrno } from '../../netlink/errors.js'
import type { NetlinkHandle } from '../../netlink/handle.js'

export const FALLBACK_MTU = 1500

const DEFAULT_DST = new Set(['0.0.0.0/0', '::/0'])

/** The interfaces a default route leaves by, in order (the route's own, or its nexthops'). */
function exits (r: Route): number[] {
  if (r.oif !== undefined) return [r.oif]
  return (r.multipath ?? []).map(nh => nh.oif).filter((i): i is number => i !== undefined)
}

/** The main table's routes of a family; none when the namespace never had one (the kernel answers ENOENT then). */
async function mainRoutes (host: NetlinkHandle, family: number): Promise<Route[]> {
  try {
    return await host.routes.list({ family, table: RT_TABLE_MAIN })
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
}

export interface AutoMTU {
  mtu: number
  /** The interface it came from; undefined for the fallback. */
  from?: string
}

/** Finds the default-route interface's MTU in the host handles' namespace. */
export async function defaultRouteMTU (host: NetlinkHandle): Promise<AutoMTU> {
  for (const family of [AF_INET, AF_INET6]) {
    const routes = (await mainRoutes(host, family))
      .filter(r => DEFAULT_DST.has(r.dst) && r.type === RTN_UNICAST && r.scope !== RT_SCOPE_HOST)
      .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0))
    for (const r of routes) {
      for (const index of exits(r)) {
        const link = await host.links.find(index)
        if (link === undefined || (link.flags & IFF_LOOPBACK) !== 0 || link.name === 'lo') continue
        return { mtu: link.mtu, from: link.name }
      }
    }
  }
  return { mtu: FALLBACK_MTU }
}

/** The MTU "auto" stands for, logged (a warning when it falls back to 1500). */
export async function resolveAutoMTU (host: NetlinkHandle, log: Logger): Promise<number> {
  const r = await defaultRouteMTU(host)
  if (r.from === undefined) log.warn(`mtu "auto": no default route leaves by an interface other than lo; using ${FALLBACK_MTU}`)
  else log.debug(`mtu "auto": ${r.mtu}, the MTU of ${r.from} (default route)`)
  return r.mtu
}

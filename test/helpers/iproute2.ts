// Our decoded objects in the words iproute2's JSON output uses, so tests can
// compare them with `ip -j …` (the independent oracle) field for field.
import type { Nexthop } from '../../src/netlink/route/nexthops.js'
import type { Route } from '../../src/netlink/route/route.js'

// iproute2's names for route protocols (/etc/iproute2/rt_protos).
const RTPROT: Record<number, string> = { 2: 'kernel', 3: 'boot', 4: 'static', 99: 'openr' }

/** Our decoded rule in the words `ip -j rule show` prints: the example `ip`'s formatter (examples/ip.ts). */
export { ruleJson as ruleAsIproute2 } from '../../examples/ip.js'

const SCOPES: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' }
const RTNH_FLAGS: Array<[number, string]> = [[1, 'dead'], [2, 'pervasive'], [4, 'onlink'], [8, 'offload'], [16, 'linkdown'], [32, 'unresolved'], [64, 'trap']]

/** Our decoded nexthop object in the words `ip -j nexthop show` prints (iproute2 6.1's print_nexthop). */
export function nexthopAsIproute2 (nh: Nexthop, names: Map<number, string>): Record<string, unknown> {
  const o: Record<string, unknown> = { id: nh.id }
  if (nh.group !== undefined) {
    o.group = nh.group.map(e => e.weight !== 1 ? { id: e.id, weight: e.weight } : { id: e.id })
    if (nh.groupType === 'resilient') {
      o.type = 'resilient'
      const r = nh.resilient!
      o.resilient_args = { buckets: r.buckets, idle_timer: r.idleTimer, unbalanced_timer: r.unbalancedTimer, unbalanced_time: r.unbalancedTime }
    }
  } else if (nh.blackhole) {
    o.blackhole = null
  } else {
    if (nh.gateway !== undefined) o.gateway = nh.gateway
    if (nh.oif !== undefined) o.dev = names.get(nh.oif) ?? String(nh.oif)
    o.scope = SCOPES[nh.scope] ?? String(nh.scope)
  }
  o.flags = RTNH_FLAGS.filter(([bit]) => (nh.flags & bit) !== 0).map(([, name]) => name)
  if (nh.protocol !== 0) o.protocol = RTPROT[nh.protocol] ?? String(nh.protocol)
  if (nh.fdb) o.fdb = null
  return o
}

/** Where a decoded route goes (nexthop id, gateway, device, nexthops), in `ip -j route show` words. */
export function routeNexthopsAsIproute2 (r: Route, names: Map<number, string>): Record<string, unknown> {
  const full = r.family === 10 ? '/128' : '/32'
  const o: Record<string, unknown> = { dst: r.dst.endsWith(full) ? r.dst.slice(0, -full.length) : r.dst }
  if (r.nhId !== undefined) o.nhid = r.nhId
  if (r.gateway !== undefined) o.gateway = r.gateway
  if (r.oif !== undefined) o.dev = names.get(r.oif) ?? String(r.oif)
  if (r.multipath !== undefined) o.nexthops = r.multipath.map(nh => ({ gateway: nh.gateway, dev: names.get(nh.oif) ?? String(nh.oif), weight: nh.weight }))
  return o
}

// Our decoded objects in the words iproute2's JSON output uses, so tests can
// compare them with `ip -j …` (the independent oracle) field for field.
import { FIB_RULE_IIF_DETACHED, FIB_RULE_OIF_DETACHED, FIB_RULE_UNRESOLVED, FR_ACT_TO_TBL } from '../../src/netlink/route/rule.js'
import type { Rule } from '../../src/netlink/route/rules.js'
import type { Nexthop } from '../../src/netlink/route/nexthops.js'
import type { Route } from '../../src/netlink/route/route.js'

// iproute2's names for the numbers it prints by name (linux/in.h, /etc/iproute2/rt_protos, rt_tables).
export const IPPROTO: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp' }
export const RTPROT: Record<number, string> = { 2: 'kernel', 3: 'boot', 4: 'static', 99: 'openr' }
export const TABLES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' }
const hex = (n: number): string => '0x' + n.toString(16)

/** Our decoded rule in the words `ip -j rule show` prints (iproute2 6.1's print_rule), to compare with its output. */
export function ruleAsIproute2 (r: Rule): Record<string, unknown> {
  const o: Record<string, unknown> = { priority: r.priority }
  if (r.invert) o.not = null
  if (r.src !== undefined) { const [a, l] = r.src.split('/'); o.src = a; o.srclen = Number(l) } else o.src = 'all'
  if (r.dst !== undefined) { const [a, l] = r.dst.split('/'); o.dst = a; o.dstlen = Number(l) }
  if (r.tos !== 0) o.tos = hex(r.tos)
  if (r.fwmark !== undefined || r.fwmask !== undefined) {
    o.fwmark = hex(r.fwmark ?? 0)
    if (r.fwmask !== undefined && r.fwmask !== 0xffffffff) o.fwmask = hex(r.fwmask)
  }
  if (r.iif !== undefined) { o.iif = r.iif; if ((r.flags & FIB_RULE_IIF_DETACHED) !== 0) o.iif_detached = null }
  if (r.oif !== undefined) { o.oif = r.oif; if ((r.flags & FIB_RULE_OIF_DETACHED) !== 0) o.oif_detached = null }
  if (r.l3mdev) o.l3mdev = null
  if (r.uidRange !== undefined) { o.uid_start = r.uidRange.start; o.uid_end = r.uidRange.end }
  if (r.ipProto !== undefined) o.ipproto = IPPROTO[r.ipProto] ?? String(r.ipProto)
  for (const [name, range] of [['sport', r.sportRange], ['dport', r.dportRange]] as const) {
    if (range === undefined) continue
    if (range.start === range.end) o[name] = range.start; else { o[`${name}_start`] = range.start; o[`${name}_end`] = range.end }
  }
  if (r.table !== 0) o.table = TABLES[r.table] ?? String(r.table)
  if (r.suppressPrefixlen !== undefined) o.suppress_prefixlen = r.suppressPrefixlen
  if (r.suppressIfgroup !== undefined) o.suppress_ifgroup = String(r.suppressIfgroup)
  if (r.tunId !== undefined) o.tun_id = Number(r.tunId)
  if (r.flow !== undefined) { if (r.flow >>> 16 !== 0) o.flow_from = String(r.flow >>> 16); o.flow_to = String(r.flow & 0xffff) }
  if (r.goto !== undefined) { o.goto = r.goto; if ((r.flags & FIB_RULE_UNRESOLVED) !== 0) o.unresolved = null }
  if (r.action !== FR_ACT_TO_TBL && r.actionName !== 'goto') o.action = r.actionName
  if (r.protocol !== undefined && r.protocol !== 0 && r.protocol !== 2) o.protocol = RTPROT[r.protocol] ?? String(r.protocol)
  return o
}


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

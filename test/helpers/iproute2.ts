// Our decoded objects in the words iproute2's JSON output uses, so tests can
// compare them with `ip -j …` (the independent oracle) field for field.
import { FIB_RULE_IIF_DETACHED, FIB_RULE_OIF_DETACHED, FIB_RULE_UNRESOLVED, FR_ACT_TO_TBL } from '../../src/netlink/route/rule.js'
import type { Rule } from '../../src/netlink/route/rules.js'

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
  if (r.flow !== undefined) { if (r.flow >>> 16 !== 0) o.flow_from = String(r.flow >>> 16); o.flow_to = String(r.flow & 0xffff) }
  if (r.goto !== undefined) { o.goto = r.goto; if ((r.flags & FIB_RULE_UNRESOLVED) !== 0) o.unresolved = null }
  if (r.action !== FR_ACT_TO_TBL && r.actionName !== 'goto') o.action = r.actionName
  if (r.protocol !== undefined && r.protocol !== 0 && r.protocol !== 2) o.protocol = RTPROT[r.protocol] ?? String(r.protocol)
  return o
}


// RuleService: list, add and delete policy routing rules (`ip rule`), with
// addresses as text. Request builders are pure functions (bytes out, no
// socket) that send what iproute2 sends for the same rule.
import { NetlinkWriter } from '../attributes.js'
import { parseCIDR, formatIP } from '../addr.js'
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST } from '../message.js'
import type { NetlinkSocket } from '../socket.js'
import { AF_INET, AF_INET6, AF_UNSPEC, RTM_DELRULE, RTM_GETRULE, RTM_NEWRULE } from './rtnetlink.js'
import { RT_TABLE_MAIN, RT_TABLE_UNSPEC } from './route.js'
import {
  FIB_RULE_INVERT, FR_ACT_BLACKHOLE, FR_ACT_GOTO, FR_ACT_NOP, FR_ACT_PROHIBIT, FR_ACT_TO_TBL, FR_ACT_UNREACHABLE,
  FR_ACT_UNSPEC, decodeRuleMessage, encodeRuleMessage, ruleTable, type RuleAttributes, type RuleMessage, type RuleRange
} from './rule.js'
import { type FieldMap, toKernel } from './field-map.js'

export type { RuleRange } from './rule.js'

export type RuleAction = 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit'

const ACTIONS: Record<RuleAction, number> = {
  lookup: FR_ACT_TO_TBL, goto: FR_ACT_GOTO, nop: FR_ACT_NOP, blackhole: FR_ACT_BLACKHOLE, unreachable: FR_ACT_UNREACHABLE, prohibit: FR_ACT_PROHIBIT
}

/** FR_ACT_* → the word `ip rule` uses. */
export const RULE_ACTION_NAMES: Record<number, RuleAction> = Object.fromEntries(Object.entries(ACTIONS).map(([k, v]) => [v, k])) as Record<number, RuleAction>

/**
 * A policy routing rule as a flat object of fixed shape (every field always
 * present, undefined when the rule has no such selector).
 */
export interface Rule {
  family: number
  /** FRA_PRIORITY (`pref`); 0 for the local-table rule, which the kernel sends without it. */
  priority: number
  /** FRA_TABLE when present, else frh.table. 0 for rules that look up no table (goto, blackhole…). */
  table: number
  /** FR_ACT_*. */
  action: number
  /** "lookup", "goto", "nop", "blackhole", "unreachable", "prohibit"; undefined for other values. */
  actionName: RuleAction | undefined
  /** FIB_RULE_* (frh.flags). */
  flags: number
  /** FIB_RULE_INVERT: `not`. */
  invert: boolean
  /** Source prefix, CIDR ("10.1.0.0/16"); undefined for "from all". */
  src: string | undefined
  /** Destination prefix, CIDR; undefined for "to all". */
  dst: string | undefined
  /** frh.tos (the DS field). */
  tos: number
  /** Input interface name (FRA_IIFNAME): rules name devices, which may not exist yet. */
  iif: string | undefined
  oif: string | undefined
  fwmark: number | undefined
  fwmask: number | undefined
  /** FRA_GOTO: the preference jumped to. */
  goto: number | undefined
  /** FRA_FLOW: realms, `from << 16 | to`. */
  flow: number | undefined
  l3mdev: boolean
  uidRange: RuleRange | undefined
  /** FRA_PROTOCOL (RTPROT_*): who added the rule. */
  protocol: number | undefined
  /** FRA_IP_PROTO (IPPROTO_*). */
  ipProto: number | undefined
  sportRange: RuleRange | undefined
  dportRange: RuleRange | undefined
  /** FRA_SUPPRESS_PREFIXLEN; undefined when unset (the kernel sends 0xffffffff). */
  suppressPrefixlen: number | undefined
  /** FRA_SUPPRESS_IFGROUP; undefined when unset. */
  suppressIfgroup: number | undefined
  /** FRA_TUN_ID. */
  tunId: bigint | undefined
}

export interface RuleSpec {
  /** AF_INET or AF_INET6; by default the family of src or dst, else AF_INET (as `ip rule` without -6). */
  family?: number
  /** Preference (FRA_PRIORITY); the kernel picks one below the previous rule when absent. */
  priority?: number
  /** Source prefix, "10.1.0.0/16" or a bare address. */
  src?: string
  /** Destination prefix. */
  dst?: string
  /** Invert the selectors (`not`). */
  invert?: boolean
  tos?: number
  fwmark?: number
  fwmask?: number
  /** Input and output interface names. */
  iif?: string
  oif?: string
  /** Table to look up; main by default for a lookup rule (as iproute2). Ids above 255 go to FRA_TABLE. */
  table?: number
  /** What the rule does; "lookup" by default when adding (FR_ACT_TO_TBL), "goto" when goto is given. */
  action?: RuleAction
  /** Jump to the rule with this preference (FR_ACT_GOTO). */
  goto?: number
  /** Realms, `from << 16 | to` (FRA_FLOW). */
  flow?: number
  /** Look up the table of the l3mdev (VRF) device the packet came in on or goes out through. */
  l3mdev?: boolean
  uidRange?: RuleRange
  /** FRA_IP_PROTO, e.g. 6 for TCP. */
  ipProto?: number
  /** A port or an inclusive range. */
  sport?: number | RuleRange
  dport?: number | RuleRange
  /** Ignore lookup results with a prefix this long or shorter (`suppress_prefixlength`). */
  suppressPrefixlen?: number
  suppressIfgroup?: number
  /** FRA_PROTOCOL: who adds the rule (RTPROT_*). */
  protocol?: number
}

export interface RuleListFilter {
  /** AF_INET or AF_INET6; both by default. */
  family?: number
}

function prefixOf (text: string, what: string): { address: string, length: number, family: number } {
  const c = parseCIDR(text)
  if (c === undefined) throw new TypeError(`rule ${what}: not an address or a CIDR: ${JSON.stringify(text)}`)
  return { address: formatIP(c.address, 0, c.address.length), length: c.prefixLength, family: c.address.length === 4 ? AF_INET : AF_INET6 }
}

function portRange (p: number | RuleRange): RuleRange {
  const r = typeof p === 'number' ? { start: p, end: p } : p
  for (const v of [r.start, r.end]) if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new TypeError(`rule port must be 0..65535, not ${v}`)
  return r
}

/** RuleSpec → FRA_*: the selectors that pass as they are (or through a check). */
const RULE_SPEC: FieldMap<RuleSpec, RuleAttributes> = {
  priority: 'priority',
  iif: 'iifname',
  oif: 'oifname',
  fwmark: 'fwmark',
  fwmask: 'fwmask',
  flow: 'flow',
  uidRange: ['uidRange', (r: RuleRange) => ({ ...r })],
  ipProto: 'ipProto',
  sport: ['sportRange', portRange],
  dport: ['dportRange', portRange],
  protocol: 'protocol',
  suppressPrefixlen: 'suppressPrefixlen',
  suppressIfgroup: 'suppressIfgroup',
  goto: 'goto'
}

/** The fib_rule_hdr + attributes for spec, with iproute2's defaults for the operation. */
export function ruleMessageFor (spec: RuleSpec, operation: 'add' | 'delete' = 'add'): RuleMessage {
  const src = spec.src !== undefined ? prefixOf(spec.src, 'source') : undefined
  const dst = spec.dst !== undefined ? prefixOf(spec.dst, 'destination') : undefined
  const family = spec.family ?? src?.family ?? dst?.family ?? AF_INET
  for (const p of [src, dst]) if (p !== undefined && p.family !== family) throw new TypeError(`rule prefix ${p.address}/${p.length} is not of family ${family}`)
  const action = spec.action !== undefined ? ACTIONS[spec.action] : spec.goto !== undefined ? FR_ACT_GOTO : operation === 'add' ? FR_ACT_TO_TBL : FR_ACT_UNSPEC
  if (action === undefined) throw new TypeError(`unknown rule action ${JSON.stringify(spec.action)}`)
  let table = spec.table
  if (table === undefined && operation === 'add' && action === FR_ACT_TO_TBL && spec.l3mdev !== true) table = RT_TABLE_MAIN
  if (table !== undefined && (!Number.isInteger(table) || table < 0 || table > 0xffffffff)) throw new TypeError(`rule table must be a u32, not ${table}`)
  if (spec.goto !== undefined && action !== FR_ACT_GOTO) throw new TypeError(`rule: goto ${spec.goto} with action ${String(spec.action)}`)
  const m: RuleMessage = {
    family,
    dstLength: dst?.length ?? 0,
    srcLength: src?.length ?? 0,
    tos: spec.tos ?? 0,
    table: table !== undefined && table < 256 ? table : RT_TABLE_UNSPEC,
    res1: 0,
    res2: 0,
    action,
    flags: spec.invert === true ? FIB_RULE_INVERT : 0,
    attributes: toKernel(spec, RULE_SPEC)
  }
  const a = m.attributes
  if (src !== undefined) a.src = src.address
  if (dst !== undefined) a.dst = dst.address
  if (spec.l3mdev === true) a.l3mdev = 1
  if (table !== undefined && table >= 256) a.table = table
  return m
}

function request (type: number, flags: number, m: RuleMessage): Buffer {
  const w = new NetlinkWriter(96)
  w.beginMessage(type, flags)
  encodeRuleMessage(w, m)
  w.endMessage()
  return Buffer.from(w.bytes())
}

/** RTM_NEWRULE with NLM_F_CREATE|NLM_F_EXCL, as `ip rule add`. */
export function buildAddRuleRequest (spec: RuleSpec): Buffer {
  return request(RTM_NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ruleMessageFor(spec, 'add'))
}

/**
 * RTM_DELRULE, as `ip rule del`: the kernel deletes the first rule that
 * matches every selector given (action and table only when given).
 */
export function buildDeleteRuleRequest (spec: RuleSpec): Buffer {
  return request(RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK, ruleMessageFor(spec, 'delete'))
}

/** RTM_GETRULE dump of one family (AF_UNSPEC: every family the kernel has rules for). */
export function buildListRulesRequest (filter: RuleListFilter = {}): Buffer {
  return request(RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, {
    family: filter.family ?? AF_UNSPEC, dstLength: 0, srcLength: 0, tos: 0, table: 0, res1: 0, res2: 0, action: 0, flags: 0, attributes: {}
  })
}

const UNSET = 0xffffffff

/** The friendly form of a decoded rule. */
export function toRule (m: RuleMessage): Rule {
  const a = m.attributes
  return {
    family: m.family,
    priority: a.priority ?? 0,
    table: ruleTable(m),
    action: m.action,
    actionName: RULE_ACTION_NAMES[m.action],
    flags: m.flags,
    invert: (m.flags & FIB_RULE_INVERT) !== 0,
    src: a.src !== undefined ? `${a.src}/${m.srcLength}` : undefined,
    dst: a.dst !== undefined ? `${a.dst}/${m.dstLength}` : undefined,
    tos: m.tos,
    iif: a.iifname,
    oif: a.oifname,
    fwmark: a.fwmark,
    fwmask: a.fwmask,
    goto: a.goto,
    flow: a.flow,
    l3mdev: a.l3mdev !== undefined && a.l3mdev !== 0,
    uidRange: a.uidRange,
    protocol: a.protocol,
    ipProto: a.ipProto,
    sportRange: a.sportRange,
    dportRange: a.dportRange,
    suppressPrefixlen: a.suppressPrefixlen === undefined || a.suppressPrefixlen === UNSET ? undefined : a.suppressPrefixlen,
    suppressIfgroup: a.suppressIfgroup === undefined || a.suppressIfgroup === UNSET ? undefined : a.suppressIfgroup,
    tunId: a.tunId
  }
}

export function decodeFibRule (buf: Uint8Array, start: number, end: number): Rule {
  return toRule(decodeRuleMessage(buf, start, end))
}

/** "pref 100 from 10.1.0.0/16 lookup 100", in `ip rule` words, for error messages. */
export function describeRule (spec: RuleSpec): string {
  const parts: string[] = []
  if (spec.priority !== undefined) parts.push('pref', String(spec.priority))
  if (spec.invert === true) parts.push('not')
  parts.push('from', spec.src ?? 'all')
  if (spec.dst !== undefined) parts.push('to', spec.dst)
  if (spec.tos !== undefined) parts.push('tos', String(spec.tos))
  if (spec.fwmark !== undefined) parts.push('fwmark', '0x' + spec.fwmark.toString(16) + (spec.fwmask !== undefined ? '/0x' + spec.fwmask.toString(16) : ''))
  if (spec.iif !== undefined) parts.push('iif', spec.iif)
  if (spec.oif !== undefined) parts.push('oif', spec.oif)
  if (spec.uidRange !== undefined) parts.push('uidrange', `${spec.uidRange.start}-${spec.uidRange.end}`)
  if (spec.ipProto !== undefined) parts.push('ipproto', String(spec.ipProto))
  const port = (p: number | RuleRange): string => typeof p === 'number' ? String(p) : `${p.start}-${p.end}`
  if (spec.sport !== undefined) parts.push('sport', port(spec.sport))
  if (spec.dport !== undefined) parts.push('dport', port(spec.dport))
  if (spec.l3mdev === true) parts.push('l3mdev')
  if (spec.goto !== undefined) parts.push('goto', String(spec.goto))
  else if (spec.action !== undefined && spec.action !== 'lookup') parts.push(spec.action)
  if (spec.table !== undefined) parts.push('lookup', String(spec.table))
  if (spec.suppressPrefixlen !== undefined) parts.push('suppress_prefixlength', String(spec.suppressPrefixlen))
  return parts.join(' ')
}

const decodeRuleReply = (buf: Uint8Array, type: number, start: number, end: number): Rule | undefined =>
  type === RTM_NEWRULE ? decodeFibRule(buf, start, end) : undefined

export class RuleService {
  constructor (private readonly socket: NetlinkSocket) {}

  /**
   * Rules of one family, or of both IPv4 and IPv6 (the default: one dump of
   * each, IPv4 first, each in the kernel's order, i.e. by preference).
   */
  async list (filter: RuleListFilter = {}): Promise<Rule[]> {
    const families = filter.family === undefined || filter.family === AF_UNSPEC ? [AF_INET, AF_INET6] : [filter.family]
    const out: Rule[] = []
    for (const family of families) {
      const rules = await this.socket.dump(buildListRulesRequest({ family }), decodeRuleReply, `RTM_GETRULE dump ${family === AF_INET6 ? 'inet6' : family === AF_INET ? 'inet' : `family ${family}`}`)
      for (const r of rules) out.push(r)
    }
    return out
  }

  /** Adds a rule; EEXIST when an identical one exists. */
  add (spec: RuleSpec): Promise<void> {
    return this.socket.ack(buildAddRuleRequest(spec), `RTM_NEWRULE ${describeRule(spec)}`)
  }

  /** Deletes the first rule matching spec; ENOENT when none does. */
  delete (spec: RuleSpec): Promise<void> {
    return this.socket.ack(buildDeleteRuleRequest(spec), `RTM_DELRULE ${describeRule(spec)}`)
  }
}

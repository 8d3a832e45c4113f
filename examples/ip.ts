// A small `ip` on the library: `link|addr|route|rule|neigh show`, printing
// JSON in the words `ip -j` uses (iproute2 6.1), for the fields the library
// decodes. It reads everything through one NetlinkHandle.
//
//   node dist/examples/ip.js [-n NETNS] [-4|-6] link|addr|route|rule|neigh [show] [table ID|all]
//
// Not printed (the library does not decode them, or iproute2 only shows them
// with -d/-s): qdisc, linkmode, group, statistics, cache info.
import {
  NetlinkHandle, AF_INET, AF_INET6, RT_TABLE_MAIN, IFF_UP, IFF_RUNNING, IFF_LOOPBACK, IFF_BROADCAST, IFF_POINTOPOINT,
  IFF_MULTICAST, IFF_NOARP, IFF_ALLMULTI, IFF_PROMISC, IFF_MASTER, IFF_SLAVE, IFF_DEBUG, IFF_DYNAMIC, IFF_AUTOMEDIA,
  IFF_PORTSEL, IFF_NOTRAILERS, IFF_LOWER_UP, IFF_DORMANT, IFF_ECHO, IFA_F_SECONDARY, IFA_F_TENTATIVE, IFA_F_DEPRECATED,
  IFA_F_HOMEADDRESS, IFA_F_NODAD, IFA_F_MANAGETEMPADDR, IFA_F_NOPREFIXROUTE, IFA_F_MCAUTOJOIN, IFA_F_PERMANENT,
  IFA_F_DADFAILED, IFA_F_OPTIMISTIC, IFA_F_STABLE_PRIVACY, NUD_NOARP, NTF_PROXY, NTF_ROUTER, FR_ACT_TO_TBL,
  FIB_RULE_IIF_DETACHED, FIB_RULE_OIF_DETACHED, FIB_RULE_UNRESOLVED,
  type Link, type Address, type Route, type Neighbour, type Rule
} from 'tscni/netlink'

import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

type Json = Record<string, unknown>

const IFF_NAMES: Array<[number, string]> = [
  [IFF_LOOPBACK, 'LOOPBACK'], [IFF_BROADCAST, 'BROADCAST'], [IFF_POINTOPOINT, 'POINTOPOINT'], [IFF_MULTICAST, 'MULTICAST'],
  [IFF_NOARP, 'NOARP'], [IFF_ALLMULTI, 'ALLMULTI'], [IFF_PROMISC, 'PROMISC'], [IFF_MASTER, 'MASTER'], [IFF_SLAVE, 'SLAVE'],
  [IFF_DEBUG, 'DEBUG'], [IFF_DYNAMIC, 'DYNAMIC'], [IFF_AUTOMEDIA, 'AUTOMEDIA'], [IFF_PORTSEL, 'PORTSEL'],
  [IFF_NOTRAILERS, 'NOTRAILERS'], [IFF_UP, 'UP'], [IFF_LOWER_UP, 'LOWER_UP'], [IFF_DORMANT, 'DORMANT'], [IFF_ECHO, 'ECHO']
]
const ARPHRD: Record<number, string> = { 1: 'ether', 772: 'loopback', 65534: 'none', 768: 'ipip', 776: 'sit', 778: 'gre' }
const SCOPES: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' }
const TABLES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' }
const PROTOCOLS: Record<number, string> = {
  1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt', 11: 'zebra', 12: 'bird', 13: 'dnrouted',
  14: 'xorp', 15: 'ntk', 16: 'dhcp', 18: 'keepalived', 42: 'babel', 99: 'openr', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp'
}
const ROUTE_TYPES = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve']
const ROUTE_FLAGS: Array<[number, string]> = [[1, 'dead'], [4, 'onlink'], [2, 'pervasive'], [8, 'offload'], [64, 'trap'], [0x100, 'notify'],
  [16, 'linkdown'], [32, 'unresolved'], [0x4000, 'rt_offload'], [0x8000, 'rt_trap'], [0x20000000, 'rt_offload_failed']]
const PREFS: Record<number, string> = { 0: 'medium', 1: 'high', 3: 'low' }
const IPPROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp' }
const hex = (n: number): string => '0x' + (n >>> 0).toString(16)

function linkJson (l: Link, names: Map<number, string>): Json {
  const o: Json = { ifindex: l.index }
  if (l.parentIndex !== undefined && l.parentIndex !== 0) {
    if (l.linkNetnsId !== undefined) o.link_index = l.parentIndex; else o.link = names.get(l.parentIndex) ?? `if${l.parentIndex}`
  }
  o.ifname = l.name
  const flags: string[] = []
  if ((l.flags & IFF_UP) !== 0 && (l.flags & IFF_RUNNING) === 0) flags.push('NO-CARRIER')
  for (const [bit, name] of IFF_NAMES) if ((l.flags & bit) !== 0) flags.push(name)
  o.flags = flags
  o.mtu = l.mtu
  if (l.master !== undefined) o.master = names.get(l.master) ?? String(l.master)
  o.operstate = l.operstate.toUpperCase()
  if (l.txqlen !== undefined) o.txqlen = l.txqlen
  o.link_type = ARPHRD[l.type] ?? `[${l.type}]`
  if (l.mac !== undefined) o.address = l.mac
  if (l.broadcast !== undefined) o.broadcast = l.broadcast
  if (l.linkNetnsId !== undefined) o.link_netnsid = l.linkNetnsId
  if (l.alias !== undefined) o.ifalias = l.alias
  if (l.altNames !== undefined && l.altNames.length > 0) o.altnames = l.altNames
  return o
}

// iproute2's print_addrinfo, flag by flag (IFA_F_SECONDARY is "temporary" for IPv6).
const ADDRESS_FLAGS: Array<[number, string]> = [
  [IFA_F_TENTATIVE, 'tentative'], [IFA_F_DEPRECATED, 'deprecated'], [IFA_F_HOMEADDRESS, 'home'], [IFA_F_NODAD, 'nodad'],
  [IFA_F_MANAGETEMPADDR, 'mngtmpaddr'], [IFA_F_NOPREFIXROUTE, 'noprefixroute'], [IFA_F_MCAUTOJOIN, 'autojoin']
]
const FOREVER = 4294967295
function addressJson (a: Address): Json {
  const o: Json = { family: a.family === AF_INET6 ? 'inet6' : 'inet', local: a.address }
  if (a.peer !== undefined) o.address = a.peer
  o.prefixlen = a.prefixLength
  if (a.broadcast !== undefined) o.broadcast = a.broadcast
  if (a.anycast !== undefined) o.anycast = a.anycast
  o.scope = SCOPES[a.scope] ?? String(a.scope)
  if ((a.flags & IFA_F_SECONDARY) !== 0) o[a.family === AF_INET6 ? 'temporary' : 'secondary'] = true
  for (const [bit, name] of ADDRESS_FLAGS) if ((a.flags & bit) !== 0) o[name] = true
  if ((a.flags & IFA_F_PERMANENT) === 0) o.dynamic = true
  if ((a.flags & IFA_F_DADFAILED) !== 0) o.dadfailed = true
  if ((a.flags & IFA_F_OPTIMISTIC) !== 0) o.optimistic = true
  if ((a.flags & IFA_F_STABLE_PRIVACY) !== 0) o['stable-privacy'] = true
  if (a.label !== undefined) o.label = a.label
  o.valid_life_time = Number.isFinite(a.validLifetime) ? a.validLifetime : FOREVER
  o.preferred_life_time = Number.isFinite(a.preferredLifetime) ? a.preferredLifetime : FOREVER
  return o
}

function routeJson (r: Route, names: Map<number, string>, allTables: boolean): Json {
  const o: Json = {}
  if (r.type !== 1) o.type = ROUTE_TYPES[r.type] ?? String(r.type)
  const [addr, len] = r.dst.split('/')
  o.dst = Number(len) === 0 ? 'default' : Number(len) === (r.family === AF_INET6 ? 128 : 32) ? addr : r.dst
  if (r.gateway !== undefined) o.gateway = r.gateway
  if (r.oif !== undefined) o.dev = names.get(r.oif) ?? String(r.oif)
  if (allTables && r.table !== RT_TABLE_MAIN) o.table = TABLES[r.table] ?? String(r.table)
  if (r.protocol !== 3) o.protocol = PROTOCOLS[r.protocol] ?? String(r.protocol)
  if (r.scope !== 0) o.scope = SCOPES[r.scope] ?? String(r.scope)
  if (r.prefsrc !== undefined) o.prefsrc = r.prefsrc
  if (r.priority !== undefined) o.metric = r.priority
  o.flags = ROUTE_FLAGS.filter(([bit]) => (r.flags & bit) !== 0).map(([, n]) => n)
  if (r.multipath !== undefined) {
    o.nexthops = r.multipath.map(nh => ({
      ...(nh.gateway !== undefined ? { gateway: nh.gateway } : {}), dev: names.get(nh.oif) ?? String(nh.oif), weight: nh.weight,
      flags: ROUTE_FLAGS.filter(([bit]) => (nh.flags & bit) !== 0).map(([, n]) => n)
    }))
  }
  if (r.family === AF_INET6 && r.pref !== undefined) o.pref = PREFS[r.pref] ?? String(r.pref)
  return o
}

const NUD_NAMES: Array<[number, string]> = [[0x01, 'INCOMPLETE'], [0x02, 'REACHABLE'], [0x04, 'STALE'], [0x08, 'DELAY'], [0x10, 'PROBE'],
  [0x20, 'FAILED'], [0x40, 'NOARP'], [0x80, 'PERMANENT']]
function neighbourJson (n: Neighbour, names: Map<number, string>): Json {
  const o: Json = { dst: n.address, dev: names.get(n.index) ?? String(n.index) }
  if (n.lladdr !== undefined) o.lladdr = n.lladdr
  if ((n.flags & NTF_ROUTER) !== 0) o.router = null
  if ((n.flags & NTF_PROXY) !== 0) o.proxy = null
  o.state = n.state === 0 ? ['NONE'] : NUD_NAMES.filter(([bit]) => (n.state & bit) !== 0).map(([, s]) => s)
  return o
}

/**
 * A rule in the words `ip -j rule show` prints (iproute2 6.1's print_rule);
 * the tests compare our decoded rules with iproute2 through it.
 */
export function ruleJson (r: Rule): Json {
  const o: Json = { priority: r.priority }
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
  if (r.protocol !== undefined && r.protocol !== 0 && r.protocol !== 2) o.protocol = PROTOCOLS[r.protocol] ?? String(r.protocol)
  return o
}

async function main (argv: string[]): Promise<unknown> {
  let netns: string | undefined
  let family: number | undefined
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '-n' || a === '-netns') netns = argv[++i]
    else if (a === '-4') family = AF_INET
    else if (a === '-6') family = AF_INET6
    else if (a === '-j' || a === '-json') continue // always JSON
    else words.push(a)
  }
  const [object, verb = 'show', ...rest] = words
  if (verb !== 'show' && verb !== 'list' && verb !== 'ls') throw new Error(`only "show" is supported, not ${JSON.stringify(verb)}`)
  const h = NetlinkHandle.open(netns)
  try {
    const links = await h.links.list()
    const names = new Map(links.map(l => [l.index, l.name]))
    switch (object) {
      case 'link': case 'l':
        return links.map(l => linkJson(l, names))
      case 'addr': case 'address': case 'a': {
        const addresses = await h.addresses.list(family !== undefined ? { family } : {})
        const out: Json[] = []
        for (const l of links) {
          const mine = addresses.filter(a => a.index === l.index)
          // As iproute2: with -4/-6, only links holding such addresses, without their link-layer fields.
          if (family !== undefined && mine.length === 0) continue
          const { ifalias: _alias, altnames: _alt, ...o } = linkJson(l, names)
          if (family !== undefined) for (const k of ['master', 'link_type', 'address', 'broadcast']) delete o[k]
          out.push({ ...o, addr_info: mine.map(addressJson) })
        }
        return out
      }
      case 'route': case 'r': {
        const table = rest[0] === 'table' ? rest[1] : undefined
        const all = table === 'all'
        const id = table === undefined ? RT_TABLE_MAIN : all ? undefined : Number(Object.entries(TABLES).find(([, n]) => n === table)?.[0] ?? table)
        // As iproute2: IPv4 unless asked otherwise, except for `table all`, which shows both families.
        const routes = await h.routes.list({ ...(family !== undefined ? { family } : all ? {} : { family: AF_INET }), ...(id !== undefined ? { table: id } : {}) })
        return routes.map(r => routeJson(r, names, all))
      }
      case 'rule': case 'ru':
        return (await h.rules.list({ family: family ?? AF_INET })).map(ruleJson)
      case 'neigh': case 'neighbour': case 'neighbor': case 'n': {
        const neighbours = await h.neighbours.list(family !== undefined ? { family } : {})
        // As `ip neigh show`: entries without a NUD state worth showing (NOARP, NONE) are left out.
        return neighbours.filter(n => (n.state & ~NUD_NOARP) !== 0 || (n.flags & NTF_PROXY) !== 0).map(n => neighbourJson(n, names))
      }
      default:
        throw new Error(`unknown object ${JSON.stringify(object)}: link, addr, route, rule or neigh`)
    }
  } finally {
    h.close()
  }
}

// Run as a program (not when a test imports ruleJson).
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (out) => { process.stdout.write(JSON.stringify(out) + '\n') },
    (err: Error) => { process.stderr.write(`ip: ${err.message}\n`); process.exitCode = 1 }
  )
}

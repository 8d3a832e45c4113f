// RouteService: list, look up, add, append, replace and delete routes, with
// addresses as text. Request builders are pure functions (bytes out, no
// socket) that send what iproute2 sends for the same route.
import { NetlinkWriter } from '../attributes.js'
import { parseCIDR, parseIP, formatIP } from '../addr.js'
import { NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../message.js'
import type { NetlinkSocket } from '../socket.js'
import { AF_INET, AF_INET6, AF_MPLS, AF_UNSPEC, RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE } from './rtnetlink.js'
import {
  RTAX_ADVMSS, RTAX_CC_ALGO, RTAX_CWND, RTAX_FASTOPEN_NO_COOKIE, RTAX_FEATURES, RTAX_HOPLIMIT, RTAX_INITCWND, RTAX_INITRWND,
  RTAX_LOCK, RTAX_MTU, RTAX_QUICKACK, RTAX_REORDERING, RTAX_RTO_MIN, RTAX_RTT, RTAX_RTTVAR, RTAX_SSTHRESH, RTAX_WINDOW,
  RTM_F_LOOKUP_TABLE, RTN_ANYCAST, RTN_BROADCAST, RTN_LOCAL, RTN_MULTICAST, RTN_NAT, RTN_UNICAST, RTN_UNSPEC, RTPROT_BOOT,
  RTPROT_UNSPEC, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_NOWHERE, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, RT_TABLE_UNSPEC,
  LWTUNNEL_ENCAP_MPLS, decodeRoute, encodeRouteMessage, formatMplsLabels, mplsEncapAttribute, parseMplsLabels,
  type NextHopMessage, type NextHopAttributes, type Route, type RouteMessage, type RouteMetricsByNumber, type RouteVia
} from './route.js'
import { type FieldMap, toKernel } from './field-map.js'
import type { RouteAttributes } from './route.js'
import { withDeviceNames, type DeviceNamer } from './interface-name.js'

export type { Route, RouteMetrics, RouteNextHop } from './route.js'

/** Metrics a route can carry (RTA_METRICS), by name. */
export interface RouteMetricsSpec {
  lock?: number
  mtu?: number
  window?: number
  rtt?: number
  rttvar?: number
  ssthresh?: number
  cwnd?: number
  advmss?: number
  reordering?: number
  hoplimit?: number
  initcwnd?: number
  features?: number
  rtoMin?: number
  initrwnd?: number
  quickack?: number
  ccAlgo?: string
  fastopenNoCookie?: number
}

const METRIC_NUMBERS: Array<[keyof RouteMetricsSpec, number]> = [
  ['lock', RTAX_LOCK], ['mtu', RTAX_MTU], ['window', RTAX_WINDOW], ['rtt', RTAX_RTT], ['rttvar', RTAX_RTTVAR],
  ['ssthresh', RTAX_SSTHRESH], ['cwnd', RTAX_CWND], ['advmss', RTAX_ADVMSS], ['reordering', RTAX_REORDERING],
  ['hoplimit', RTAX_HOPLIMIT], ['initcwnd', RTAX_INITCWND], ['features', RTAX_FEATURES], ['rtoMin', RTAX_RTO_MIN],
  ['initrwnd', RTAX_INITRWND], ['quickack', RTAX_QUICKACK], ['ccAlgo', RTAX_CC_ALGO], ['fastopenNoCookie', RTAX_FASTOPEN_NO_COOKIE]
]

export interface NextHopSpec {
  gateway?: string
  /** Output interface index. */
  oif?: number
  /** 1..256 (rtnh_hops + 1); 1 by default. */
  weight?: number
  /** RTNH_F_* (e.g. RTNH_F_ONLINK). */
  flags?: number
  /** A gateway of another family (RTA_VIA), e.g. an IPv6 router for an IPv4 or MPLS route. */
  via?: RouteVia
  /** MPLS labels this nexthop pushes (RTA_NEWDST), "200/300": MPLS routes. */
  newdst?: string
  /** Realms, `from << 16 | to` (RTA_FLOW, `realms FROM/TO`). */
  flow?: number
}

export interface RouteSpec {
  /**
   * "10.0.0.0/8", "2001:db8::/32", a bare address (a host route), or
   * "default". For "default" RTA_DST is sent only when `family` is given
   * (iproute2 sends it for `ip -6 route add default`, not for `ip route add default`).
   * With family AF_MPLS: the incoming label, "100".
   */
  dst: string
  /** AF_INET / AF_INET6 / AF_MPLS; needed only for "default" without a gateway (AF_INET then) and for MPLS routes. */
  family?: number
  gateway?: string | undefined
  /** A gateway of another family (RTA_VIA): `via inet6 fe80::1` on an IPv4 route, `via inet 10.0.0.1` or `via link MAC` on an MPLS route. */
  via?: RouteVia
  /** MPLS routes: the label stack swapped in (RTA_NEWDST, `as 200/300`). */
  newdst?: string
  /** Push MPLS labels onto packets of this route (`encap mpls 200/300 [ttl N]`: RTA_ENCAP + RTA_ENCAP_TYPE). */
  encap?: { mpls: string, ttl?: number }
  /** Realms, `from << 16 | to` (RTA_FLOW, `realms FROM/TO`). */
  flow?: number
  /** Output interface index. */
  oif?: number
  /** Metric (RTA_PRIORITY). */
  priority?: number | undefined
  /** Table id; RT_TABLE_MAIN by default. Ids above 255 go to RTA_TABLE with rtm_table RT_TABLE_UNSPEC, as iproute2 sends. */
  table?: number | undefined
  /** RTPROT_*; RTPROT_BOOT by default for add (as iproute2 and the CNI plugins). */
  protocol?: number
  /** RT_SCOPE_*; by default link for a unicast route without a gateway, host for local routes, else universe. */
  scope?: number
  /** RTN_*; RTN_UNICAST by default. */
  type?: number
  /** Preferred source address (RTA_PREFSRC, `ip route … src X`). */
  prefsrc?: string
  /** Source prefix (RTA_SRC, `ip route … from X`), IPv6 source routing. */
  src?: string
  tos?: number
  /** rtm_flags, e.g. RTNH_F_ONLINK. */
  flags?: number
  metrics?: RouteMetricsSpec
  multipath?: NextHopSpec[]
  /** RTA_PREF (IPv6 router preference). */
  pref?: number
  /** RTA_EXPIRES in seconds (IPv6). */
  expires?: number
  /** RTA_NH_ID: use this nexthop object. */
  nhId?: number
}

export interface RouteListFilter {
  /** AF_INET or AF_INET6; both by default. */
  family?: number
  /** A table id; every table by default. */
  table?: number
  /** Output interface index (routes whose nexthops use it count too). */
  oif?: number
}

export interface RouteLookupOptions {
  /** Output interface to look up through (RTA_OIF). */
  oif?: number
  /** Input interface, as for a packet received there (RTA_IIF). */
  iif?: number
  /** Source address (RTA_SRC). */
  src?: string
  mark?: number
}

interface Destination { bytes: Uint8Array | undefined, prefixLength: number, family: number }

function familyOfText (text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const b = parseIP(text)
  return b === undefined ? undefined : b.length === 4 ? AF_INET : AF_INET6
}

function parseDestination (spec: Pick<RouteSpec, 'dst' | 'family' | 'gateway' | 'multipath' | 'prefsrc'>): Destination {
  if (spec.family === AF_MPLS) {
    const label = parseMplsLabels(spec.dst, 'MPLS route label')
    if (label.length !== 4) throw new TypeError(`MPLS route: one incoming label, not ${JSON.stringify(spec.dst)}`)
    return { bytes: label, prefixLength: 20, family: AF_MPLS }
  }
  if (spec.dst === 'default') {
    const family = spec.family ?? familyOfText(spec.gateway) ?? familyOfText(spec.multipath?.[0]?.gateway) ?? familyOfText(spec.prefsrc) ?? AF_INET
    return { bytes: spec.family !== undefined ? new Uint8Array(family === AF_INET6 ? 16 : 4) : undefined, prefixLength: 0, family }
  }
  const c = parseCIDR(spec.dst)
  if (c === undefined) throw new TypeError(`route destination: not an address, a CIDR or "default": ${JSON.stringify(spec.dst)}`)
  const family = c.address.length === 4 ? AF_INET : AF_INET6
  if (spec.family !== undefined && spec.family !== family) throw new TypeError(`route destination ${spec.dst} is not of family ${spec.family}`)
  return { bytes: c.address, prefixLength: c.prefixLength, family }
}

function checkFamily (text: string, family: number, what: string): string {
  const b = parseIP(text)
  if (b === undefined) throw new TypeError(`${what}: not an IP address: ${JSON.stringify(text)}`)
  const f = b.length === 4 ? AF_INET : AF_INET6
  // An IPv4 route may use an IPv6 gateway only through RTA_VIA; keep families equal here.
  if (f !== family) throw new TypeError(`${what} ${text} is not of the route's family`)
  return formatIP(b, 0, b.length)
}

/** An MPLS label stack checked and written as the codec writes it ("200/300"). */
function labelStack (text: string, what: string): string {
  const b = parseMplsLabels(text, what)
  return formatMplsLabels(b, 0, b.length)!
}

function metricsOf (m: RouteMetricsSpec): RouteMetricsByNumber | undefined {
  const out: RouteMetricsByNumber = {}
  let any = false
  for (const [name, n] of METRIC_NUMBERS) {
    const v = m[name]
    if (v === undefined) continue
    out[n] = v
    any = true
  }
  return any ? out : undefined
}

/** RouteSpec → RTA_*: what passes as it is (the rest is checked against the route's family below). */
const ROUTE_SPEC: FieldMap<RouteSpec, RouteAttributes> = {
  via: ['via', (v: RouteVia) => ({ ...v })], priority: 'priority', pref: 'pref', expires: 'expires', flow: 'flow', nhId: 'nhId', oif: 'oif'
}
const NEXTHOP_SPEC: FieldMap<NextHopSpec, NextHopAttributes> = { via: ['via', (v: RouteVia) => ({ ...v })], flow: 'flow' }

/** The rtmsg + attributes for spec, with iproute2's defaults for the operation. */
export function routeMessageFor (spec: RouteSpec, operation: 'add' | 'delete' = 'add'): RouteMessage {
  const d = parseDestination(spec)
  const table = spec.table ?? RT_TABLE_MAIN
  if (!Number.isInteger(table) || table < 0 || table > 0xffffffff) throw new TypeError(`route table must be a u32, not ${table}`)
  const hasGateway = spec.gateway !== undefined || spec.via !== undefined || (spec.multipath !== undefined && spec.multipath.length > 0) || spec.nhId !== undefined
  const type = spec.type ?? (operation === 'add' ? RTN_UNICAST : RTN_UNSPEC)
  let scope = spec.scope
  if (scope === undefined) {
    // iproute2's defaults: IPv6 and MPLS routes are always of universe scope.
    if (d.family === AF_INET6 || d.family === AF_MPLS) scope = RT_SCOPE_UNIVERSE
    else if (type === RTN_LOCAL || type === RTN_NAT) scope = RT_SCOPE_HOST
    else if (type === RTN_BROADCAST || type === RTN_MULTICAST || type === RTN_ANYCAST) scope = RT_SCOPE_LINK
    else if (operation === 'delete') scope = RT_SCOPE_NOWHERE
    else if (!hasGateway && (type === RTN_UNICAST || type === RTN_UNSPEC)) scope = RT_SCOPE_LINK
    else scope = RT_SCOPE_UNIVERSE
  }
  const m: RouteMessage = {
    family: d.family,
    dstLength: d.prefixLength,
    srcLength: 0,
    tos: spec.tos ?? 0,
    table: table < 256 ? table : RT_TABLE_UNSPEC,
    protocol: spec.protocol ?? (operation === 'add' ? RTPROT_BOOT : RTPROT_UNSPEC),
    scope,
    type,
    flags: spec.flags ?? 0,
    attributes: toKernel(spec, ROUTE_SPEC)
  }
  const a = m.attributes
  if (d.bytes !== undefined) a.dst = d.family === AF_MPLS ? formatMplsLabels(d.bytes, 0, 4)! : formatIP(d.bytes, 0, d.bytes.length)
  if (spec.encap !== undefined) {
    a.encap = mplsEncapAttribute(spec.encap.mpls, spec.encap.ttl)
    a.encapType = LWTUNNEL_ENCAP_MPLS
  }
  if (spec.src !== undefined) {
    const s = parseCIDR(spec.src)
    if (s === undefined || (s.address.length === 4 ? AF_INET : AF_INET6) !== d.family) throw new TypeError(`route source prefix: not a CIDR of the route's family: ${JSON.stringify(spec.src)}`)
    a.src = formatIP(s.address, 0, s.address.length)
    m.srcLength = s.prefixLength
  }
  if (spec.prefsrc !== undefined) a.prefsrc = checkFamily(spec.prefsrc, d.family, 'prefsrc')
  if (spec.newdst !== undefined) a.newdst = labelStack(spec.newdst, 'newdst')
  if (spec.gateway !== undefined) a.gateway = checkFamily(spec.gateway, d.family, 'gateway')
  if (table >= 256) a.table = table
  if (spec.metrics !== undefined) {
    const metrics = metricsOf(spec.metrics)
    if (metrics !== undefined) a.metrics = metrics
  }
  if (spec.multipath !== undefined && spec.multipath.length > 0) {
    a.multipath = spec.multipath.map((nh): NextHopMessage => {
      const weight = nh.weight ?? 1
      if (!Number.isInteger(weight) || weight < 1 || weight > 256) throw new TypeError(`nexthop weight must be 1..256, not ${weight}`)
      const attributes = toKernel(nh, NEXTHOP_SPEC)
      if (nh.newdst !== undefined) attributes.newdst = labelStack(nh.newdst, 'nexthop newdst')
      if (nh.gateway !== undefined) attributes.gateway = checkFamily(nh.gateway, d.family, 'nexthop gateway')
      return { flags: nh.flags ?? 0, hops: weight - 1, ifindex: nh.oif ?? 0, attributes }
    })
  }
  return m
}

function request (type: number, flags: number, m: RouteMessage): Buffer {
  const w = new NetlinkWriter(128)
  w.beginMessage(type, flags)
  encodeRouteMessage(w, m)
  w.endMessage()
  return Buffer.from(w.bytes())
}

/** RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL, as `ip route add`. */
export function buildAddRouteRequest (spec: RouteSpec): Buffer {
  return request(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, routeMessageFor(spec, 'add'))
}

/** RTM_NEWROUTE with NLM_F_CREATE|NLM_F_APPEND, as `ip route append` (another path of an ECMP route). */
export function buildAppendRouteRequest (spec: RouteSpec): Buffer {
  return request(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, routeMessageFor(spec, 'add'))
}

/** RTM_NEWROUTE with NLM_F_CREATE only, as the CNI plugins' netlink.RouteAdd (IPv6 ECMP appends, IPv4 fails with EEXIST). */
export function buildCreateRouteRequest (spec: RouteSpec): Buffer {
  return request(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, routeMessageFor(spec, 'add'))
}

/** RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE, as `ip route replace`. */
export function buildReplaceRouteRequest (spec: RouteSpec): Buffer {
  return request(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, routeMessageFor(spec, 'add'))
}

/** RTM_DELROUTE, as `ip route del`: protocol, type unspecified and scope nowhere unless given. */
export function buildDeleteRouteRequest (spec: RouteSpec): Buffer {
  return request(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, routeMessageFor(spec, 'delete'))
}

/** RTM_GETROUTE dump; table and oif are filters only under strict checking. */
export function buildListRoutesRequest (filter: RouteListFilter = {}): Buffer {
  const m: RouteMessage = {
    family: filter.family ?? AF_UNSPEC, dstLength: 0, srcLength: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0, attributes: {}
  }
  if (filter.table !== undefined) m.attributes.table = filter.table
  if (filter.oif !== undefined) m.attributes.oif = filter.oif
  return request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, m)
}

/** RTM_GETROUTE for one destination, as `ip route get`: the route the kernel would use. */
export function buildGetRouteRequest (destination: string, options: RouteLookupOptions = {}): Buffer {
  const ip = parseIP(destination)
  if (ip === undefined) throw new TypeError(`route lookup: not an IP address: ${JSON.stringify(destination)}`)
  const family = ip.length === 4 ? AF_INET : AF_INET6
  const m: RouteMessage = {
    family, dstLength: ip.length * 8, srcLength: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: RTM_F_LOOKUP_TABLE, attributes: {}
  }
  m.attributes.dst = formatIP(ip, 0, ip.length)
  if (options.src !== undefined) {
    m.attributes.src = checkFamily(options.src, family, 'source')
    m.srcLength = ip.length * 8
  }
  if (options.mark !== undefined) m.attributes.mark = options.mark
  if (options.iif !== undefined) m.attributes.iif = options.iif
  if (options.oif !== undefined) m.attributes.oif = options.oif
  return request(RTM_GETROUTE, NLM_F_REQUEST, m)
}

/** "default via 10.1.0.1 dev eth0 table 254", in `ip route` words, for error messages. */
export function describeRoute (spec: RouteSpec, dev: DeviceNamer): string {
  const parts = [spec.dst]
  if (spec.encap !== undefined) parts.push('encap', 'mpls', spec.encap.mpls)
  if (spec.prefsrc !== undefined) parts.push('src', spec.prefsrc)
  if (spec.newdst !== undefined) parts.push('as', spec.newdst)
  if (spec.gateway !== undefined) parts.push('via', spec.gateway)
  if (spec.via !== undefined) parts.push('via', `${spec.via.family}:${spec.via.address}`)
  if (spec.oif !== undefined) parts.push('dev', dev(spec.oif))
  for (const nh of spec.multipath ?? []) {
    parts.push('nexthop')
    if (nh.gateway !== undefined) parts.push('via', nh.gateway)
    if (nh.oif !== undefined) parts.push('dev', dev(nh.oif))
    if (nh.weight !== undefined) parts.push('weight', String(nh.weight))
  }
  if (spec.priority !== undefined) parts.push('metric', String(spec.priority))
  parts.push('table', String(spec.table ?? RT_TABLE_MAIN))
  return parts.join(' ')
}

function interfacesOf (spec: RouteSpec): number[] {
  const out: number[] = []
  if (spec.oif !== undefined) out.push(spec.oif)
  for (const nh of spec.multipath ?? []) if (nh.oif !== undefined) out.push(nh.oif)
  return out
}

function routeUsesInterface (r: Route, oif: number): boolean {
  if (r.oif === oif) return true
  if (r.multipath !== undefined) for (const nh of r.multipath) if (nh.oif === oif) return true
  return false
}

const decodeRouteReply = (buf: Uint8Array, type: number, start: number, end: number): Route | undefined =>
  type === RTM_NEWROUTE ? decodeRoute(buf, start, end) : undefined

export class RouteService {
  constructor (private readonly socket: NetlinkSocket) {}

  /**
   * Routes of every table (or one), both families (or one). The kernel
   * honours the filters only on sockets with strict checking; they are
   * applied here too, so the result is the same either way.
   */
  async list (filter: RouteListFilter = {}): Promise<Route[]> {
    const words = [filter.family === AF_INET ? 'inet' : filter.family === AF_INET6 ? 'inet6' : undefined,
      filter.table !== undefined ? `table ${filter.table}` : undefined,
      filter.oif !== undefined ? `oif ${filter.oif}` : undefined].filter(Boolean).join(' ')
    const all = await this.socket.dump(buildListRoutesRequest(filter), decodeRouteReply, `RTM_GETROUTE dump${words !== '' ? ' ' + words : ''}`)
    if (filter.table === undefined && filter.oif === undefined && (filter.family === undefined || filter.family === AF_UNSPEC)) return all
    return all.filter(r => (filter.table === undefined || r.table === filter.table) &&
      (filter.family === undefined || filter.family === AF_UNSPEC || r.family === filter.family) &&
      (filter.oif === undefined || routeUsesInterface(r, filter.oif)))
  }

  /** The route the kernel would use for destination (`ip route get`). */
  get (destination: string, options: RouteLookupOptions = {}): Promise<Route> {
    const indexes = [options.oif, options.iif].filter((i): i is number => i !== undefined)
    return withDeviceNames(this.socket, indexes, (dev) => `RTM_GETROUTE ${destination}` +
      (options.src !== undefined ? ` from ${options.src}` : '') + (options.iif !== undefined ? ` iif ${dev(options.iif)}` : '') +
      (options.oif !== undefined ? ` oif ${dev(options.oif)}` : ''),
    (operation) => this.socket.get(buildGetRouteRequest(destination, options), decodeRouteReply, operation))
  }

  /** Adds a route; EEXIST when the same route exists. */
  add (spec: RouteSpec): Promise<void> { return this.send(buildAddRouteRequest(spec), 'RTM_NEWROUTE', spec) }

  /** Adds a path to a route (ECMP), NLM_F_CREATE|NLM_F_APPEND. */
  append (spec: RouteSpec): Promise<void> { return this.send(buildAppendRouteRequest(spec), 'RTM_NEWROUTE (append)', spec) }

  /** Adds with NLM_F_CREATE alone, exactly as the CNI plugins do (no EXCL, no APPEND). */
  create (spec: RouteSpec): Promise<void> { return this.send(buildCreateRouteRequest(spec), 'RTM_NEWROUTE (create)', spec) }

  /** Adds or replaces the route to dst. */
  replace (spec: RouteSpec): Promise<void> { return this.send(buildReplaceRouteRequest(spec), 'RTM_NEWROUTE (replace)', spec) }

  /** Deletes the first route matching spec; ESRCH when none does. */
  delete (spec: RouteSpec): Promise<void> { return this.send(buildDeleteRouteRequest(spec), 'RTM_DELROUTE', spec) }

  private send (req: Buffer, verb: string, spec: RouteSpec): Promise<void> {
    return withDeviceNames(this.socket, interfacesOf(spec), (dev) => `${verb} ${describeRoute(spec, dev)}`,
      (operation) => this.socket.ack(req, operation))
  }
}

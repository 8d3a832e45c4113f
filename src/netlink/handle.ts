// The client API: one handle bound to one network namespace, with a service
// per object type. A handle owns one rtnetlink socket, created synchronously
// inside the namespace; every request of every rtnetlink service goes through
// it (conntrack, another protocol, opens its own on first use).
import { NetlinkSocket, type NetlinkSocketOptions } from './socket.js'
import { NetNamespace } from './netns.js'
import { LinkService, linkFromMessage, type Link } from './route/links.js'
import { decodeLinkMessage } from './route/link.js'
import { AddressService, decodeAddress, type Address } from './route/addresses.js'
import { RouteService } from './route/routes.js'
import { decodeRoute, type Route } from './route/route.js'
import { NeighbourService, decodeNeighbour, type Neighbour } from './route/neighbours.js'
import { RuleService } from './route/rules.js'
import { NexthopService } from './route/nexthops.js'
import { Subscription } from './events.js'
import { ConntrackService } from './conntrack/service.js'
import {
  AF_BRIDGE, AF_INET, AF_INET6, RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELROUTE, RTM_NAMES, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWNEIGH, RTM_NEWROUTE,
  RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK, RTNLGRP_NEIGH
} from './route/rtnetlink.js'

export interface HandleOptions extends Omit<NetlinkSocketOptions, 'namespace' | 'protocol'> {}

export class NetlinkHandle {
  readonly socket: NetlinkSocket
  /** The namespace this handle acts in; undefined for the caller's own. */
  readonly namespace: NetNamespace | undefined
  readonly links: LinkService
  readonly addresses: AddressService
  readonly routes: RouteService
  readonly neighbours: NeighbourService
  readonly rules: RuleService
  readonly nexthops: NexthopService
  private readonly ownsNamespace: boolean
  private readonly options: HandleOptions
  private conntrackService: ConntrackService | undefined

  private constructor (socket: NetlinkSocket, namespace: NetNamespace | undefined, ownsNamespace: boolean, options: HandleOptions) {
    this.socket = socket
    this.namespace = namespace
    this.ownsNamespace = ownsNamespace
    this.options = options
    this.links = new LinkService(socket)
    this.addresses = new AddressService(socket)
    this.routes = new RouteService(socket)
    this.neighbours = new NeighbourService(socket)
    this.rules = new RuleService(socket)
    this.nexthops = new NexthopService(socket)
  }

  /**
   * A handle on a namespace: a NetNamespace, a path (/var/run/netns/x,
   * /proc/PID/ns/net), a bare name as `ip netns` names them, or nothing for
   * the caller's own namespace.
   */
  static open (target?: NetNamespace | string, options: HandleOptions = {}): NetlinkHandle {
    let ns: NetNamespace | undefined
    let owns = false
    if (typeof target === 'string') {
      ns = target.includes('/') ? NetNamespace.open(target) : NetNamespace.openNamed(target)
      owns = true
    } else {
      ns = target
    }
    try {
      return new NetlinkHandle(NetlinkSocket.open({ ...options, namespace: ns }), ns, owns, options)
    } catch (err) {
      if (owns) ns?.close()
      throw err
    }
  }

  /**
   * A handle on an rtnetlink socket opened elsewhere (one kept open between
   * runs, say), acting in `namespace` (undefined: the caller's own, or
   * unknown). The handle takes the socket over: close() closes it.
   */
  static fromSocket (socket: NetlinkSocket, namespace?: NetNamespace): NetlinkHandle {
    return new NetlinkHandle(socket, namespace, false, {})
  }

  /**
   * The namespace's connection-tracking table. Conntrack speaks another
   * netlink protocol (NETLINK_NETFILTER): its socket is opened in the
   * handle's namespace on first use and closed with the handle.
   */
  get conntrack (): ConntrackService {
    this.conntrackService ??= ConntrackService.open({
      namespace: this.namespace,
      timeoutMs: this.options.timeoutMs,
      extendedAck: this.options.extendedAck
    })
    return this.conntrackService
  }

  /** Closes the socket(s) (and the namespace fd when the handle opened it). */
  close (): void {
    this.socket.close()
    this.conntrackService?.close()
    if (this.ownsNamespace) this.namespace?.close()
  }
}

/** One decoded rtnetlink event. */
export type RouteEvent =
  | { type: 'RTM_NEWLINK' | 'RTM_DELLINK', link: Link }
  | { type: 'RTM_NEWADDR' | 'RTM_DELADDR', address: Address }
  | { type: 'RTM_NEWROUTE' | 'RTM_DELROUTE', route: Route }
  | { type: 'RTM_NEWNEIGH' | 'RTM_DELNEIGH', neighbour: Neighbour }

export type EventGroup = 'link' | 'ipv4-address' | 'ipv6-address' | 'ipv4-route' | 'ipv6-route' | 'neighbour'

const GROUPS: Record<EventGroup, number> = {
  link: RTNLGRP_LINK,
  'ipv4-address': RTNLGRP_IPV4_IFADDR,
  'ipv6-address': RTNLGRP_IPV6_IFADDR,
  'ipv4-route': RTNLGRP_IPV4_ROUTE,
  'ipv6-route': RTNLGRP_IPV6_ROUTE,
  neighbour: RTNLGRP_NEIGH
}

function decodeEvent (buf: Uint8Array, type: number, _flags: number, start: number, end: number): RouteEvent | undefined {
  switch (type) {
    case RTM_NEWLINK: case RTM_DELLINK: {
      const m = decodeLinkMessage(buf, start, end)
      if (m.family === AF_BRIDGE) return undefined // per-port bridge notifications duplicate the link ones
      return { type: RTM_NAMES[type] as 'RTM_NEWLINK', link: linkFromMessage(m) }
    }
    case RTM_NEWADDR: case RTM_DELADDR:
      return { type: RTM_NAMES[type] as 'RTM_NEWADDR', address: decodeAddress(buf, start, end) }
    case RTM_NEWROUTE: case RTM_DELROUTE:
      return { type: RTM_NAMES[type] as 'RTM_NEWROUTE', route: decodeRoute(buf, start, end) }
    case RTM_NEWNEIGH: case RTM_DELNEIGH:
      return { type: RTM_NAMES[type] as 'RTM_NEWNEIGH', neighbour: decodeNeighbour(buf, start, end) }
    default:
      return undefined
  }
}

/** What a route-event subscription resynchronises to after an overrun: the objects of its groups, as dumps found them. */
export interface RouteSnapshot {
  links?: Link[]
  addresses?: Address[]
  routes?: Route[]
  neighbours?: Neighbour[]
}

export interface RouteEventOptions {
  namespace?: NetNamespace | undefined
  /** SO_RCVBUF; default 4 MiB. */
  receiveBufferSize?: number | undefined
  /** Events buffered for a slow consumer before they are dropped (and an overrun reported). Default 100,000. */
  maxQueued?: number | undefined
  /** After each overrun, dump the subscribed objects and deliver them as { kind: 'resync', snapshot }. */
  resync?: boolean | undefined
}

/** The family a pair of v4/v6 groups asks for: undefined for both. */
function familyOf (v4: boolean, v6: boolean): number | undefined {
  return v4 && !v6 ? AF_INET : v6 && !v4 ? AF_INET6 : undefined
}

async function snapshotOf (h: NetlinkHandle, groups: EventGroup[]): Promise<RouteSnapshot> {
  const s: RouteSnapshot = {}
  const has = (g: EventGroup): boolean => groups.includes(g)
  if (has('link')) s.links = await h.links.list()
  if (has('ipv4-address') || has('ipv6-address')) {
    const family = familyOf(has('ipv4-address'), has('ipv6-address'))
    s.addresses = await h.addresses.list(family !== undefined ? { family } : {})
  }
  if (has('ipv4-route') || has('ipv6-route')) {
    const family = familyOf(has('ipv4-route'), has('ipv6-route'))
    s.routes = await h.routes.list(family !== undefined ? { family } : {})
  }
  if (has('neighbour')) s.neighbours = await h.neighbours.list()
  return s
}

/**
 * Subscribes to rtnetlink events in a namespace (default: the caller's):
 *   const sub = subscribeRouteEvents(['link', 'ipv4-route'], { resync: true })
 *   for await (const ev of sub) {
 *     if (!('kind' in ev)) apply(ev)                     // RTM_NEWLINK …
 *     else if (ev.kind === 'resync') replace(ev.snapshot) // after an overrun
 *   }
 * Events lost to a full queue are never silent: an { kind: 'overrun' } item
 * says so, and with `resync` a { kind: 'resync', snapshot } follows it.
 */
export function subscribeRouteEvents (groups: EventGroup[], options: RouteEventOptions = {}): Subscription<RouteEvent, RouteSnapshot> {
  // The dumps of a resync go through a handle of their own, opened now (the namespace may be closed later).
  const handle = options.resync === true ? NetlinkHandle.open(options.namespace) : undefined
  try {
    return new Subscription<RouteEvent, RouteSnapshot>(decodeEvent, {
      groups: groups.map(g => GROUPS[g]),
      namespace: options.namespace,
      receiveBufferSize: options.receiveBufferSize,
      maxQueued: options.maxQueued,
      resync: handle !== undefined ? () => snapshotOf(handle, groups) : undefined,
      onClose: handle !== undefined ? () => { handle.close() } : undefined
    })
  } catch (err) {
    handle?.close()
    throw err
  }
}

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
import { Subscription } from './events.js'
import { ConntrackService } from './conntrack/service.js'
import {
  AF_BRIDGE, RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELROUTE, RTM_NAMES, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWNEIGH, RTM_NEWROUTE,
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
   * The namespace's connection-tracking table. Conntrack speaks another
   * netlink protocol (NETLINK_NETFILTER): its socket is opened in the
   * handle's namespace on first use and closed with the handle.
   */
  get conntrack (): ConntrackService {
    this.conntrackService ??= ConntrackService.open({
      ...(this.namespace !== undefined ? { namespace: this.namespace } : {}),
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.extendedAck !== undefined ? { extendedAck: this.options.extendedAck } : {})
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

/**
 * Subscribes to rtnetlink events in a namespace (default: the caller's):
 *   const sub = subscribeRouteEvents(['link', 'ipv4-address'])
 *   for await (const ev of sub) { if ('kind' in ev) resync(); else … }
 */
export function subscribeRouteEvents (groups: EventGroup[], options: { namespace?: NetNamespace, receiveBufferSize?: number } = {}): Subscription<RouteEvent> {
  return new Subscription(decodeEvent, { ...options, groups: groups.map(g => GROUPS[g]) })
}

// The kernel handles of one plugin run: one rtnetlink socket in the host
// namespace and, when the command touches the container, one in the
// container namespace, each with the services built on it. Opened
// synchronously at the start, closed at the end of the run.
//
// A long-lived process (the agent) may keep the sockets of its own network
// namespace warm between runs (keepOwnNamespaceSockets): a run takes one for
// itself alone and gives it back when it ends, open and with no request
// pending, or it is closed. Only the process's own namespace: a socket keeps
// its namespace alive, so none is ever kept in a pod's or another caller's,
// and nothing but the socket itself (its port and options) outlives a run.
import { NetlinkSocket } from '../../netlink/socket.js'
import type { NetNamespace } from '../../netlink/netns.js'
import { LinkService } from '../../netlink/route/links.js'
import { AddressService } from '../../netlink/route/addresses.js'
import { RouteService } from '../../netlink/route/routes.js'

export interface NamespaceHandles {
  /** The namespace the socket lives in; undefined: the thread's own. */
  ns: NetNamespace | undefined
  socket: NetlinkSocket
  links: LinkService
  addresses: AddressService
  routes: RouteService
}

/**
 * Opens the handles of a namespace (the caller's when absent). `strictCheck`
 * makes the kernel honour the filters of dump requests (an address dump of
 * one interface then walks that interface only, not every port of the
 * bridge); it needs koffi for setsockopt, which entering a namespace loads
 * anyway, so open the container's handles first.
 */
export function openHandles (namespace?: NetNamespace, options: { strictCheck?: boolean } = {}): NamespaceHandles {
  const strict = options.strictCheck === true
  let socket = namespace === undefined ? warm?.[strict ? 'strict' : 'plain'].pop() : undefined
  socket?.ref()
  socket ??= NetlinkSocket.open({
    ...(namespace !== undefined ? { namespace } : {}),
    ...(strict ? { strictCheck: true } : {})
  })
  if (namespace === undefined && warm !== undefined) kept.set(socket, strict)
  return { ns: namespace, socket, links: new LinkService(socket), addresses: new AddressService(socket), routes: new RouteService(socket) }
}

export function closeHandles (...handles: Array<NamespaceHandles | undefined>): void {
  for (const h of handles) {
    if (h === undefined) continue
    const strict = kept.get(h.socket)
    kept.delete(h.socket)
    const free = strict !== undefined ? warm?.[strict ? 'strict' : 'plain'] : undefined
    if (free !== undefined && h.socket.idle && free.length < warmMax) {
      h.socket.unref() // a kept socket does not keep the process running
      free.push(h.socket)
    } else {
      h.socket.close()
    }
  }
}

let warm: { strict: NetlinkSocket[], plain: NetlinkSocket[] } | undefined
let warmMax = 0
/** Sockets handed out from or for the warm sets, and whether they check strictly. */
const kept = new WeakMap<NetlinkSocket, boolean>()

/**
 * Keeps up to `max` idle sockets of each kind (strict checking or not) of
 * this process's own network namespace between runs; 0 turns it off and
 * closes them.
 */
export function keepOwnNamespaceSockets (max: number): void {
  if (max <= 0) {
    for (const s of [...(warm?.strict ?? []), ...(warm?.plain ?? [])]) s.close()
    warm = undefined
  } else {
    warm ??= { strict: [], plain: [] }
  }
  warmMax = Math.max(0, max)
}

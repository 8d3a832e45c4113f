// The kernel handles of one plugin run: one rtnetlink socket in the host
// namespace and, when the command touches the container, one in the
// container namespace, each with the services built on it. Opened
// synchronously at the start, closed at the end of the run.
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
  const socket = NetlinkSocket.open({
    ...(namespace !== undefined ? { namespace } : {}),
    ...(options.strictCheck === true ? { strictCheck: true } : {})
  })
  return { ns: namespace, socket, links: new LinkService(socket), addresses: new AddressService(socket), routes: new RouteService(socket) }
}

export function closeHandles (...handles: Array<NamespaceHandles | undefined>): void {
  for (const h of handles) h?.socket.close()
}

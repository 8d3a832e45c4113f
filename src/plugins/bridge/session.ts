// The kernel handles of one plugin run: the library's NetlinkHandle (one
// rtnetlink socket and the services on it) in the host namespace and, when
// the command touches the container, one in the container namespace. Opened
// synchronously at the start, closed at the end of the run.
//
// A long-lived process (the agent) may keep the sockets of its own network
// namespace warm between runs (keepOwnNamespaceSockets): a run takes one for
// itself alone and gives it back when it ends, open and with no request
// pending, or it is closed. Only the process's own namespace: a socket keeps
// its namespace alive, so none is ever kept in a pod's or another caller's,
// and nothing but the socket itself (its port and options) outlives a run.
import { NetlinkHandle } from '../../netlink/handle.js'
import type { NetlinkSocket } from '../../netlink/socket.js'
import { NetNamespace } from '../../netlink/netns.js'
import type { PluginContext } from '../../cni/skel.js'

/**
 * Opens the handle of a namespace (the caller's when absent). `strictCheck`
 * makes the kernel honour the filters of dump requests (an address dump of
 * one interface then walks that interface only, not every port of the
 * bridge); it needs koffi for setsockopt, which entering a namespace loads
 * anyway, so open the container's handle first.
 */
export function openHandles (namespace?: NetNamespace, options: { strictCheck?: boolean } = {}): NetlinkHandle {
  const strict = options.strictCheck === true
  const kept = namespace === undefined ? warm?.[strict ? 'strict' : 'plain'].pop() : undefined
  kept?.ref()
  const h = kept !== undefined ? NetlinkHandle.fromSocket(kept) : NetlinkHandle.open(namespace, { strictCheck: strict })
  if (namespace === undefined && warm !== undefined) keptSockets.set(h.socket, strict)
  return h
}

/**
 * Closes the handles, or gives a kept socket back to its warm set (open and
 * idle). A handle's conntrack socket is never opened by the plugins (DEL's
 * flush opens its own), so a kept socket leaves nothing else open.
 */
export function closeHandles (...handles: Array<NetlinkHandle | undefined>): void {
  for (const h of handles) {
    if (h === undefined) continue
    const strict = keptSockets.get(h.socket)
    keptSockets.delete(h.socket)
    const free = strict !== undefined ? warm?.[strict ? 'strict' : 'plain'] : undefined
    if (free !== undefined && h.socket.idle && free.length < warmMax) {
      h.socket.unref() // a kept socket does not keep the process running
      free.push(h.socket)
    } else {
      h.close()
    }
  }
}

let warm: { strict: NetlinkSocket[], plain: NetlinkSocket[] } | undefined
let warmMax = 0
/** Sockets handed out from or for the warm sets, and whether they check strictly. */
const keptSockets = new WeakMap<NetlinkSocket, boolean>()

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

/** The container's namespace (CNI_NETNS as the caller sees it), checked to be one; the error names the path. */
export function openSandbox (ctx: PluginContext): NetNamespace {
  try {
    return NetNamespace.openVerified(ctx.caller.path(ctx.netns), ctx.netns)
  } catch (err) {
    throw new Error(`failed to open netns ${JSON.stringify(ctx.netns)}: ${(err as Error).message}`, { cause: err })
  }
}

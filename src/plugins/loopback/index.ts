// The loopback plugin (containernetworking/plugins plugins/main/loopback):
// brings `lo` up in the container's namespace. CNI_ARGS and CNI_IFNAME are
// ignored, as upstream ignores them.
//
// Differences from upstream, on purpose: the result is converted properly to
// the config's version (upstream labels a 1.x-shaped result with an older
// version), and a missing or wrong CNI_NETNS on ADD/CHECK is error 4 naming
// CNI_NETNS instead of a generic 999.
import type { Plugin, PluginContext } from '../../cni/skel.js'
import { CniError, ErrInvalidEnvironmentVariables } from '../../cni/errors.js'
import type { Result } from '../../cni/result.js'
import { NetNamespace, NamespaceMissingError, NotANamespaceError } from '../../netlink/netns.js'
import { NetlinkSocket } from '../../netlink/socket.js'
import { LinkService } from '../../netlink/route/links.js'
import { AddressService } from '../../netlink/route/addresses.js'

const LOOPBACK = 'lo'
// The kernel gives lo index 1 in every namespace (LOOPBACK_IFINDEX): no lookup needed.
const LOOPBACK_INDEX = 1

/**
 * One socket inside CNI_NETNS for the whole command, with the two services
 * it needs on it (not a NetlinkHandle: its other services would cost every
 * loopback start ~1 ms of loading).
 */
function openSandboxSocket (ctx: PluginContext): NetlinkSocket {
  const netns = ctx.netns
  let ns: NetNamespace
  try {
    ns = NetNamespace.openVerified(ctx.caller.path(netns), netns)
  } catch (err) {
    if (err instanceof NamespaceMissingError || err instanceof NotANamespaceError) {
      throw new CniError(ErrInvalidEnvironmentVariables, `CNI_NETNS: ${err.message}`, netns)
    }
    throw err
  }
  try {
    return NetlinkSocket.open({ namespace: ns })
  } finally {
    ns.close() // the socket keeps its namespace; the fd is no longer needed
  }
}

async function add (ctx: PluginContext): Promise<Result> {
  // A chained loopback passes the previous result on unchanged.
  const prev = ctx.prevResult
  const sock = openSandboxSocket(ctx)
  try {
    const links = new LinkService(sock)
    const addresses = new AddressService(sock)
    // Both requests go out at once; the kernel handles them in order, so the
    // dump sees the addresses lo gets when it comes up.
    const [, addrs] = await Promise.all([links.setUp(LOOPBACK_INDEX), addresses.list({ index: LOOPBACK_INDEX })])
    for (const a of addrs) {
      if (!isLoopbackAddress(a.address)) throw new Error(`loopback interface found with non-loopback address ${JSON.stringify(a.address)}`)
    }
    if (prev !== undefined) return prev
    // The first address of each family, IPv4 first.
    const firsts = [addrs.find(a => a.family === 2), addrs.find(a => a.family === 10)]
    return {
      cniVersion: '1.1.0', // built as 1.1; the skel converts it to the config's version
      interfaces: [{ name: LOOPBACK, mac: '00:00:00:00:00:00', sandbox: ctx.netns }],
      ips: firsts.filter(a => a !== undefined).map(a => ({ interface: 0, address: a.cidr }))
    }
  } finally {
    sock.close()
  }
}

async function del (ctx: PluginContext): Promise<void> {
  if (ctx.netns === '') return
  let ns: NetNamespace
  try {
    ns = NetNamespace.openVerified(ctx.caller.path(ctx.netns), ctx.netns)
  } catch (err) {
    if (err instanceof NamespaceMissingError) return // already gone: DEL succeeds
    throw err
  }
  let sock: NetlinkSocket
  try {
    sock = NetlinkSocket.open({ namespace: ns })
  } finally {
    ns.close()
  }
  try {
    await new LinkService(sock).setDown(LOOPBACK_INDEX)
  } finally {
    sock.close()
  }
}

async function check (ctx: PluginContext): Promise<void> {
  const sock = openSandboxSocket(ctx)
  try {
    const lo = await new LinkService(sock).get(LOOPBACK_INDEX)
    if (!lo.up) throw new Error('loopback interface is down')
  } finally {
    sock.close()
  }
}

function isLoopbackAddress (ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1'
}

export const loopback: Plugin = {
  name: 'loopback',
  add,
  del,
  check,
  gc: async () => {},
  status: async () => {}
}

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
import { NetlinkHandle } from '../../netlink/handle.js'

const LOOPBACK = 'lo'
// The kernel gives lo index 1 in every namespace (LOOPBACK_IFINDEX): no lookup needed.
const LOOPBACK_INDEX = 1

/** One handle (one socket) inside CNI_NETNS for the whole command. */
function openSandbox (ctx: PluginContext): NetlinkHandle {
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
    return NetlinkHandle.open(ns)
  } finally {
    ns.close() // the socket keeps its namespace; the fd is no longer needed
  }
}

async function add (ctx: PluginContext): Promise<Result> {
  // A chained loopback passes the previous result on unchanged.
  const prev = ctx.prevResult
  const h = openSandbox(ctx)
  try {
    // Both requests go out at once; the kernel handles them in order, so the
    // dump sees the addresses lo gets when it comes up.
    const [, addrs] = await Promise.all([h.links.setUp(LOOPBACK_INDEX), h.addresses.list({ index: LOOPBACK_INDEX })])
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
    h.close()
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
  let h: NetlinkHandle
  try {
    h = NetlinkHandle.open(ns)
  } finally {
    ns.close()
  }
  try {
    await h.links.setDown(LOOPBACK_INDEX)
  } finally {
    h.close()
  }
}

async function check (ctx: PluginContext): Promise<void> {
  const h = openSandbox(ctx)
  try {
    const lo = await h.links.get(LOOPBACK_INDEX)
    if (!lo.up) throw new Error('loopback interface is down')
  } finally {
    h.close()
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

// DEL (upstream's cmdDel): delete the container interface, which removes
// the whole veth pair, then release the IPAM reservation. Best effort and
// idempotent: no CNI_NETNS, a namespace that is gone or an interface that is
// gone still release the IPAM reservation and succeed. The bridge, its
// gateway address and the forwarding sysctls are never touched.
import type { PluginContext } from '../../cni/skel.js'
import { delegateDel } from '../../cni/invoke.js'
import { fieldCI, isObject } from '../../cni/json.js'
import { isErrno } from '../../netlink/errors.js'
import { NamespaceMissingError, NetNamespace } from '../../netlink/netns.js'
import { loadBridgeConfig } from './config.js'
import { closeHandles, openHandles, type NamespaceHandles } from './session.js'

/**
 * The IPAM type of the config. A config that fails our checks (a bad VLAN id,
 * a mistyped option) still gets its DEL, so that a reservation made by an
 * ADD that failed is not leaked; only the IPAM type is needed for that.
 */
async function ipamTypeOf (ctx: PluginContext): Promise<string> {
  try {
    return (await loadBridgeConfig(ctx.config)).ipamType
  } catch (err) {
    ctx.log.warn(`DEL goes on despite an invalid config: ${(err as Error).message}`)
    const ipam = fieldCI(ctx.config, 'ipam')
    const type = isObject(ipam) ? fieldCI(ipam, 'type') : undefined
    return typeof type === 'string' ? type : ''
  }
}

export async function del (ctx: PluginContext): Promise<void> {
  const ipamType = await ipamTypeOf(ctx)
  const releaseIPAM = async (): Promise<void> => {
    if (ipamType !== '') await delegateDel(ipamType, ctx.stdin, ctx.env, { stderr: ctx.stderr })
  }
  if (ctx.netns === '') return await releaseIPAM()

  let sandbox
  try {
    sandbox = NetNamespace.openVerified(ctx.netns)
  } catch (err) {
    // The namespace is gone, and the veth with it: only the reservation is left.
    if (err instanceof NamespaceMissingError) return await releaseIPAM()
    throw err
  }
  let container: NamespaceHandles | undefined
  try {
    container = openHandles(sandbox)
    try {
      await container.links.delete(ctx.ifname)
    } catch (err) {
      if (!isErrno(err, 'ENODEV')) throw new Error(`failed to delete ${JSON.stringify(ctx.ifname)}: ${(err as Error).message}`, { cause: err })
    }
  } finally {
    closeHandles(container)
    sandbox.close()
  }
  // The interface first, then IPAM (upstream's order).
  await releaseIPAM()
  // macspoofchk and ipMasq teardown (from prevResult's IPs, so that they work
  // without the namespace too) go here when those options are implemented.
}

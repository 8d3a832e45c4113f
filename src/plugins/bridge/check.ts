// CHECK (upstream's cmdCheck) with two of its bugs fixed: an L2 network (no
// IPAM) is checked instead of failing with "no plugin name provided", and a
// route without a gateway matches by destination (also in its own table).
import type { PluginContext } from '../../cni/skel.js'
import { delegateCheck, delegateOptionsOf } from '../../cni/invoke.js'
import type { Interface, Result } from '../../cni/result.js'
import { IFF_PROMISC } from '../../netlink/route/link.js'
import type { Link } from '../../netlink/route/links.js'
import { RT_TABLE_MAIN } from '../../netlink/route/route.js'
import { AF_INET, AF_INET6 } from '../../netlink/route/rtnetlink.js'
import { loadBridgeConfig, type BridgeConfig } from './config.js'
import { envMac } from './add.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { closeHandles, openHandles, openSandbox } from './session.js'
import { canonicalPrefix, formatAddress, isIPv4Text, parseIP } from '../../netlink/addr.js'
import { checkBridgeState, checkContainerMTU, checkRouterAdvertisements, configuredMTU } from './check-state.js'
import { checkAttachmentRules, hostVethHint } from './check-rules.js'


async function findLink (h: NetlinkHandle, intf: Interface, expectInSandbox: boolean): Promise<Link> {
  if (intf.name === '') throw new Error('Interface name missing ')
  const link = await h.links.find(intf.name)
  if (link === undefined) throw new Error(`Interface name ${intf.name} not found`)
  if (expectInSandbox && (intf.sandbox ?? '') === '') throw new Error(`Interface ${intf.name} is expected to be in a sandbox`)
  if (!expectInSandbox && (intf.sandbox ?? '') !== '') throw new Error(`Interface ${intf.name} should not be in sandbox`)
  return link
}

async function checkBridge (host: NetlinkHandle, intf: Interface, conf: BridgeConfig): Promise<Link> {
  const link = await findLink(host, intf, false)
  if (link.kind !== 'bridge') throw new Error(`Interface ${intf.name} does not have link type of bridge`)
  if (intf.mac !== undefined && intf.mac !== '' && intf.mac !== link.mac) throw new Error(`Bridge interface ${intf.name} Mac doesn't match: ${intf.mac}`)
  const promisc = (link.flags & IFF_PROMISC) !== 0
  if (promisc !== conf.promiscMode) {
    throw new Error(`Bridge interface ${intf.name} configured Promisc Mode ${String(conf.promiscMode)} doesn't match current state: ${String(promisc)} `)
  }
  return link
}

async function checkContainerInterface (container: NetlinkHandle, intf: Interface): Promise<Link> {
  const link = await findLink(container, intf, true)
  if (link.kind !== 'veth') throw new Error(`Error: Container interface ${link.name} not of type veth`)
  if (link.parentIndex === undefined) throw new Error(`Unable to obtain veth peer index for veth ${link.name}`)
  if (intf.mac !== undefined && intf.mac !== '' && intf.mac !== link.mac) {
    throw new Error(`Interface ${intf.name} Mac ${intf.mac} doesn't match container Mac: ${link.mac ?? ''}`)
  }
  return link
}

/** The host veth among the other interfaces: peer of the container's, enslaved to the bridge. */
async function findHostVeth (host: NetlinkHandle, result: Result, bridge: Link, cont: Link, skip: string[]): Promise<Link | undefined> {
  for (const intf of result.interfaces ?? []) {
    if (skip.includes(intf.name)) continue
    const link = await findLink(host, intf, false)
    if (link.kind !== 'veth') continue
    if (link.index !== cont.parentIndex || link.parentIndex !== cont.index || link.master !== bridge.index) continue
    if (intf.mac !== undefined && intf.mac !== '' && intf.mac !== link.mac) throw new Error(`Interface ${intf.name} Mac doesn't match: ${intf.mac} not found`)
    return link
  }
  return undefined
}

async function checkAddressesAndRoutes (container: NetlinkHandle, ifname: string, index: number, result: Result): Promise<void> {
  const ips = result.ips ?? []
  const resultRoutes = result.routes ?? []
  if (ips.length === 0 && resultRoutes.length === 0) return
  const addrs = await container.addresses.list({ index })
  const routes = await container.routes.list()
  for (const ipc of ips) {
    if (!addrs.some(a => a.cidr === ipc.address || sameCIDR(a.cidr, ipc.address))) {
      throw new Error(`Failed to match addr ${ipc.address} on interface ${ifname}`)
    }
    const prefix = canonicalPrefix(ipc.address)
    if (!routes.some(r => r.table === RT_TABLE_MAIN && r.dst === prefix)) {
      throw new Error(`Failed to find Gateway ${ipc.gateway ?? '<nil>'} for interface ${ifname}`)
    }
  }
  for (const rt of resultRoutes) {
    const dst = canonicalPrefix(rt.dst)
    const family = isIPv4Text(rt.dst) ? AF_INET : AF_INET6
    const gw = rt.gw !== undefined ? canonicalAddress(rt.gw) : undefined
    const table = rt.table ?? RT_TABLE_MAIN
    const found = routes.some(r => r.family === family && r.table === table && r.dst === dst &&
      (gw === undefined || r.gateway === gw || (r.multipath ?? []).some(nh => nh.gateway === gw)))
    if (!found) throw new Error(`Expected Route {Dst:${rt.dst} GW:${rt.gw ?? '<nil>'}} not found in routing table`)
  }
}

function canonicalAddress (text: string): string | undefined {
  const b = parseIP(text)
  return b === undefined ? undefined : formatAddress(b)
}

function sameCIDR (a: string, b: string): boolean {
  const [aa, ap] = a.split('/')
  const [ba, bp] = b.split('/')
  return ap === bp && aa !== undefined && ba !== undefined && canonicalAddress(aa) === canonicalAddress(ba)
}

export async function check (ctx: PluginContext): Promise<void> {
  const conf = await loadBridgeConfig(ctx.config, envMac(ctx.cniArgs))
  const sandbox = openSandbox(ctx)
  let host: NetlinkHandle | undefined
  let container: NetlinkHandle | undefined
  try {
    // Upstream delegates even without an IPAM type and so always fails L2 CHECK; we check L2 networks.
    if (conf.ipamType !== '') await delegateCheck(conf.ipamType, ctx.stdin, ctx.env, delegateOptionsOf(ctx))

    const result = ctx.prevResult
    if (result === undefined) throw new Error('Required prevResult missing')

    let brIntf: Interface = { name: '' }
    let contIntf: Interface = { name: '' }
    for (const intf of result.interfaces ?? []) {
      if (intf.name === conf.bridge) brIntf = intf
      else if (intf.name === ctx.ifname && intf.sandbox === ctx.netns) contIntf = intf
    }

    host = openHandles(ctx.caller.netns)
    container = openHandles(sandbox)
    const bridge = await checkBridge(host, brIntf, conf)
    if (ctx.netns !== (contIntf.sandbox ?? '')) {
      throw new Error(`Sandbox in prevResult ${contIntf.sandbox ?? ''} doesn't match configured netns: ${ctx.netns}`)
    }
    const cont = await checkContainerInterface(container, contIntf)
    const veth = await findHostVeth(host, result, bridge, cont, [brIntf.name, contIntf.name])
    if (veth === undefined) throw new Error(`CNI veth created for bridge ${conf.bridge} was not found${await hostVethHint(host, bridge, cont)}`)
    // Beyond upstream: MTU, pinned MAC, groupFwdMask (check-state.ts).
    const mtu = await configuredMTU(host, conf, ctx.log)
    checkBridgeState(bridge, conf, mtu)
    checkContainerMTU(cont, conf, mtu)

    await checkAddressesAndRoutes(container, ctx.ifname, cont.index, result)
    await checkRouterAdvertisements(container, cont, conf)
    // Beyond upstream: the configured MAC and the nf_tables rules (check-rules.ts).
    await checkAttachmentRules(ctx, conf, result, veth, cont)
  } finally {
    closeHandles(container, host)
    sandbox.close()
  }
}

// CHECK of what ADD sets beyond upstream's list: the MTU (bridge and
// container interface), the bridge's pinned MAC and groupFwdMask, and that no
// router advertisement configured the container interface while enableSlaac
// is off. Read-only: each function throws the first mismatch it finds.
import { AF_INET6 } from '../../netlink/route/rtnetlink.js'
import { RTPROT_RA } from '../../netlink/route/route.js'
import type { Link } from '../../netlink/route/links.js'
import type { Logger } from '../../cni/skel.js'
import type { BridgeConfig } from './config.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { ZERO_MAC } from './host.js'
import { resolveAutoMTU } from './mtu.js'

/** The MTU the config asks for (resolving "auto"); 0 = none asked. */
export async function configuredMTU (host: NetlinkHandle, conf: BridgeConfig, log: Logger): Promise<number> {
  return conf.mtuAuto ? await resolveAutoMTU(host, log) : conf.mtu
}

/** The bridge: the configured MTU and groupFwdMask, a MAC that is not all zeros. */
export function checkBridgeState (bridge: Link, conf: BridgeConfig, mtu: number): void {
  if (mtu > 0 && bridge.mtu !== mtu) {
    throw new Error(`Bridge interface ${bridge.name} MTU ${bridge.mtu} doesn't match the configured MTU ${conf.mtuAuto ? `"auto" (${mtu})` : mtu}`)
  }
  if (bridge.mac === undefined || bridge.mac === ZERO_MAC) {
    throw new Error(`Bridge interface ${bridge.name} has no MAC of its own (${bridge.mac ?? 'none'}): it is not pinned`)
  }
  const mask = bridge.bridge?.groupFwdMask
  if (conf.groupFwdMask > 0 && mask !== conf.groupFwdMask) {
    throw new Error(`Bridge interface ${bridge.name} groupFwdMask 0x${(mask ?? 0).toString(16)} doesn't match the configured 0x${conf.groupFwdMask.toString(16)}`)
  }
}

/** The container interface has the configured MTU. */
export function checkContainerMTU (link: Link, conf: BridgeConfig, mtu: number): void {
  if (mtu > 0 && link.mtu !== mtu) {
    throw new Error(`Interface ${link.name} MTU ${link.mtu} doesn't match the configured MTU ${conf.mtuAuto ? `"auto" (${mtu})` : mtu}`)
  }
}

/**
 * With enableSlaac off, the container interface has no route learned from a
 * router advertisement (proto ra) and no SLAAC address (a global IPv6
 * address that is not permanent).
 */
export async function checkRouterAdvertisements (container: NetlinkHandle, link: Link, conf: BridgeConfig): Promise<void> {
  if (conf.enableSlaac) return
  const routes = await container.routes.list({ family: AF_INET6, oif: link.index })
  const learned = routes.filter(r => r.protocol === RTPROT_RA)
  if (learned.length > 0) {
    throw new Error(`Interface ${link.name} has route${learned.length > 1 ? 's' : ''} learned from router advertisements (${learned.map(r => `${r.dst}${r.gateway !== undefined ? ` via ${r.gateway}` : ''}`).join(', ')}) though enableSlaac is off`)
  }
  const slaac = (await container.addresses.list({ index: link.index, family: AF_INET6 })).filter(a => !a.permanent && a.scope === 0)
  if (slaac.length > 0) {
    throw new Error(`Interface ${link.name} has SLAAC address${slaac.length > 1 ? 'es' : ''} ${slaac.map(a => a.cidr).join(', ')} though enableSlaac is off`)
  }
}

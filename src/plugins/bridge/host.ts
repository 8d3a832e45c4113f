// The host side of the bridge plugin: the bridge, the veth pair, the bridge
// port, the gateway addresses and forwarding. Every lookup is by name or
// index (never a dump of all links), so the cost of an ADD does not grow
// with the number of ports on the bridge.
import { closeSync, openSync, readSync } from 'node:fs'
import { isErrno } from '../../netlink/errors.js'
import { readSysctl, writeSysctl, type NetNamespace } from '../../netlink/netns.js'
import { IFF_PROMISC } from '../../netlink/route/link.js'
import { KernelFeatureError, buildSetLinkRequest, buildSetBridgePortRequest, type Link } from '../../netlink/route/links.js'
import { AF_INET, AF_INET6 } from '../../netlink/route/rtnetlink.js'
import { CniError, ErrUnsupportedField } from '../../cni/errors.js'
import { goQuote } from '../../cni/json.js'
import type { BridgeConfig } from './config.js'
import { wantsVlanFiltering } from './config.js'
import type { NamespaceHandles } from './session.js'
import type { FamilyGateways } from './gateways.js'
import { formatIPNet, netContains, parseIPNet, type IPNet } from './ipnet.js'

/** Host-side sysctl write (in the host handles' namespace); errors are returned, not thrown. */
function writeHostSysctl (host: NamespaceHandles, key: string, value: string): Error | undefined {
  try {
    writeSysctl(key, value, host.ns)
    return undefined
  } catch (err) {
    return err as Error
  }
}

/** A kernel without bridge VLAN filtering: say which option needs it (code 2). */
function vlanUnsupported (err: unknown, conf: BridgeConfig, what: string): unknown {
  if (!(err instanceof KernelFeatureError)) return err
  const option = conf.vlan !== 0 ? `vlan: ${conf.vlan}` : `vlanTrunk: ${JSON.stringify(conf.trunkVlans)}`
  return new CniError(ErrUnsupportedField, `${what}: ${option} needs bridge VLAN filtering, which this kernel lacks`,
    `${err.message}; remove "vlan"/"vlanTrunk" or use a kernel built with CONFIG_BRIDGE_VLAN_FILTERING`, { cause: err })
}

/**
 * Upstream's ensureBridge: the bridge exists (created with the configured
 * MTU and vlan_filtering if missing; an existing one is left as it is), is a
 * bridge, is promiscuous when asked, has accept_ra=0, and is up.
 */
export async function ensureBridge (host: NamespaceHandles, conf: BridgeConfig): Promise<Link> {
  const name = conf.bridge
  const fail = (msg: string, cause?: unknown): Error => new Error(`failed to create bridge ${goQuote(name)}: ${msg}`, { cause })
  let br = await host.links.find(name)
  if (br === undefined) {
    try {
      await host.links.createBridge({
        name,
        ...(conf.mtu > 0 ? { mtu: conf.mtu } : {}),
        ...(wantsVlanFiltering(conf) ? { vlanFiltering: true } : {})
      })
    } catch (err) {
      // Another ADD may have created it meanwhile: that is fine.
      if (!isErrno(err, 'EEXIST')) {
        const mapped = vlanUnsupported(err, conf, `failed to create bridge ${goQuote(name)}`)
        throw mapped instanceof CniError ? mapped : fail(`could not add ${goQuote(name)}: ${(err as Error).message}`, err)
      }
    }
    try {
      br = await host.links.get(name)
    } catch (err) {
      throw fail(`could not lookup ${goQuote(name)}: ${(err as Error).message}`, err)
    }
  }
  if (br.kind !== 'bridge') throw fail(`${goQuote(name)} already exists but is not a bridge`)
  if (conf.promiscMode && (br.flags & IFF_PROMISC) === 0) {
    try {
      await host.links.setPromisc(br.index, true)
    } catch (err) {
      throw fail(`could not set promiscuous mode on ${goQuote(name)}: ${(err as Error).message}`, err)
    }
  }
  // "We want to own the routes for this interface" (upstream); errors ignored.
  writeHostSysctl(host, `net/ipv6/conf/${name}/accept_ra`, '0')
  if (!br.up) {
    try {
      await host.links.setUp(br.index)
    } catch (err) {
      throw fail(`failed to set ${goQuote(name)} up: ${(err as Error).message}`, err)
    }
  }
  return br
}

/**
 * `veth` + 8 random lowercase hex digits, as upstream's RandomVethName. The
 * bytes come from /dev/urandom: loading node:crypto would cost every ADD ~4 ms.
 */
export function randomVethName (): string {
  const b = Buffer.alloc(4)
  const fd = openSync('/dev/urandom', 'r')
  try { readSync(fd, b, 0, 4, null) } finally { closeSync(fd) }
  return 'veth' + b.toString('hex')
}

const VETH_NAME_TRIES = 10

export interface CreatedVeth {
  hostName: string
}

/** The other end of a pair: its name, and the namespace to create it in (the host's when absent). */
export interface VethPeer {
  name: string
  namespace?: NetNamespace
  mac?: string
}

/**
 * Creates the pair in ONE request from the host: the host end named
 * vethXXXXXXXX here, the peer created directly in its namespace under its
 * name (IFLA_NET_NS_FD in the peer's attributes). Both stay down. A clash of
 * the random host name is retried with a new one; a clash of the peer's name
 * is upstream's error.
 */
export async function createVethPair (host: NamespaceHandles, peer: VethPeer, mtu: number): Promise<CreatedVeth> {
  for (let attempt = 0; attempt < VETH_NAME_TRIES; attempt++) {
    const hostName = randomVethName()
    try {
      await host.links.createVeth({
        name: hostName,
        peerName: peer.name,
        ...(peer.namespace !== undefined ? { peerNamespace: peer.namespace } : {}),
        ...(mtu > 0 ? { mtu } : {}),
        ...(peer.mac !== undefined ? { peerMac: peer.mac } : {})
      })
      return { hostName }
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw new Error(`failed to make veth pair: ${(err as Error).message}`, { cause: err })
      // Which name clashed? Only the random host one is worth another try.
      if (await host.links.find(hostName) !== undefined) continue
      throw new Error(`container veth name (${goQuote(peer.name)}) peer provided (${goQuote(hostName)}) already exists`, { cause: err })
    }
  }
  throw new Error('failed to make veth pair: failed to find a unique veth name')
}

/**
 * Prepares and attaches the host end: IPv6 off on it (see below),
 * accept_ra=0 as upstream, enslaved to the bridge and set up in one request,
 * then the port's hairpin and isolation in one AF_BRIDGE request, then VLANs.
 *
 * Why disable_ipv6=1 on the host veth: it is a bridge port and needs no IPv6
 * address of its own. With IPv6 on, bringing each port up sends router
 * solicitations, DAD probes for its link-local address and MLD reports; at
 * thousands of ports that is a multicast storm flooded to every port of the
 * bridge. Setting it before the link goes up means none of it is ever sent.
 */
export async function attachHostPort (host: NamespaceHandles, bridge: Link, veth: Link, conf: BridgeConfig): Promise<void> {
  const err = writeHostSysctl(host, `net/ipv6/conf/${veth.name}/disable_ipv6`, '1')
  if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'ENOENT') {
    // ENOENT: IPv6 is disabled altogether on this host; nothing to do.
    throw new Error(`failed to disable IPv6 on ${goQuote(veth.name)}: ${err.message}`, { cause: err })
  }
  writeHostSysctl(host, `net/ipv6/conf/${veth.name}/accept_ra`, '0')

  try {
    await host.socket.ack(buildSetLinkRequest(veth.index, { master: bridge.index, up: true }),
      `RTM_NEWLINK set ${veth.name} master ${bridge.name} up`)
  } catch (e) {
    throw new Error(`failed to connect ${goQuote(veth.name)} to bridge ${bridge.name}: ${(e as Error).message}`, { cause: e })
  }

  try {
    await host.socket.ack(buildSetBridgePortRequest(veth.index, { hairpin: conf.hairpinMode, isolated: conf.portIsolation }),
      `RTM_SETLINK AF_BRIDGE ${veth.name} hairpin ${conf.hairpinMode ? 'on' : 'off'} isolated ${conf.portIsolation ? 'on' : 'off'}`)
  } catch (e) {
    throw new Error(`failed to setup hairpin mode and isolation for ${veth.name}: ${(e as Error).message}`, { cause: e })
  }

  await setupPortVlans(host, veth, conf)
}

/** Upstream's VLAN membership of the host port (needs bridge VLAN filtering). */
async function setupPortVlans (host: NamespaceHandles, veth: Link, conf: BridgeConfig): Promise<void> {
  const trunk = conf.trunkVlans
  if (conf.vlan === 0 && trunk.length === 0) return
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn()
    } catch (err) {
      const mapped = vlanUnsupported(err, conf, `${what} on interface ${goQuote(veth.name)}`)
      throw mapped instanceof CniError ? mapped : new Error(`${what} on interface ${goQuote(veth.name)}: ${(err as Error).message}`, { cause: err })
    }
  }
  if (!conf.preserveDefaultVlan) {
    await step('failed to remove default vlan', async () => {
      for (const v of await host.links.listBridgeVlans(veth.index)) await host.links.deleteBridgeVlan(veth.index, v.vid)
    })
  }
  if (conf.vlan !== 0) await step('failed to setup vlan tag', () => host.links.addBridgeVlan(veth.index, { vid: conf.vlan, pvid: true, untagged: true }))
  for (const vid of trunk) await step('failed to setup vlan tag', () => host.links.addBridgeVlan(veth.index, { vid }))
  // A trunk without an access VLAN gets native VLAN 1 (upstream's backwards compatibility).
  if (conf.vlan === 0 && trunk.length > 0) await step('failed to setup default native vlan tag', () => host.links.addBridgeVlan(veth.index, { vid: 1, pvid: true, untagged: true }))
}

/**
 * Upstream's ensureAddr on the bridge for one gateway: an equal address is
 * fine (nothing else is done); a different IPv4 address, or an overlapping
 * IPv6 one, is replaced with forceAddress and an error otherwise; then the
 * address is added and the bridge's MAC pinned (set to itself) so that it
 * stops following the lowest port MAC.
 */
export async function ensureGatewayAddress (host: NamespaceHandles, bridge: Link, family: 4 | 6, gw: IPNet, forceAddress: boolean): Promise<void> {
  const text = formatIPNet(gw)
  const addrs = await host.addresses.list({ index: bridge.index, family: family === 4 ? AF_INET : AF_INET6 })
  for (const a of addrs) {
    if (a.cidr === text) return
    const existing = parseIPNet(a.cidr)
    if (existing === undefined) continue
    if (family === 4 || netContains(existing, gw.address) || netContains(gw, existing.address)) {
      if (!forceAddress) throw new Error(`${goQuote(bridge.name)} already has an IP address different from ${text}`)
      try {
        await host.addresses.delete({ index: bridge.index, address: a.cidr })
      } catch (err) {
        throw new Error(`could not remove IP address from ${goQuote(bridge.name)}: ${(err as Error).message}`, { cause: err })
      }
    }
  }
  try {
    await host.addresses.add({ index: bridge.index, address: text, broadcast: 'auto' })
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw new Error(`could not add IP address ${text} to ${goQuote(bridge.name)}: ${(err as Error).message}`, { cause: err })
  }
  // The MAC read before our port was added (upstream). A bridge whose last
  // port went away has the all-zero MAC, which cannot be set: pin the one it
  // took from its ports since.
  let mac = bridge.mac
  if (mac === undefined || mac === ZERO_MAC) mac = (await host.links.get(bridge.index)).mac
  if (mac !== undefined && mac !== ZERO_MAC) {
    try {
      await host.links.setMAC(bridge.index, mac)
    } catch (err) {
      throw new Error(`could not set bridge's mac: ${(err as Error).message}`, { cause: err })
    }
  }
}

const ZERO_MAC = '00:00:00:00:00:00'

/** Writes "1" to the family's forwarding sysctl unless it already holds "1" (upstream's EnableIP4Forward/EnableIP6Forward). */
export function enableForwarding (family: 4 | 6, ns?: NetNamespace): void {
  const key = family === 4 ? 'net/ipv4/ip_forward' : 'net/ipv6/conf/all/forwarding'
  try {
    if (readSysctl(key, ns) === '1') return
    writeSysctl(key, '1', ns)
  } catch (err) {
    throw new Error(`failed to enable forwarding: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Upstream's ensureVlanInterface, for isGateway with an access VLAN: the
 * gateway lives on `<bridge>.<vlan>`, one end of a veth pair whose other end
 * is a bridge port in that VLAN (pvid, untagged). Both ends stay in the host.
 * Created once, then reused. (Needs bridge VLAN filtering, so it cannot run
 * on a kernel without it: the port VLAN of the container fails first.)
 */
export async function ensureVlanInterface (host: NamespaceHandles, bridge: Link, conf: BridgeConfig): Promise<Link> {
  const name = `${bridge.name}.${conf.vlan}`
  const existing = await host.links.find(name)
  if (existing !== undefined) return existing
  const { hostName } = await createVethPair(host, { name }, bridge.mtu)
  try {
    const port = await host.links.get(hostName)
    await attachHostPort(host, bridge, port, { ...conf, hairpinMode: false, portIsolation: false, trunkVlans: [] })
    await host.links.setUp(name)
    return await host.links.get(name)
  } catch (err) {
    await host.links.delete(hostName).catch(() => {})
    throw new Error(`faild to create vlan gateway ${goQuote(name)}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Sets every gateway of both families on the bridge (on `<bridge>.<vlan>`
 * with an access VLAN) and turns forwarding on where there are gateways.
 * Returns the VLAN gateway interface when one is used (a 4th result interface).
 */
export async function setupGateways (host: NamespaceHandles, bridge: Link, plan: readonly FamilyGateways[], conf: BridgeConfig): Promise<Link | undefined> {
  let vlanLink: Link | undefined
  for (const fam of plan) {
    for (const gw of fam.gateways) {
      if (conf.vlan !== 0) {
        try {
          vlanLink ??= await ensureVlanInterface(host, bridge, conf)
        } catch (err) {
          throw new Error(`failed to create vlan interface: ${(err as Error).message}`, { cause: err })
        }
        try {
          await ensureGatewayAddress(host, vlanLink, fam.family, gw, conf.forceAddress)
        } catch (err) {
          throw new Error(`failed to set vlan interface for bridge with addr: ${(err as Error).message}`, { cause: err })
        }
        continue
      }
      try {
        await ensureGatewayAddress(host, bridge, fam.family, gw, conf.forceAddress)
      } catch (err) {
        throw new Error(`failed to set bridge addr: ${(err as Error).message}`, { cause: err })
      }
    }
    if (fam.gateways.length > 0) enableForwarding(fam.family, host.ns)
  }
  return vlanLink
}

/** Upstream's retries for the host port's operstate: sleep 0, 50, 500, 1000, 1000 ms between reads. */
export const PORT_STATE_RETRIES_MS = [0, 50, 500, 1000, 1000]

/** Waits until the host veth is operationally up; returns its last state (for its MAC). */
export async function waitPortUp (host: NamespaceHandles, index: number): Promise<Link> {
  let link: Link | undefined
  for (const ms of PORT_STATE_RETRIES_MS) {
    if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
    link = await host.links.get(index)
    if (link.operstate === 'up') return link
  }
  throw new Error(`bridge port in error state: ${link?.operstate ?? 'unknown'}`)
}

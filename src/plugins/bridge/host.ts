// The host side of the bridge plugin: the bridge, the veth pair, the bridge
// port, the gateway addresses and forwarding. Every lookup is by name or
// index (never a dump of all links), so the cost of an ADD does not grow
// with the number of ports on the bridge.
import { closeSync, openSync, readSync } from 'node:fs'
import { isErrno } from '../../netlink/errors.js'
import { readSysctl, writeSysctl, type NetNamespace } from '../../netlink/netns.js'
import { IFF_PROMISC } from '../../netlink/route/link.js'
import { KernelFeatureError, type Link } from '../../netlink/route/links.js'
import { AF_INET, AF_INET6 } from '../../netlink/route/rtnetlink.js'
import { CniError, ErrUnsupportedField } from '../../cni/errors.js'
import { goQuote } from '../../cni/json.js'
import type { BridgeConfig } from './config.js'
import { wantsVlanFiltering } from './config.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import type { FamilyGateways } from './gateways.js'
import { formatIPNet, netContains, parseIPNet, type IPNet } from '../../netlink/addr.js'

/** Host-side sysctl write (in the host handles' namespace); errors are returned, not thrown. */
function writeHostSysctl (host: NetlinkHandle, key: string, value: string): Error | undefined {
  try {
    writeSysctl(key, value, host.namespace)
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
 * Upstream's ensureBridge, plus reconciling what the config asks of an
 * existing bridge: the bridge exists (created with the configured MTU,
 * groupFwdMask, vlan_filtering and a MAC of its own if missing), is a
 * bridge, has the configured MTU and groupFwdMask, keeps its MAC (pinned),
 * is promiscuous when asked, has accept_ra=0, and is up.
 *
 * The MAC: a bridge created without one follows the lowest MAC among its
 * ports and becomes all zeros when its last port leaves (cni#285: ~100 s of
 * loss while neighbours relearn). A MAC given at creation, or set later,
 * makes the kernel keep it (NET_ADDR_SET). So a new bridge gets a random
 * locally administered MAC, and an existing one is pinned to the MAC it has
 * (a new one when the kernel reports all zeros, upstream PR #1265), in
 * every mode, L2 included.
 */
export async function ensureBridge (host: NetlinkHandle, conf: BridgeConfig): Promise<Link> {
  const name = conf.bridge
  const fail = (msg: string, cause?: unknown): Error => new Error(`failed to create bridge ${goQuote(name)}: ${msg}`, { cause })
  let br = await host.links.find(name)
  let created = false
  if (br === undefined) {
    try {
      await host.links.createBridge({
        name,
        mac: randomMAC(),
        ...(conf.mtu > 0 ? { mtu: conf.mtu } : {}),
        ...(conf.groupFwdMask > 0 ? { groupFwdMask: conf.groupFwdMask } : {}),
        ...(wantsVlanFiltering(conf) ? { vlanFiltering: true } : {})
      })
      created = true
    } catch (err) {
      // Another ADD may have created it meanwhile: that is fine.
      if (!isErrno(err, 'EEXIST')) {
        const mapped = vlanUnsupported(err, conf, `failed to create bridge ${goQuote(name)}`)
        throw mapped instanceof CniError ? mapped : fail(`could not add ${goQuote(name)}: ${groupFwdMaskHint(err, conf)}`, err)
      }
    }
    try {
      br = await host.links.get(name)
    } catch (err) {
      throw fail(`could not lookup ${goQuote(name)}: ${(err as Error).message}`, err)
    }
  }
  if (br.kind !== 'bridge') throw fail(`${goQuote(name)} already exists but is not a bridge`)
  if (!created) br = await reconcileBridge(host, br, conf)
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
 * An existing bridge made to match the config: the configured MTU and
 * groupFwdMask when they differ (upstream never changes an existing bridge:
 * podman#20009, PR #1021), and its MAC pinned. Returns the bridge as it is
 * now.
 */
async function reconcileBridge (host: NetlinkHandle, br: Link, conf: BridgeConfig): Promise<Link> {
  const name = br.name
  if (conf.mtu > 0 && br.mtu !== conf.mtu) {
    try {
      await host.links.setMTU(br.index, conf.mtu)
    } catch (err) {
      throw new Error(`failed to set MTU of bridge ${goQuote(name)} to ${conf.mtu} (it has ${br.mtu}): ${(err as Error).message}`, { cause: err })
    }
  }
  if (conf.groupFwdMask > 0 && br.bridge?.groupFwdMask !== conf.groupFwdMask) {
    try {
      await host.links.setBridge(br.index, { groupFwdMask: conf.groupFwdMask })
    } catch (err) {
      throw new Error(`failed to set groupFwdMask of bridge ${goQuote(name)}: ${groupFwdMaskHint(err, conf)}`, { cause: err })
    }
  }
  // Setting the MAC it has is enough to pin it; all zeros cannot be set (EINVAL): a new one then.
  const mac = br.mac === undefined || br.mac === ZERO_MAC ? randomMAC() : br.mac
  try {
    await host.links.setMAC(br.index, mac)
  } catch (err) {
    throw new Error(`could not set bridge's mac: ${(err as Error).message}`, { cause: err })
  }
  const now: Link = { ...br, mac }
  if (conf.mtu > 0) now.mtu = conf.mtu
  if (conf.groupFwdMask > 0 && br.bridge !== undefined) now.bridge = { ...br.bridge, groupFwdMask: conf.groupFwdMask }
  return now
}

/** The kernel's EINVAL for a restricted group mask, explained (the config check normally catches it first). */
function groupFwdMaskHint (err: unknown, conf: BridgeConfig): string {
  const msg = (err as Error).message
  return isErrno(err, 'EINVAL') && conf.groupFwdMask > 0 ? `${msg} (groupFwdMask 0x${conf.groupFwdMask.toString(16)}: the kernel refuses bits 0-2)` : msg
}

function urandom (n: number): Buffer {
  const b = Buffer.alloc(n)
  const fd = openSync('/dev/urandom', 'r')
  try { readSync(fd, b, 0, n, null) } finally { closeSync(fd) }
  return b
}

/** A random unicast, locally administered MAC (as the kernel's eth_random_addr). */
export function randomMAC (): string {
  const b = urandom(6)
  b.writeUInt8((b.readUInt8(0) & 0xfe) | 0x02, 0)
  return [...b].map(x => x.toString(16).padStart(2, '0')).join(':')
}

/**
 * `veth` + 8 random lowercase hex digits, as upstream's RandomVethName. The
 * bytes come from /dev/urandom: loading node:crypto would cost every ADD ~4 ms.
 */
export function randomVethName (): string {
  return 'veth' + urandom(4).toString('hex')
}

const VETH_NAME_TRIES = 10

export interface CreatedVeth {
  hostName: string
}

/** The other end of a pair: its name, and the namespace to create it in (the host's when absent). */
export interface VethPeer {
  name: string
  namespace?: NetNamespace
  mac?: string | undefined
}

/**
 * Creates the pair in ONE request from the host: the host end named
 * vethXXXXXXXX here, the peer created directly in its namespace under its
 * name (IFLA_NET_NS_FD in the peer's attributes). Both stay down. A clash of
 * the random host name is retried with a new one; a clash of the peer's name
 * is upstream's error.
 */
export async function createVethPair (host: NetlinkHandle, peer: VethPeer, mtu: number, beforeCreate?: (hostName: string) => void): Promise<CreatedVeth> {
  for (let attempt = 0; attempt < VETH_NAME_TRIES; attempt++) {
    const hostName = randomVethName()
    // The attachment record names the host end before it exists (a killed ADD's veth is then found).
    beforeCreate?.(hostName)
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
export async function attachHostPort (host: NetlinkHandle, bridge: Link, veth: Link, conf: BridgeConfig): Promise<void> {
  const err = writeHostSysctl(host, `net/ipv6/conf/${veth.name}/disable_ipv6`, '1')
  if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'ENOENT') {
    // ENOENT: IPv6 is disabled altogether on this host; nothing to do.
    throw new Error(`failed to disable IPv6 on ${goQuote(veth.name)}: ${err.message}`, { cause: err })
  }
  writeHostSysctl(host, `net/ipv6/conf/${veth.name}/accept_ra`, '0')

  try {
    await host.links.setMaster(veth.index, bridge.index, { up: true })
  } catch (e) {
    throw new Error(`failed to connect ${goQuote(veth.name)} to bridge ${bridge.name}: ${(e as Error).message}`, { cause: e })
  }

  try {
    await host.links.setBridgePort(veth.index, { hairpin: conf.hairpinMode, isolated: conf.portIsolation })
  } catch (e) {
    throw new Error(`failed to setup hairpin mode and isolation for ${veth.name}: ${(e as Error).message}`, { cause: e })
  }

  await setupPortVlans(host, veth, conf)
}

/** Upstream's VLAN membership of the host port (needs bridge VLAN filtering). */
async function setupPortVlans (host: NetlinkHandle, veth: Link, conf: BridgeConfig): Promise<void> {
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
 * address is added. (Upstream then pins the bridge's MAC; ensureBridge has
 * done that already.)
 */
export async function ensureGatewayAddress (host: NetlinkHandle, bridge: Link, family: 4 | 6, gw: IPNet, forceAddress: boolean): Promise<void> {
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
  // Upstream pins the bridge MAC here, only with isGateway; ensureBridge pins it in every mode.
}

export const ZERO_MAC = '00:00:00:00:00:00'

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
export async function ensureVlanInterface (host: NetlinkHandle, bridge: Link, conf: BridgeConfig): Promise<Link> {
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
export async function setupGateways (host: NetlinkHandle, bridge: Link, plan: readonly FamilyGateways[], conf: BridgeConfig): Promise<Link | undefined> {
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
    if (fam.gateways.length > 0) enableForwarding(fam.family, host.namespace)
  }
  return vlanLink
}

/** Upstream's retries for the host port's operstate: sleep 0, 50, 500, 1000, 1000 ms between reads. */
export const PORT_STATE_RETRIES_MS = [0, 50, 500, 1000, 1000]

/** Waits until the host veth is operationally up; returns its last state (for its MAC). */
export async function waitPortUp (host: NetlinkHandle, index: number): Promise<Link> {
  let link: Link | undefined
  for (const ms of PORT_STATE_RETRIES_MS) {
    if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
    link = await host.links.get(index)
    if (link.operstate === 'up') return link
  }
  throw new Error(`bridge port in error state: ${link?.operstate ?? 'unknown'}`)
}

// The container side of an L3 ADD (upstream's ConfigureIface plus the
// bridge plugin's sysctls), through the container namespace's socket:
// sysctls, addresses (IFA_BROADCAST for IPv4 shorter than /31), link up,
// waiting for IPv6 DAD when there is an IPv6 gateway, then the routes
// (RTPROT_BOOT, NLM_F_CREATE only, as upstream).
import { readSysctl, writeSysctl, type NetNamespace } from '../../netlink/netns.js'
import type { AddressService } from '../../netlink/route/addresses.js'
import type { LinkService } from '../../netlink/route/links.js'
import { IPV4_DEVCONF_ARP_NOTIFY } from '../../netlink/route/link.js'
import type { RouteService } from '../../netlink/route/routes.js'
import { RTPROT_BOOT, RT_SCOPE_UNIVERSE } from '../../netlink/route/route.js'
import { AF_INET6 } from '../../netlink/route/rtnetlink.js'
import type { Result } from '../../cni/result.js'
import { isIPv4Text } from '../../netlink/addr.js'

/** Upstream's dadSettleTimeout and SETTLE_INTERVAL. */
export const DAD_SETTLE_TIMEOUT_MS = 5000
export const DAD_SETTLE_INTERVAL_MS = 50

export interface ContainerSide {
  ns: NetNamespace
  links: LinkService
  addresses: AddressService
  routes: RouteService
  ifname: string
  /** The container interface's index in its namespace. */
  index: number
  /** Sets the container interface up. */
  setUp: () => Promise<void>
  /** The container interface's operstate is up (for the DAD timeout verdict). */
  isOperUp: () => Promise<boolean>
  log?: { debug: (msg: string) => void, warn: (msg: string) => void }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** One sysctl write of the container side. */
export interface SysctlEntry {
  key: string
  value: string
  /** Errors are ignored (upstream ignores them for the DAD and ARP settings). */
  optional: boolean
  /** Errors with these codes are ignored (ENOENT: the kernel has no IPv6 at all). */
  ignore?: readonly string[]
  /** Left alone when it holds this value already. */
  onlyIfNot?: string
  /** Written only when it holds this value. */
  onlyIf?: string
}

/**
 * Writes sysctls inside the container namespace in one namespace switch.
 * `optional` ones ignore errors; others throw.
 */
export function writeSysctls (ns: NetNamespace, entries: readonly SysctlEntry[]): void {
  ns.run(() => {
    // Inside ns already: the library's reads and writes without a namespace of their own.
    for (const e of entries) {
      try {
        if (e.onlyIfNot !== undefined || e.onlyIf !== undefined) {
          const now = readSysctl(e.key)
          if (now === e.onlyIfNot || (e.onlyIf !== undefined && now !== e.onlyIf)) continue
        }
        writeSysctl(e.key, e.value)
      } catch (err) {
        if (e.optional || (e.ignore?.includes((err as NodeJS.ErrnoException).code ?? '') ?? false)) continue
        throw new Error(`failed to set sysctl ${e.key}=${e.value} in ${ns.path}: ${(err as Error).message}`, { cause: err })
      }
    }
  })
}

/**
 * IPv6 router advertisements on the container interface, written while it
 * is still down, so no RA can slip in before (plugins#909: a later `tuning`
 * plugin is too late). Off by default: accept_ra=0 and autoconf=0 (no
 * RA-learned routes, no SLAAC address). `enableSlaac` (upstream PR #910)
 * turns both on, IPv6 included; an accept_ra already on (1, or 2 with
 * forwarding) is kept. ENOENT: the kernel runs without IPv6.
 */
export function raSysctls (ifname: string, enableSlaac: boolean): SysctlEntry[] {
  const conf = `net/ipv6/conf/${ifname}`
  const ignore = ['ENOENT']
  if (!enableSlaac) {
    return [
      { key: `${conf}/accept_ra`, value: '0', optional: false, ignore },
      { key: `${conf}/autoconf`, value: '0', optional: false, ignore }
    ]
  }
  return [
    { key: `${conf}/disable_ipv6`, value: '0', optional: false, ignore, onlyIfNot: '0' },
    { key: `${conf}/accept_ra`, value: '1', optional: false, ignore, onlyIf: '0' },
    { key: `${conf}/autoconf`, value: '1', optional: false, ignore }
  ]
}

/**
 * Configures the container interface from the result (interface index 2 =
 * the container interface). `enabledad` selects the DAD sysctls.
 */
export async function configureContainer (c: ContainerSide, result: Result, enabledad: boolean, enableSlaac = false): Promise<void> {
  const ifname = c.ifname
  const interfaces = result.interfaces ?? []
  if (interfaces.length === 0) throw new Error('no interfaces to configure')
  const ips = (result.ips ?? []).filter(ipc => {
    if (ipc.interface === undefined) return false
    const i = ipc.interface
    if (i < 0 || i >= interfaces.length || interfaces[i]?.name !== ifname) {
      throw new Error(`failed to add IP addr ${ipc.address} to ${JSON.stringify(ifname)}: invalid interface index`)
    }
    return true
  })
  const hasV6 = ips.some(ipc => !isIPv4Text(ipc.address))

  // Sysctls first, in one namespace switch. accept_dad=0 (upstream's default
  // since v1.1.0) spares the ~2 s of IPv6 DAD per container.
  const sysctls: SysctlEntry[] = []
  if (enabledad) {
    sysctls.push({ key: `net/ipv6/conf/${ifname}/enhanced_dad`, value: '1', optional: true })
    sysctls.push({ key: `net/ipv6/conf/${ifname}/accept_dad`, value: '1', optional: true })
  } else {
    sysctls.push({ key: `net/ipv6/conf/${ifname}/accept_dad`, value: '0', optional: true })
  }
  if (hasV6) {
    // IPv6 must be enabled on lo and the interface before an IPv6 address can be added.
    sysctls.push({ key: 'net/ipv6/conf/lo/disable_ipv6', value: '0', optional: false, onlyIfNot: '0' })
    sysctls.push({ key: `net/ipv6/conf/${ifname}/disable_ipv6`, value: '0', optional: false, onlyIfNot: '0' })
    // Keep the IPv6 addresses when the interface goes down (upstream v1.7.0+).
    sysctls.push({ key: `net/ipv6/conf/${ifname}/keep_addr_on_down`, value: '1', optional: false })
  }
  sysctls.push(...raSysctls(ifname, enableSlaac))
  writeSysctls(c.ns, sysctls)
  // The kernel sends a gratuitous ARP on link-up (replacing upstream's
  // explicit one): arp_notify=1, set over netlink (IFLA_INET_CONF), not
  // through the pod's /proc/sys; an error is ignored, as upstream ignores it.
  try {
    await c.links.setInetConf(c.index, { [IPV4_DEVCONF_ARP_NOTIFY]: 1 })
  } catch (err) {
    c.log?.debug(`arp_notify on ${JSON.stringify(ifname)} not set: ${(err as Error).message}`)
  }

  let v4gw: string | undefined
  let v6gw: string | undefined
  for (const ipc of ips) {
    try {
      await c.addresses.add({ index: c.index, address: ipc.address, broadcast: 'auto' })
    } catch (err) {
      throw new Error(`failed to add IP addr ${ipc.address} to ${JSON.stringify(ifname)}: ${(err as Error).message}`, { cause: err })
    }
    if (ipc.gateway !== undefined) {
      if (isIPv4Text(ipc.gateway)) v4gw ??= ipc.gateway
      else v6gw ??= ipc.gateway
    }
  }

  try {
    await c.setUp()
  } catch (err) {
    throw new Error(`failed to set ${JSON.stringify(ifname)} UP: ${(err as Error).message}`, { cause: err })
  }

  if (v6gw !== undefined) {
    try {
      await settleAddresses(c)
    } catch (err) {
      throw new Error(`failed to settle addresses for ${JSON.stringify(ifname)}: ${(err as Error).message}`, { cause: err })
    }
  }

  for (const r of result.routes ?? []) {
    const gw = r.gw ?? (isIPv4Text(r.dst) ? v4gw : v6gw)
    const scope = r.scope ?? RT_SCOPE_UNIVERSE
    try {
      await c.routes.create({
        dst: r.dst,
        gateway: gw,
        oif: c.index,
        priority: (r.priority ?? 0) > 0 ? r.priority : undefined,
        table: r.table,
        scope,
        protocol: RTPROT_BOOT
      })
    } catch (err) {
      throw new Error(`failed to add route '${r.dst} via ${gw ?? '<nil>'} dev ${ifname} metric ${r.priority ?? 0} (Scope: ${scopeName(scope)}, Table: ${r.table ?? 0})': ${(err as Error).message}`, { cause: err })
    }
  }
}

function scopeName (scope: number): string {
  switch (scope) {
    case 0: return 'universe'
    case 200: return 'site'
    case 253: return 'link'
    case 254: return 'host'
    case 255: return 'nowhere'
    default: return String(scope)
  }
}

/**
 * Waits until no IPv6 address of the interface is tentative (upstream's
 * SettleAddresses): DADFAILED is an error; after the timeout, tentative
 * addresses are an error only if the link is operationally up.
 */
async function settleAddresses (c: ContainerSide): Promise<void> {
  const deadline = Date.now() + DAD_SETTLE_TIMEOUT_MS
  for (;;) {
    const addrs = await c.addresses.list({ index: c.index, family: AF_INET6 })
    let tentative = false
    for (const a of addrs) {
      if (a.dadFailed) throw new Error(`link ${c.ifname} has address ${a.address} in DADFAILED state`)
      if (a.tentative) tentative = true
    }
    if (!tentative) return
    if (Date.now() > deadline) {
      if (await c.isOperUp()) throw new Error(`link ${c.ifname} still has tentative addresses after ${DAD_SETTLE_TIMEOUT_MS / 1000} seconds`)
      return
    }
    await sleep(DAD_SETTLE_INTERVAL_MS)
  }
}

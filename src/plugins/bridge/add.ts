// ADD, as an ordered list of steps (upstream's cmdAdd, top to bottom), each
// a function from what the command got and what the steps before it made to
// what it makes (steps.ts: the order is checked by the compiler). A step
// registers an undo as soon as it has made something; when a step fails,
// the undos registered so far run newest first, so a failed ADD leaves no
// veth and no IP reservation behind (the bridge, shared by every container,
// is never removed). macspoofchk and ipMasq are nf_tables steps whose undo
// removes their rules.
import type { PluginContext } from '../../cni/skel.js'
import { delegateAdd, delegateDel, delegateOptionsOf } from '../../cni/invoke.js'
import { parseCniArgs, argParsers } from '../../cni/args.js'
import { convertResult, resultFamily, type DNS, type IPConfig, type Interface, type Result, type Route } from '../../cni/result.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { NetNamespace } from '../../netlink/netns.js'
import type { Link, LinkRef } from '../../netlink/route/links.js'
import { checkAddOptions, loadBridgeConfig, type BridgeConfig } from './config.js'
import { closeHandles, openHandles, openSandbox } from './session.js'
import { attachHostPort, createVethPair, ensureBridge, setupGateways, waitPortUp } from './host.js'
import { calcGateways, type GatewayPlan } from './gateways.js'
import { configureContainer, raSysctls, writeSysctls } from './container.js'
import { resolveAutoMTU } from './mtu.js'
import { NftService } from '../../netlink/nftables/service.js'
import { setupSpoofCheck, spoofCheckNames, teardownSpoofCheck } from './spoofcheck.js'
import { setupMasquerade, teardownMasquerade, type MasqInstance } from './masquerade.js'
import { ensureIsolation, releaseIsolationIfUnused } from './isolation.js'
import { dropAddRecord, writeAddingRecord, writeReadyRecord } from './records.js'
import { announce, ipReuseHygiene } from './hygiene.js'
import { Steps, type Step } from './steps.js'

/** What ADD starts from. */
export interface AddInput {
  ctx: PluginContext
  conf: BridgeConfig
  /** ipam.type is set: addresses and routes come from IPAM. */
  l3: boolean
  sandbox: NetNamespace
  host: NetlinkHandle
  container: NetlinkHandle
  /** The host namespace's nf_tables service, opened by the first step that asks (closed by add()). */
  nft: () => NftService
}

/** What the "ipam" step makes: the IPAM result's addresses and routes (as calcGateways rewrote them) and the bridge's gateways. */
export interface Addressing {
  ips: IPConfig[]
  routes: Route[]
  dns: DNS | undefined
  plan: GatewayPlan
}

function masqInstance (s: Pick<AddInput, 'ctx'>): MasqInstance {
  return { network: s.ctx.name, ifname: s.ctx.ifname, containerID: s.ctx.containerId }
}

const q = JSON.stringify

/**
 * ADD's steps, in order (upstream's cmdAdd, top to bottom). Each takes what
 * the command got and what the steps before it made (steps.ts).
 */
const ADD = Steps.for<AddInput>()
  // Never undone: other containers may use the bridge by now. Makes the config with "mtu": "auto" resolved.
  .then('bridge', async s => {
    const conf = s.conf.mtuAuto ? { ...s.conf, mtu: await resolveAutoMTU(s.host, s.ctx.log) } : s.conf
    return { conf, bridge: await ensureBridge(s.host, conf) }
  })
  .then('veth', async (s, onUndo) => {
    // The attachment record names the host end before it exists (a killed ADD's veth is then found).
    const recordCreated = new Date().toISOString()
    const peer = { name: s.ctx.ifname, namespace: s.sandbox, mac: s.conf.mac }
    const { hostName } = await createVethPair(s.host, peer, s.conf.mtu, name => { writeAddingRecord(s, name, recordCreated) })
    // From here on, whatever fails next: deleting one end removes both; the host end first, then the container end.
    let hostRef: LinkRef = hostName
    onUndo(async () => {
      try {
        await s.host.links.delete(hostRef)
      } catch (err) {
        s.ctx.log.debug(`rollback: deleting ${hostName}: ${(err as Error).message}; trying ${s.ctx.ifname} in ${s.ctx.netns}`)
        await s.container.links.delete(s.ctx.ifname)
      }
      dropAddRecord(s.ctx)
    })
    const hostVeth = await s.host.links.get(hostName)
    hostRef = hostVeth.index
    return { hostVeth, containerLink: await s.container.links.get(s.ctx.ifname), recordCreated }
  })
  .then('host port', async s => { await attachHostPort(s.host, s.bridge, s.hostVeth, s.conf) })
  // After the port exists: a DEL that looks for the bridge's ports meanwhile sees ours.
  .thenIf('isolate', { when: s => s.conf.isolate }, async (s, onUndo) => {
    let added: boolean
    try {
      added = await ensureIsolation(s.nft(), s.bridge.name)
    } catch (err) {
      throw new Error(`failed to set up isolation of ${q(s.bridge.name)}: ${(err as Error).message}`, { cause: err })
    }
    // Only what this ADD added, and only when no other port uses it.
    if (added) onUndo(async () => { await releaseIsolationIfUnused(s.nft(), s.host.links, s.bridge.name, s.hostVeth.index) })
  })
  .thenIf('macspoofchk', { when: s => s.conf.macspoofchk }, async (s, onUndo) => {
    onUndo(async () => { await teardownSpoofCheck(s.nft(), spoofCheckNames(s.ctx.containerId, s.ctx.ifname)) })
    const names = spoofCheckNames(s.ctx.containerId, s.ctx.ifname, s.ctx.name)
    const mac = s.containerLink.mac
    try {
      if (mac === undefined) throw new Error(`${q(s.ctx.ifname)} has no MAC address`)
      await setupSpoofCheck(s.nft(), names, s.hostVeth.name, mac)
    } catch (err) {
      throw new Error(`failed to setup spoof-check: ${(err as Error).message}`, { cause: err })
    }
  })
  .thenIf('ipam', { when: s => s.l3 }, async (s, onUndo): Promise<{ ipam: Addressing }> => {
    // Also after a failed IPAM ADD: it may have reserved part of what it was asked for.
    onUndo(async () => { await delegateDel(s.conf.ipamType, s.ctx.stdin, s.ctx.env, delegateOptionsOf(s.ctx)) })
    const r = await delegateAdd(s.conf.ipamType, s.ctx.stdin, s.ctx.env, delegateOptionsOf(s.ctx))
    const ips = r.ips ?? []
    const routes = r.routes ?? []
    if (ips.length === 0) throw new Error('IPAM plugin returned missing IP config')
    return { ipam: { ips, routes, dns: r.dns, plan: calcGateways(ips, routes, s.conf) } }
  })
  // ipMasq right after IPAM (upstream: after the gateway; nothing between
  // depends on it). When its batch deleted something (a stale rule, a
  // rewritten postrouting), closing the nf_tables socket waits until the
  // kernel has freed it, one RCU grace period (~10 ms here): committed this
  // early, most of that has passed by the end of the run.
  .thenIf('ipMasq', { needs: ['ipam'], when: s => s.conf.ipMasq }, async (s, onUndo) => {
    onUndo(async () => { await teardownMasquerade(s.nft(), masqInstance(s)) })
    try {
      await setupMasquerade(s.nft(), s.ipam.ips.map(ip => ip.address), masqInstance(s))
    } catch (err) {
      throw new Error(`failed to setup IP masquerade: ${(err as Error).message}`, { cause: err })
    }
  })
  // IP-reuse hygiene: stale host neighbour entries out, ndisc_notify on (hygiene.ts).
  .thenIf('neighbours', { needs: ['ipam'] }, ipReuseHygiene)
  .thenIf('container', { when: s => !s.conf.disableContainerInterface }, async s => {
    const c = s.containerLink
    const setUp = async (): Promise<void> => { await s.container.links.setUp(c.index) }
    if (s.ipam === undefined) {
      // RA and SLAAC settings while the interface is still down (no race with a router).
      writeSysctls(s.sandbox, raSysctls(s.ctx.ifname, s.conf.enableSlaac))
      try {
        await setUp()
      } catch (err) {
        throw new Error(`failed to set ${q(s.ctx.ifname)} up: ${(err as Error).message}`, { cause: err })
      }
      return
    }
    // Upstream's L2 result with IPAM's addresses: the container configuration finds its interface by index 2.
    const result: Result = { cniVersion: '1.1.0', interfaces: resultInterfaces(s, s.bridge), ips: s.ipam.ips, routes: s.ipam.routes }
    await configureContainer({
      ns: s.sandbox,
      links: s.container.links,
      addresses: s.container.addresses,
      routes: s.container.routes,
      ifname: s.ctx.ifname,
      index: c.index,
      setUp,
      isOperUp: async () => (await s.container.links.get(c.index)).operstate === 'up'
    }, result, s.conf.enabledad, s.conf.enableSlaac)
  })
  // With an access VLAN, the gateway interface `<bridge>.<vlan>` (a 4th result interface).
  .thenIf('gateway', { needs: ['ipam'], when: s => s.conf.isGateway }, async s => ({
    vlanLink: await setupGateways(s.host, s.bridge, [s.ipam.plan.v4, s.ipam.plan.v6], s.conf)
  }))
  // The container end is down with disableContainerInterface: no carrier to wait for.
  .then('port state', async s => ({
    hostVeth: s.conf.disableContainerInterface ? await s.host.links.get(s.hostVeth.index) : await waitPortUp(s.host, s.hostVeth.index)
  }))
  // The container announces itself (GARP, unsolicited NA) once its port forwards (hygiene.ts).
  .thenIf('announce', { needs: ['ipam'], when: s => !s.conf.disableContainerInterface }, announce)
  .then('result', async s => {
    // MACs change on enslave and with the gateway address (upstream #805): read them last.
    const interfaces = resultInterfaces(s, await s.host.links.get(s.bridge.index))
    if (s.vlanLink !== undefined) interfaces.push(resultInterface(s.vlanLink))
    const result: Result = s.ipam === undefined
      ? { cniVersion: '1.1.0', interfaces }
      : { cniVersion: '1.1.0', interfaces, ips: s.ipam.ips, routes: s.ipam.routes }
    const dns = s.conf.dns ?? s.ipam?.dns
    if (dns !== undefined) result.dns = dns
    // The skel converts to the config's version after we return; a result
    // that cannot be converted must fail here, while the undos can still run.
    convertResult(result, s.ctx.cniVersion)
    return { result }
  })
  // Last: the attachment record, now "ready" (what the reconciler, DEL and GC work from).
  .then('record', async s => {
    writeReadyRecord(s, s.hostVeth.name, s.recordCreated, { ips: (s.ipam?.ips ?? []).map(ip => ip.address), containerMac: s.containerLink.mac })
  })

/** ADD's steps, by name, in order. */
export const ADD_STEPS: readonly Step[] = ADD.list

function resultInterface (l: Link): Interface {
  return l.mac !== undefined ? { name: l.name, mac: l.mac } : { name: l.name }
}

/** [bridge, host veth, container] with the MACs as last read. */
function resultInterfaces (s: { ctx: PluginContext, hostVeth: Link, containerLink: Link }, bridge: Link): Interface[] {
  return [resultInterface(bridge), resultInterface(s.hostVeth), { ...resultInterface(s.containerLink), sandbox: s.ctx.netns }]
}

/** CNI_ARGS MAC (the only key bridge knows; others need IgnoreUnknown, as upstream). */
export function envMac (cniArgs: string): string | undefined {
  return parseCniArgs(cniArgs, { MAC: argParsers.string }).MAC
}

export async function add (ctx: PluginContext): Promise<Result> {
  const conf = await loadBridgeConfig(ctx.config, envMac(ctx.cniArgs))
  checkAddOptions(conf)
  const l3 = conf.ipamType !== ''
  // An L2 result has no IP, which 0.1.0/0.2.0 cannot express: refuse before touching anything.
  if (!l3 && resultFamily(ctx.cniVersion) === '020') throw new Error('cannot convert: no valid IP addresses')

  const sandbox = openSandbox(ctx)
  let host: NetlinkHandle | undefined
  let container: NetlinkHandle | undefined
  let nft: NftService | undefined
  try {
    // The container's first: entering its namespace loads koffi, which the host socket's strict checking reuses.
    container = openHandles(sandbox)
    host = openHandles(ctx.caller.netns, { strictCheck: true })
    const made = await ADD.run({ ctx, conf, l3, sandbox, host, container, nft: () => (nft ??= NftService.open({ namespace: ctx.caller.netns })) }, 'ADD')
    return made.result
  } finally {
    nft?.close()
    closeHandles(container, host)
    sandbox.close()
  }
}

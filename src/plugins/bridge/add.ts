// ADD, as an ordered list of steps (upstream's cmdAdd, top to bottom). Each
// step may register an undo; when a later step fails, the undos of the steps
// already done run in reverse, so a failed ADD leaves no veth and no IP
// reservation behind (the bridge, shared by every container, is never
// removed). macspoofchk and ipMasq are nf_tables steps whose undo removes
// their rules.
import type { PluginContext } from '../../cni/skel.js'
import { delegateAdd, delegateDel, delegateOptionsOf } from '../../cni/invoke.js'
import { parseCniArgs, argParsers } from '../../cni/args.js'
import { runStep } from '../../cni/trace.js'
import { convertResult, resultFamily, type Interface, type Result } from '../../cni/result.js'
import { NetNamespace } from '../../netlink/netns.js'
import type { Link } from '../../netlink/route/links.js'
import { checkAddOptions, loadBridgeConfig, type BridgeConfig } from './config.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { closeHandles, openHandles } from './session.js'
import { attachHostPort, createVethPair, ensureBridge, setupGateways, waitPortUp } from './host.js'
import { calcGateways, type GatewayPlan } from './gateways.js'
import { configureContainer, raSysctls, writeSysctls } from './container.js'
import { resolveAutoMTU } from './mtu.js'
import { NftService } from '../../netlink/nftables/service.js'
import { setupSpoofCheck, spoofCheckNames, teardownSpoofCheck } from './spoofcheck.js'
import { setupMasquerade, teardownMasquerade, type MasqInstance } from './masquerade.js'
import { ensureIsolation, releaseIsolationIfUnused } from './isolation.js'
import type { AttachmentRecord } from './attachments.js'
import { dropAddRecord, writeAddingRecord, writeReadyRecord } from './records.js'
import { announce, ipReuseHygiene } from './hygiene.js'

/** Everything the steps share during one ADD. */
export interface AddState {
  ctx: PluginContext
  conf: BridgeConfig
  /** ipam.type is set: addresses and routes come from IPAM. */
  l3: boolean
  sandbox: NetNamespace
  host: NetlinkHandle
  container: NetlinkHandle
  bridge?: Link
  /** The host end's name, known as soon as the pair exists (for the undo). */
  hostVethName?: string
  hostVeth?: Link
  containerLink?: Link
  /** `<bridge>.<vlan>`, the gateway interface with isGateway and an access VLAN. */
  vlanLink?: Link
  result: Result
  plan?: GatewayPlan
  /** The isolate step added the bridge's isolation rules (the undo removes them). */
  isolationAdded?: boolean
  /** The host namespace's nf_tables socket, opened by the first step that needs it. */
  nft?: NftService
  /** The attachment record as last written (records.ts). */
  record?: AttachmentRecord
}

/** The nf_tables service of the host namespace, opened on first use (closed by add()). */
function nftOf (s: AddState): NftService {
  s.nft ??= NftService.open({ namespace: s.ctx.caller.netns })
  return s.nft
}

function masqInstance (s: AddState): MasqInstance {
  return { network: s.ctx.name, ifname: s.ctx.ifname, containerID: s.ctx.containerId }
}

export interface AddStep {
  name: string
  /** Whether the step runs for this config (default: always). */
  when?: (s: AddState) => boolean
  run: (s: AddState) => Promise<void>
  /** Undoes the step after a later failure; its errors are logged, not thrown. */
  undo?: (s: AddState) => Promise<void>
}

const q = JSON.stringify

export const ADD_STEPS: readonly AddStep[] = [
  {
    name: 'bridge',
    // Never undone: other containers may use the bridge by now.
    run: async s => {
      if (s.conf.mtuAuto) s.conf.mtu = await resolveAutoMTU(s.host, s.ctx.log)
      s.bridge = await ensureBridge(s.host, s.conf)
    }
  },
  {
    name: 'veth',
    run: async s => {
      const { hostName } = await createVethPair(s.host, { name: s.ctx.ifname, namespace: s.sandbox, ...(s.conf.mac !== undefined ? { mac: s.conf.mac } : {}) }, s.conf.mtu,
        hostVeth => { s.record = writeAddingRecord(s, hostVeth) })
      // Known from here on, so the undo can remove the pair whatever fails next.
      s.hostVethName = hostName
      s.hostVeth = await s.host.links.get(hostName)
      s.containerLink = await s.container.links.get(s.ctx.ifname)
      // Upstream's L2 result; the container configuration finds its interface by index 2.
      s.result.interfaces = resultInterfaces(s)
    },
    undo: async s => {
      // Deleting one end removes both; try the host end first, then the container end.
      if (s.hostVethName === undefined) return
      try {
        await s.host.links.delete(s.hostVeth?.index ?? s.hostVethName)
      } catch (err) {
        s.ctx.log.debug(`rollback: deleting ${s.hostVethName}: ${(err as Error).message}; trying ${s.ctx.ifname} in ${s.ctx.netns}`)
        await s.container.links.delete(s.ctx.ifname)
      }
      dropAddRecord(s)
    }
  },
  {
    name: 'host port',
    run: async s => { await attachHostPort(s.host, s.bridge!, s.hostVeth!, s.conf) }
  },
  {
    name: 'isolate',
    when: s => s.conf.isolate,
    // After the port exists: a DEL that looks for the bridge's ports meanwhile sees ours.
    run: async s => {
      try {
        s.isolationAdded = await ensureIsolation(nftOf(s), s.bridge!.name)
      } catch (err) {
        throw new Error(`failed to set up isolation of ${q(s.bridge!.name)}: ${(err as Error).message}`, { cause: err })
      }
    },
    // Only what this ADD added, and only when no other port uses it.
    undo: async s => { if (s.isolationAdded === true) await releaseIsolationIfUnused(nftOf(s), s.host.links, s.bridge!.name, s.hostVeth?.index) }
  },
  {
    name: 'macspoofchk',
    when: s => s.conf.macspoofchk,
    run: async s => {
      const names = spoofCheckNames(s.ctx.containerId, s.ctx.ifname, s.ctx.name)
      try {
        await setupSpoofCheck(nftOf(s), names, s.hostVeth!.name, s.containerLink!.mac!)
      } catch (err) {
        throw new Error(`failed to setup spoof-check: ${(err as Error).message}`, { cause: err })
      }
    },
    undo: async s => { await teardownSpoofCheck(nftOf(s), spoofCheckNames(s.ctx.containerId, s.ctx.ifname)) }
  },
  {
    name: 'ipam',
    when: s => s.l3,
    run: async s => {
      const ipam = await delegateAdd(s.conf.ipamType, s.ctx.stdin, s.ctx.env, delegateOptionsOf(s.ctx))
      s.result.ips = ipam.ips ?? []
      s.result.routes = ipam.routes ?? []
      if (ipam.dns !== undefined) s.result.dns = ipam.dns
      if (s.result.ips.length === 0) throw new Error('IPAM plugin returned missing IP config')
      s.plan = calcGateways(s.result.ips, s.result.routes, s.conf)
    },
    // Also after a failed IPAM ADD: it may have reserved part of what it was asked for.
    undo: async s => { await delegateDel(s.conf.ipamType, s.ctx.stdin, s.ctx.env, delegateOptionsOf(s.ctx)) }
  },
  // ipMasq right after IPAM (upstream: after the gateway; nothing between
  // depends on it). When its batch deleted something (a stale rule, a
  // rewritten postrouting), closing the nf_tables socket waits until the
  // kernel has freed it, one RCU grace period (~10 ms here): committed this
  // early, most of that has passed by the end of the run.
  {
    name: 'ipMasq',
    when: s => s.l3 && s.conf.ipMasq,
    run: async s => {
      try {
        await setupMasquerade(nftOf(s), s.result.ips!.map(ip => ip.address), masqInstance(s))
      } catch (err) {
        throw new Error(`failed to setup IP masquerade: ${(err as Error).message}`, { cause: err })
      }
    },
    undo: async s => { await teardownMasquerade(nftOf(s), masqInstance(s)) }
  },
  // IP-reuse hygiene: stale host neighbour entries out, ndisc_notify on (hygiene.ts).
  {
    name: 'neighbours',
    when: s => s.l3,
    run: ipReuseHygiene
  },
  {
    name: 'container',
    when: s => !s.conf.disableContainerInterface,
    run: async s => {
      const c = s.containerLink!
      const setUp = async (): Promise<void> => { await s.container.links.setUp(c.index) }
      if (!s.l3) {
        // RA and SLAAC settings while the interface is still down (no race with a router).
        writeSysctls(s.sandbox, raSysctls(s.ctx.ifname, s.conf.enableSlaac))
        try {
          await setUp()
        } catch (err) {
          throw new Error(`failed to set ${q(s.ctx.ifname)} up: ${(err as Error).message}`, { cause: err })
        }
        return
      }
      await configureContainer({
        ns: s.sandbox,
        links: s.container.links,
        addresses: s.container.addresses,
        routes: s.container.routes,
        ifname: s.ctx.ifname,
        index: c.index,
        setUp,
        isOperUp: async () => (await s.container.links.get(c.index)).operstate === 'up'
      }, s.result, s.conf.enabledad, s.conf.enableSlaac)
    }
  },
  {
    name: 'gateway',
    when: s => s.l3 && s.conf.isGateway,
    run: async s => {
      const vlanLink = await setupGateways(s.host, s.bridge!, [s.plan!.v4, s.plan!.v6], s.conf)
      if (vlanLink !== undefined) s.vlanLink = vlanLink
    }
  },
  {
    name: 'port state',
    run: async s => {
      // The container end is down with disableContainerInterface: no carrier to wait for.
      s.hostVeth = s.conf.disableContainerInterface ? await s.host.links.get(s.hostVeth!.index) : await waitPortUp(s.host, s.hostVeth!.index)
    }
  },
  // The container announces itself (GARP, unsolicited NA) once its port forwards (hygiene.ts).
  {
    name: 'announce',
    when: s => s.l3 && !s.conf.disableContainerInterface,
    run: announce
  },
  {
    name: 'result',
    run: async s => {
      // MACs change on enslave and with the gateway address (upstream #805): read them last.
      s.bridge = await s.host.links.get(s.bridge!.index)
      s.result.interfaces = resultInterfaces(s)
      if (s.vlanLink !== undefined) s.result.interfaces.push({ name: s.vlanLink.name, ...(s.vlanLink.mac !== undefined ? { mac: s.vlanLink.mac } : {}) })
      if (s.conf.dns !== undefined) s.result.dns = s.conf.dns
      // The skel converts to the config's version after we return; a result
      // that cannot be converted must fail here, while the undos can still run.
      convertResult(s.result, s.ctx.cniVersion)
    }
  },
  {
    // Last: the attachment record, now "ready" (what the reconciler, DEL and GC work from).
    name: 'record',
    run: async s => { writeReadyRecord(s) }
  }
]

/** [bridge, host veth, container] with the MACs as last read. */
function resultInterfaces (s: AddState): Interface[] {
  const mac = (l: Link): { mac?: string } => l.mac !== undefined ? { mac: l.mac } : {}
  return [
    { name: s.bridge!.name, ...mac(s.bridge!) },
    { name: s.hostVeth!.name, ...mac(s.hostVeth!) },
    { name: s.containerLink!.name, ...mac(s.containerLink!), sandbox: s.ctx.netns }
  ]
}

/**
 * Fault injection for rollback tests and for watching a rollback happen:
 * with TSCNI_FAIL_AFTER_STEP=<step name> in the environment, ADD fails right
 * after that step (e.g. "ipMasq"), and every done step is undone.
 */
export const FAIL_AFTER_STEP_ENV = 'TSCNI_FAIL_AFTER_STEP'
/**
 * For kill tests: with TSCNI_HANG_AFTER_STEP=<step name>, ADD waits (an hour)
 * right after that step, so a test can kill -9 it at a known point.
 */
export const HANG_AFTER_STEP_ENV = 'TSCNI_HANG_AFTER_STEP'

/** Runs the steps; on failure, undoes the done ones in reverse and rethrows the failure. */
export async function runSteps (steps: readonly AddStep[], s: AddState): Promise<void> {
  const done: AddStep[] = []
  const failAfter = s.ctx.env[FAIL_AFTER_STEP_ENV]
  try {
    for (const step of steps) {
      if (step.when !== undefined && !step.when(s)) continue
      done.push(step)
      // Its duration at debug; a failure's details name it (trace.ts).
      await runStep(s.ctx.log, 'ADD', step.name, async () => {
        await step.run(s)
        if (step.name === failAfter) throw new Error(`failing after step ${step.name} as ${FAIL_AFTER_STEP_ENV} asks`)
      if (step.name === s.ctx.env[HANG_AFTER_STEP_ENV]) {
        s.ctx.log.warn(`hanging after step ${step.name} as ${HANG_AFTER_STEP_ENV} asks`)
        await new Promise(resolve => setTimeout(resolve, 3_600_000))
      }
      })
    }
  } catch (err) {
    for (const step of done.reverse()) {
      if (step.undo === undefined) continue
      const start = performance.now()
      try {
        await step.undo(s)
        s.ctx.log.debug(`undo ${step.name}: ${(performance.now() - start).toFixed(1)} ms`)
      } catch (undoErr) {
        s.ctx.log.warn(`rollback of step ${step.name} failed: ${(undoErr as Error).message}`)
      }
    }
    throw err
  }
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

  let sandbox: NetNamespace
  try {
    sandbox = NetNamespace.openVerified(ctx.caller.path(ctx.netns), ctx.netns)
  } catch (err) {
    throw new Error(`failed to open netns ${q(ctx.netns)}: ${(err as Error).message}`, { cause: err })
  }
  let host: NetlinkHandle | undefined
  let container: NetlinkHandle | undefined
  let state: AddState | undefined
  try {
    // The container's first: entering its namespace loads koffi, which the host socket's strict checking reuses.
    container = openHandles(sandbox)
    host = openHandles(ctx.caller.netns, { strictCheck: true })
    state = { ctx, conf, l3, sandbox, host, container, result: { cniVersion: '1.1.0' } }
    await runSteps(ADD_STEPS, state)
    return state.result
  } finally {
    state?.nft?.close()
    closeHandles(container, host)
    sandbox.close()
  }
}

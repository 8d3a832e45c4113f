// The bridge plugin: a drop-in for containernetworking/plugins' bridge, built
// on our rtnetlink library (no `ip`, no exec except the delegated IPAM).
// Each command lives in its own module and reads like upstream's.
import type { Plugin, PluginContext } from '../../cni/skel.js'
import { delegateGC, delegateStatus, delegateOptionsOf } from '../../cni/invoke.js'
import { CniError, ErrInvalidNetworkConfig, ErrPluginNotAvailable } from '../../cni/errors.js'
import { NftService } from '../../netlink/nftables/service.js'
import { loadBridgeConfig } from './config.js'
import { readGCAttachments } from '../../cni/gc.js'
import { gcBridge } from './gc.js'
import { recordsDirOf } from './records.js'
import { nftablesProblem } from './status.js'
import { gcIsolation } from './isolation.js'
import { closeHandles, openHandles } from './session.js'
import { add } from './add.js'
import { del } from './del.js'
import { check } from './check.js'

/**
 * GC: with ipMasq, deletes the network's masquerade rules of attachments not
 * in `cni.dev/valid-attachments` (upstream has no bridge GC yet); then
 * forwarded to the IPAM plugin, which frees their reservations. Without the
 * list nothing is known to be stale: refused (code 7) as host-local does,
 * before anything is touched.
 */
async function gc (ctx: PluginContext): Promise<void> {
  const conf = await loadBridgeConfig(ctx.config)
  const valid = readGCAttachments(ctx.config)
  const legacy = readGCAttachments(ctx.config, 'cni.dev/attachments')
  if (valid === undefined && legacy === undefined) {
    if (conf.ipMasq) throw new CniError(ErrInvalidNetworkConfig, 'GC needs the list of valid attachments', 'cni.dev/valid-attachments')
  } else {
    // Rules, chains, veths and records of invalid attachments (gc.ts).
    const report = await gcBridge({
      network: ctx.name, ipMasq: conf.ipMasq, macspoofchk: conf.macspoofchk, valid: [...valid ?? [], ...legacy ?? []],
      recordsDir: recordsDirOf(ctx), caller: ctx.caller, log: ctx.log
    })
    for (const [what, list] of [['masquerade rule(s)', report.masqueradeRules], ['spoof-check chain pair(s)', report.spoofCheckChains], ['host veth(s)', report.hostVeths], ['attachment record(s)', report.records]] as const) {
      if (list.length > 0) ctx.log.info(`GC removed ${list.length} ${what} of network ${JSON.stringify(ctx.name)}: ${list.join(', ')}`)
    }
    if (report.errors.length > 0) throw new Error(`GC of network ${JSON.stringify(ctx.name)}: ${report.errors.join('; ')}`)
  }
  if (conf.isolate) await gcIsolationOf(ctx, conf.bridge)
  if (conf.ipamType !== '') await delegateGC(conf.ipamType, ctx.stdin, ctx.env, delegateOptionsOf(ctx))
}

/** GC of isolation rules: those of bridges that are gone, and this network's when its bridge has no port. */
async function gcIsolationOf (ctx: PluginContext, bridge: string): Promise<void> {
  const nft = NftService.open({ namespace: ctx.caller.netns })
  const host = openHandles(ctx.caller.netns)
  try {
    const removed = await gcIsolation(nft, host.links, bridge)
    if (removed.length > 0) ctx.log.info(`GC removed the isolation rules of bridge(s) ${removed.join(', ')}`)
  } finally {
    closeHandles(host)
    nft.close()
  }
}

/**
 * STATUS: code 50 when ipMasq or macspoofchk is configured and nf_tables
 * cannot be used in the caller's namespace (status.ts); then ready unless the
 * IPAM plugin says otherwise (upstream).
 */
async function status (ctx: PluginContext): Promise<void> {
  const conf = await loadBridgeConfig(ctx.config)
  if (conf.ipMasq || conf.macspoofchk) {
    const problem = await nftablesProblem(ctx.caller.netns)
    if (problem !== undefined) {
      throw new CniError(ErrPluginNotAvailable, `nf_tables cannot be used: ${problem}`, conf.ipMasq ? 'ipMasq' : 'macspoofchk')
    }
  }
  if (conf.ipamType !== '') await delegateStatus(conf.ipamType, ctx.stdin, ctx.env, delegateOptionsOf(ctx))
}

export const bridge: Plugin = {
  name: 'bridge',
  about: 'CNI bridge plugin (tscni)',
  add,
  del,
  check,
  gc,
  status
}

export default bridge

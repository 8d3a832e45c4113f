// DEL (upstream's cmdDel): remove the attachment's macspoofchk and ipMasq
// rules, delete the container interface, which removes the whole veth pair,
// then release the IPAM reservation. Idempotent: no CNI_NETNS, a
// namespace that is gone or an interface that is gone still release the
// reservation and the rules, and succeed. The bridge, its gateway address
// and the forwarding sysctls are never touched.
import type { PluginContext } from '../../cni/skel.js'
import { delegateDel, delegateOptionsOf } from '../../cni/invoke.js'
import { fieldCI, isObject } from '../../cni/json.js'
import { isErrno } from '../../netlink/errors.js'
import { NamespaceMissingError, NetNamespace } from '../../netlink/netns.js'
import { NftService } from '../../netlink/nftables/service.js'
import { DEFAULT_BRIDGE_NAME, loadBridgeConfig } from './config.js'
import { releaseIsolationIfUnused } from './isolation.js'
import { runStep } from '../../cni/trace.js'
import { teardownSpoofCheck, spoofCheckNames } from './spoofcheck.js'
import { teardownMasquerade } from './masquerade.js'
import type { NetlinkHandle } from '../../netlink/handle.js'
import { closeHandles, openHandles } from './session.js'
import { lockRecord, recordPath, removeRecord, type AttachmentRecord } from './attachments.js'
import { flushConntrack } from './hygiene.js'
import { recordsDirOf } from './records.js'

/** What DEL needs from the config. */
interface DelOptions { ipamType: string, ipMasq: boolean, macspoofchk: boolean, isolate: boolean, bridge: string }

/**
 * The options DEL acts on. A config that fails our checks (a bad VLAN id,
 * a mistyped option) still gets its DEL, so that what an ADD that failed
 * left is not leaked: the IPAM type and the two nf_tables switches are
 * read from it as they are.
 */
async function delOptions (ctx: PluginContext): Promise<DelOptions> {
  try {
    const c = await loadBridgeConfig(ctx.config)
    return { ipamType: c.ipamType, ipMasq: c.ipMasq, macspoofchk: c.macspoofchk, isolate: c.isolate, bridge: c.bridge }
  } catch (err) {
    ctx.log.warn(`DEL goes on despite an invalid config: ${(err as Error).message}`)
    const ipam = fieldCI(ctx.config, 'ipam')
    const type = isObject(ipam) ? fieldCI(ipam, 'type') : undefined
    return {
      ipamType: typeof type === 'string' ? type : '',
      ipMasq: fieldCI(ctx.config, 'ipMasq') === true,
      macspoofchk: fieldCI(ctx.config, 'macspoofchk') === true,
      isolate: fieldCI(ctx.config, 'isolate') === true,
      bridge: typeof fieldCI(ctx.config, 'bridge') === 'string' && fieldCI(ctx.config, 'bridge') !== '' ? fieldCI(ctx.config, 'bridge') as string : DEFAULT_BRIDGE_NAME
    }
  }
}

export async function del (ctx: PluginContext): Promise<void> {
  const opts = await delOptions(ctx)
  // The attachment record, held under its lock until it is removed: the
  // reconciler then never puts back what this DEL takes away.
  const path = recordPath(recordsDirOf(ctx), ctx.name, ctx.containerId, ctx.ifname)
  const held = await lockRecord(path, { wait: true })
  try {
    const record = held?.record
    if (record !== undefined) {
      // What the ADD made, whatever the config says now.
      opts.ipMasq ||= record.ipMasq
      opts.macspoofchk ||= record.macspoofchk
    }
    await delAttachment(ctx, opts, record)
    removeRecord(path)
  } finally {
    held?.release()
  }
}

async function delAttachment (ctx: PluginContext, opts: DelOptions, record: AttachmentRecord | undefined): Promise<void> {
  // The rules first (upstream: last). Closing an nf_tables socket waits until
  // the kernel has freed the last commit's transaction, one RCU grace period
  // (~8 ms here); the interface deletion, which blocks in the kernel for
  // longer, covers that wait. A DEL that fails later is retried by the
  // runtime, and the rules of a container being deleted are not missed.
  const nft = opts.macspoofchk || opts.isolate || (opts.ipMasq && opts.ipamType !== '') ? NftService.open({ namespace: ctx.caller.netns }) : undefined
  // Each step's duration at debug; a failure's details name the step (trace.ts).
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => { await runStep(ctx.log, 'DEL', name, fn) }
  try {
    if (nft !== undefined) await step('rules', async () => { await deleteRules(nft, ctx, opts) })
    // Then the interface, then IPAM (upstream's order).
    await step('interface', async () => { await deleteContainerInterface(ctx) })
    // The host end, when the container's could not take it along: CNI_NETNS
    // empty, or an ADD killed before it finished (records.ts).
    if (record !== undefined) await step('host veth', async () => { await deleteHostVeth(ctx, record) })
    // The bridge's isolation rules go with its last port (isolation.ts): after every port of ours is gone.
    if (nft !== undefined && opts.isolate) await step('isolation', async () => { await releaseIsolation(nft, ctx, opts.bridge) })
    // IP-reuse hygiene: the released addresses' conntrack entries, before IPAM can hand them out again (hygiene.ts).
    await step('conntrack', async () => { await flushConntrack(ctx, record) })
    if (opts.ipamType !== '') await step('ipam', async () => { await delegateDel(opts.ipamType, ctx.stdin, ctx.env, delegateOptionsOf(ctx)) })
  } finally {
    nft?.close()
  }
}

/** Removes the bridge's isolation rules when this DEL took its last port. */
async function releaseIsolation (nft: NftService, ctx: PluginContext, bridge: string): Promise<void> {
  const host = openHandles(ctx.caller.netns)
  try {
    if (await releaseIsolationIfUnused(nft, host.links, bridge)) ctx.log.info(`isolation rules of bridge ${JSON.stringify(bridge)} removed: its last port is gone`)
  } catch (err) {
    throw new Error(`failed to release isolation of ${JSON.stringify(bridge)}: ${(err as Error).message}`, { cause: err })
  } finally {
    closeHandles(host)
  }
}

/** Deletes CNI_IFNAME in CNI_NETNS (the kernel removes the host end); fine when either is gone. */
async function deleteContainerInterface (ctx: PluginContext): Promise<void> {
  if (ctx.netns === '') return
  let sandbox
  try {
    sandbox = NetNamespace.openVerified(ctx.caller.path(ctx.netns), ctx.netns)
  } catch (err) {
    // The namespace is gone, and the veth with it.
    if (err instanceof NamespaceMissingError) return
    throw err
  }
  let container: NetlinkHandle | undefined
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
}

/**
 * Deletes the record's host veth if it is still there: a veth, on the
 * record's bridge or on none (a killed ADD may not have enslaved it yet).
 */
export async function deleteHostVeth (ctx: Pick<PluginContext, 'caller'>, record: AttachmentRecord): Promise<boolean> {
  const host = openHandles(ctx.caller.netns)
  try {
    const veth = await host.links.find(record.hostVeth)
    if (veth === undefined || veth.kind !== 'veth') return false
    if (veth.master !== undefined) {
      const bridge = await host.links.find(record.bridge)
      if (bridge === undefined || bridge.index !== veth.master) return false
    }
    try {
      await host.links.delete(veth.index)
    } catch (err) {
      if (isErrno(err, 'ENODEV')) return false
      throw new Error(`failed to delete host veth ${JSON.stringify(record.hostVeth)}: ${(err as Error).message}`, { cause: err })
    }
    return true
  } finally {
    closeHandles(host)
  }
}

/**
 * The spoof check and masquerade rules of this attachment, found by their
 * names and comments, not by the container's addresses: they go also when
 * the namespace is gone (upstream leaks the masquerade rules then, #810).
 */
async function deleteRules (nft: NftService, ctx: PluginContext, opts: DelOptions): Promise<void> {
  if (opts.macspoofchk) {
    try {
      await teardownSpoofCheck(nft, spoofCheckNames(ctx.containerId, ctx.ifname))
    } catch (err) {
      throw new Error(`failed to teardown spoof-check: ${(err as Error).message}`, { cause: err })
    }
  }
  if (opts.ipMasq && opts.ipamType !== '') {
    try {
      await teardownMasquerade(nft, { network: ctx.name, ifname: ctx.ifname, containerID: ctx.containerId })
    } catch (err) {
      throw new Error(`failed to teardown IP masquerade: ${(err as Error).message}`, { cause: err })
    }
  }
}

// The bridge plugin: a drop-in for containernetworking/plugins' bridge, built
// on our rtnetlink library (no `ip`, no exec except the delegated IPAM).
// Each command lives in its own module and reads like upstream's.
import type { Plugin, PluginContext } from '../../cni/skel.js'
import { delegateGC, delegateStatus } from '../../cni/invoke.js'
import { CniError, ErrPluginNotAvailable } from '../../cni/errors.js'
import { NOT_IMPLEMENTED, loadBridgeConfig } from './config.js'
import { add } from './add.js'
import { del } from './del.js'
import { check } from './check.js'

/** GC: forwarded to the IPAM plugin (which frees the reservations of stale attachments). Masquerade GC comes with ipMasq. */
async function gc (ctx: PluginContext): Promise<void> {
  const conf = await loadBridgeConfig(ctx.config)
  if (conf.ipamType !== '') await delegateGC(conf.ipamType, ctx.stdin, ctx.env, { stderr: ctx.stderr })
}

/**
 * STATUS: ready unless the IPAM plugin says otherwise. A config asking for an
 * option this release refuses cannot serve any ADD: that is reported as 50.
 */
async function status (ctx: PluginContext): Promise<void> {
  const conf = await loadBridgeConfig(ctx.config)
  for (const f of NOT_IMPLEMENTED) {
    if (conf[f.key]) throw new CniError(ErrPluginNotAvailable, `${f.key}: true is not implemented yet`, f.why)
  }
  if (conf.ipamType !== '') await delegateStatus(conf.ipamType, ctx.stdin, ctx.env, { stderr: ctx.stderr })
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

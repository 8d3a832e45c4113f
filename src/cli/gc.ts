// `tscni gc --conflist F --valid-attachments FILE|- [--dry-run] [--json]`:
// CNI GC for runtimes that never send it (containerd today). Runs, in this
// process's network namespace, the GC of every plugin of the network:
// bridge (masquerade rules, spoof-check chains, host veths and attachment
// records of attachments not in the list; src/plugins/bridge/gc.ts) and its
// host-local IPAM (reservations, and those of an earlier boot;
// src/ipam/gc.ts) in process, so it can say what it removes, or with
// --dry-run what it would; other plugin types are exec'd from CNI_PATH with
// CNI_COMMAND=GC (not in a dry run). The list is a JSON array of
// {"containerID", "ifname"}, or an object holding it under
// "cni.dev/valid-attachments"; "-" reads it from stdin.
import { readFileSync } from 'node:fs'
import { LOCAL_CALLER } from '../cni/caller.js'
import { readGCAttachments, type GCAttachment } from '../cni/gc.js'
import { delegateGC } from '../cni/invoke.js'
import { isObject, type JSONObject } from '../cni/json.js'
import { currentBootId } from '../ipam/boot.js'
import { loadIPAMConfig } from '../ipam/config.js'
import { gcReservations } from '../ipam/gc.js'
import { parseFlags } from './flags.js'
import { attachmentsDir } from '../plugins/bridge/attachments.js'
import { loadBridgeConfig } from '../plugins/bridge/config.js'
import { gcBridge } from '../plugins/bridge/gc.js'

export const usage = 'gc --conflist FILE --valid-attachments FILE|- [--dry-run] [--json]'

export interface GCLine { plugin: string, action: string, what: string }

function readJSON (path: string): unknown {
  const text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new Error(`${path === '-' ? 'stdin' : path}: not JSON: ${(err as Error).message}`)
  }
}

/** The attachments list from an array or an object holding "cni.dev/valid-attachments". */
export function parseValidAttachments (raw: unknown, source: string): GCAttachment[] {
  const holder: JSONObject = Array.isArray(raw) ? { 'cni.dev/valid-attachments': raw } : isObject(raw) ? raw : {}
  let list: GCAttachment[] | undefined
  try {
    list = readGCAttachments(holder)
  } catch (err) {
    throw new Error(`${source}: ${(err as Error & { details?: string }).details ?? (err as Error).message}`)
  }
  if (list === undefined) throw new Error(`${source}: expected a JSON array of {"containerID", "ifname"} or an object with "cni.dev/valid-attachments"`)
  return list
}

/** The plugin configs of a .conflist (or a single .conf) with the network's name and version, as libcni builds them. */
export function pluginConfigs (conf: unknown, source: string): { name: string, cniVersion: string, plugins: JSONObject[] } {
  if (!isObject(conf)) throw new Error(`${source}: not a JSON object`)
  const name = conf.name
  if (typeof name !== 'string' || name === '') throw new Error(`${source}: "name" is missing`)
  const cniVersion = typeof conf.cniVersion === 'string' ? conf.cniVersion : '1.1.0'
  const list = Array.isArray(conf.plugins) ? conf.plugins : [conf]
  const plugins = list.map((p, i) => {
    if (!isObject(p) || typeof p.type !== 'string') throw new Error(`${source}: plugins[${i}] has no "type"`)
    return { ...p, name, cniVersion } as JSONObject
  })
  return { name, cniVersion, plugins }
}

export async function gcConflist (conflist: unknown, valid: readonly GCAttachment[], options: { dryRun: boolean, source: string, env?: NodeJS.ProcessEnv }): Promise<{ lines: GCLine[], errors: string[] }> {
  const env = options.env ?? process.env
  const { name, plugins } = pluginConfigs(conflist, options.source)
  const lines: GCLine[] = []
  const errors: string[] = []
  const act = options.dryRun ? 'would remove' : 'removed'
  for (const p of plugins) {
    const type = p.type as string
    const config: JSONObject = { ...p, 'cni.dev/valid-attachments': valid.map(a => ({ containerID: a.containerID, ifname: a.ifname })) }
    try {
      if (type === 'bridge') {
        const conf = await loadBridgeConfig(config)
        const r = await gcBridge({ network: name, ipMasq: conf.ipMasq, macspoofchk: conf.macspoofchk, valid, recordsDir: attachmentsDir(env), caller: LOCAL_CALLER, dryRun: options.dryRun })
        for (const c of r.masqueradeRules) lines.push({ plugin: type, action: act, what: `masquerade rule ${JSON.stringify(c)}` })
        for (const c of r.spoofCheckChains) lines.push({ plugin: type, action: act, what: `spoof-check chains ${c} and ${c}-mac` })
        for (const v of r.hostVeths) lines.push({ plugin: type, action: options.dryRun ? 'would delete' : 'deleted', what: `host veth ${v}` })
        for (const a of r.records) lines.push({ plugin: type, action: act, what: `attachment record ${a}` })
        errors.push(...r.errors.map(e => `${type}: ${e}`))
        if (conf.ipamType === 'host-local') await gcHostLocal(config, name, valid, options.dryRun, env, lines)
        else if (conf.ipamType !== '') await foreign(conf.ipamType, config, env, options.dryRun, lines)
      } else if (type === 'loopback') {
        // Nothing to collect.
      } else {
        await foreign(type, config, env, options.dryRun, lines)
      }
    } catch (err) {
      errors.push(`${type}: ${(err as Error & { details?: string }).message}${(err as { details?: string }).details !== undefined ? ` (${(err as { details?: string }).details!})` : ''}`)
    }
  }
  return { lines, errors }
}

async function gcHostLocal (config: JSONObject, name: string, valid: readonly GCAttachment[], dryRun: boolean, env: NodeJS.ProcessEnv, lines: GCLine[]): Promise<void> {
  const conf = await loadIPAMConfig(config, { name, cniVersion: typeof config.cniVersion === 'string' ? config.cniVersion : '1.1.0', cniArgs: '' })
  const r = await gcReservations({ dataDir: conf.dataDir, network: name, valid, dryRun, bootId: currentBootId(env), reclaim: conf.reclaimAfterReboot })
  const pre = new Set(r.preBoot)
  for (const ip of r.released) {
    lines.push({ plugin: 'host-local', action: dryRun ? 'would release' : 'released', what: `${ip}${pre.has(ip) ? ' (reserved before the reboot)' : ''}` })
  }
  if (r.errors.length > 0) throw new Error(r.errors.map(e => e.message).join('; '))
}

async function foreign (type: string, config: JSONObject, env: NodeJS.ProcessEnv, dryRun: boolean, lines: GCLine[]): Promise<void> {
  if (dryRun) {
    lines.push({ plugin: type, action: 'skipped', what: 'not a tscni plugin: its GC cannot say what it would remove' })
    return
  }
  const cniEnv = { ...env, CNI_PATH: env.CNI_PATH ?? '/opt/cni/bin', CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '' }
  await delegateGC(type, Buffer.from(JSON.stringify(config)), cniEnv)
  lines.push({ plugin: type, action: 'ran', what: `its GC (CNI_PATH ${cniEnv.CNI_PATH})` })
}

export async function run (args: string[]): Promise<number> {
  const { flags } = parseFlags(args, { conflist: { type: 'string' }, 'valid-attachments': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, usage)
  const conflist = flags.conflist
  const validFile = flags['valid-attachments']
  const dryRun = flags['dry-run'] === true
  const json = flags.json === true
  if (conflist === undefined || validFile === undefined) {
    process.stderr.write(`usage: tscni ${usage}\n`)
    return 2
  }
  const valid = parseValidAttachments(readJSON(validFile), validFile === '-' ? 'stdin' : validFile)
  const { lines, errors } = await gcConflist(readJSON(conflist), valid, { dryRun, source: conflist })
  if (json) process.stdout.write(JSON.stringify({ dryRun, actions: lines, errors }, null, 2) + '\n')
  else {
    for (const l of lines) process.stdout.write(`${l.plugin}: ${l.action} ${l.what}\n`)
    for (const e of errors) process.stderr.write(`tscni gc: ${e}\n`)
    process.stdout.write(`${lines.filter(l => l.action !== 'skipped' && l.action !== 'ran').length} item(s) ${dryRun ? 'would be removed (dry run: nothing changed)' : 'removed'}${errors.length > 0 ? `, ${errors.length} error(s)` : ''}\n`)
  }
  return errors.length > 0 ? 1 : 0
}

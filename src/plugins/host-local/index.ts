// The host-local IPAM plugin: a drop-in for containernetworking/plugins'
// host-local, sharing its on-disk store (src/ipam/store.ts) so that both can
// serve one dataDir. Each command reads like the spec: load and check the
// config, then work on the store under its lock.
import { accessSync, constants as fsc, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Plugin, PluginContext } from '../../cni/skel.js'
import { CniError, ErrInvalidEnvironmentVariables, ErrInvalidNetworkConfig, ErrIOFailure, ErrPluginNotAvailable } from '../../cni/errors.js'
import type { Result } from '../../cni/result.js'
import { CURRENT_VERSION } from '../../cni/version.js'
import { DryRunStore, allocateAll } from '../../ipam/allocator.js'
import { type IPAMConfig, loadIPAMConfig } from '../../ipam/config.js'
import { formatIPText, parseIPText } from '../../netlink/addr.js'
import { readResolvConf } from '../../ipam/resolv-conf.js'
import { HostLocalStore, PRIVATE_DIR, isSafePathComponent, type BootCheck } from '../../ipam/store.js'
import { currentBootId } from '../../ipam/boot.js'
import { gcReservations } from '../../ipam/gc.js'

/** The IPAM config of this invocation, with its warnings logged. */
async function load (ctx: PluginContext, needsContainer: boolean): Promise<IPAMConfig> {
  if (needsContainer && !isSafePathComponent(ctx.containerId)) {
    throw new CniError(ErrInvalidEnvironmentVariables, 'invalid characters in containerID', ctx.containerId)
  }
  const conf = await loadIPAMConfig(ctx.config, { name: ctx.name, cniVersion: ctx.cniVersion, cniArgs: ctx.cniArgs })
  for (const w of conf.warnings) ctx.log.warn(w)
  // The files as the caller names them (the agent may serve a caller in another mount namespace).
  if (ctx.caller.local) return conf
  return { ...conf, dataDir: ctx.caller.path(conf.dataDir), resolvConf: conf.resolvConf === undefined ? undefined : ctx.caller.path(conf.resolvConf) }
}

/** Opens (creating) the store; a dataDir that cannot be created or written is an I/O failure naming it. */
function openStore (conf: IPAMConfig): HostLocalStore {
  try {
    return HostLocalStore.open(conf.dataDir, conf.name)
  } catch (err) {
    throw new CniError(ErrIOFailure, `failed to open the host-local store: ${(err as Error).message}`, 'ipam.dataDir', { cause: err })
  }
}

/** Runs fn on the locked store, when the network's directory exists; otherwise returns `absent`. */
async function withExistingStore<T> (conf: IPAMConfig, absent: T, fn: (store: HostLocalStore) => T): Promise<T> {
  if (!HostLocalStore.exists(conf.dataDir, conf.name)) return absent
  const store = openStore(conf)
  try {
    return await store.withLock(() => fn(store))
  } finally {
    store.close()
  }
}

/**
 * Reclaim after reboot (under the lock): records this boot and, on the first
 * ADD or GC of a new one, releases what the earlier boot held (unless the
 * config says `"reclaimAfterReboot": false`). Failures are logged: a stale
 * reservation is no reason to fail the command.
 */
function checkBoot (ctx: PluginContext, conf: IPAMConfig, store: HostLocalStore): void {
  let outcome: BootCheck
  try {
    outcome = store.checkBoot(currentBootId(ctx.env), conf.reclaimAfterReboot)
  } catch (err) {
    ctx.log.warn(`reclaim after reboot: ${(err as Error).message}`)
    return
  }
  if (!outcome.newBoot) return
  if (outcome.released.length > 0) ctx.log.info(`released ${outcome.released.length} reservation(s) made before the reboot: ${outcome.released.join(', ')}`)
  else if (conf.reclaimAfterReboot && !outcome.indexed) ctx.log.warn(`rebooted since boot ${outcome.previous ?? ''}, but without our index nothing tells which reservations predate it; none released`)
  for (const e of outcome.errors) ctx.log.warn(`reclaim after reboot: ${e.message}`)
}

async function add (ctx: PluginContext): Promise<Result> {
  const conf = await load(ctx, true)
  const result: Result = { cniVersion: CURRENT_VERSION }
  if (conf.resolvConf !== undefined) {
    try {
      result.dns = readResolvConf(conf.resolvConf)
    } catch (err) {
      throw new CniError(ErrInvalidNetworkConfig, (err as Error).message, 'ipam.resolvConf', { cause: err })
    }
  }

  const store = openStore(conf)
  try {
    await store.lock()
    checkBoot(ctx, conf, store)
    const before = store.lastReservedSnapshot()
    const requested = conf.requestedIPs.map(r => r.ip)
    const warn = (msg: string): void => { ctx.log.warn(msg) }
    try {
      // A rehearsal first: a failing ADD then changes nothing on disk.
      allocateAll(conf.rangeSets, new DryRunStore(store), ctx.containerId, ctx.ifname, requested, () => {})
      const ips = allocateAll(conf.rangeSets, store, ctx.containerId, ctx.ifname, requested, warn)
      result.ips = ips.map(c => ({ address: `${formatIPText(c.address)}/${c.prefixLength}`, gateway: formatIPText(c.gateway) }))
    } catch (err) {
      // Should the real run fail where the rehearsal did not, allocateAll
      // gave back what it reserved; put the round-robin positions back too.
      try { store.restoreLastReserved(before) } catch (e) { ctx.log.warn(`restoring last_reserved_ip: ${(e as Error).message}`) }
      // An AllocationError becomes 999 with its text, as upstream reports it.
      throw err
    }
  } finally {
    store.close()
  }
  if (conf.routes.length > 0) result.routes = conf.routes
  return result
}

async function del (ctx: PluginContext): Promise<void> {
  const conf = await load(ctx, true)
  // Nothing was ever allocated here: nothing to release, and nothing is created.
  const released = await withExistingStore(conf, [], store => store.releaseByID(ctx.containerId, ctx.ifname))
  if (released.length > 0) ctx.log.debug(`released ${released.join(', ')}`)
}

async function check (ctx: PluginContext): Promise<void> {
  const conf = await load(ctx, true)
  const id = ctx.containerId
  const held = await withExistingStore(conf, undefined, store =>
    store.findByID(id, ctx.ifname) ? new Set(store.getByID(id, ctx.ifname).map(formatIPText)) : undefined)
  if (held === undefined) throw new Error(`host-local: Failed to find address added by container ${id}`)
  // Upstream stops here; the spec asks to find what the ADD created, so each
  // prevResult address of our ranges must still be reserved for this attachment.
  for (const ipc of ctx.prevResult?.ips ?? []) {
    const ip = parseIPText(ipc.address.slice(0, ipc.address.indexOf('/')))
    if (ip === undefined || !conf.rangeSets.some(s => s.contains(ip))) continue
    if (!held.has(formatIPText(ip))) {
      throw new Error(`host-local: address ${formatIPText(ip)} of prevResult is not reserved for container ${id} interface ${ctx.ifname}`)
    }
  }
}

async function gc (ctx: PluginContext): Promise<void> {
  const conf = await load(ctx, false)
  if (conf.gcAttachments === undefined) {
    // Without the list, everything would look stale: refuse rather than wipe the store.
    throw new CniError(ErrInvalidNetworkConfig, 'GC needs the list of valid attachments', 'cni.dev/valid-attachments')
  }
  const outcome = await gcReservations({
    dataDir: conf.dataDir, network: conf.name, valid: conf.gcAttachments, bootId: currentBootId(ctx.env), reclaim: conf.reclaimAfterReboot
  })
  if (outcome.preBoot.length > 0) ctx.log.info(`released ${outcome.preBoot.length} reservation(s) made before the reboot: ${outcome.preBoot.join(', ')}`)
  const stale = outcome.released.filter(n => !outcome.preBoot.includes(n))
  if (stale.length > 0) ctx.log.info(`released stale reservations: ${stale.join(', ')}`)
  if (outcome.errors.length > 0) {
    throw new Error(`failed to GC store directory ${conf.dataDir}/${conf.name}: ${outcome.errors.map(e => e.message).join('; ')}`)
  }
}

/** How long STATUS waits for the store's lock before it calls the plugin not available. */
export const STATUS_LOCK_DEADLINE_MS = 1000

/** The directory an ADD would write in first: <dataDir>/<net>, or the nearest existing ancestor of it. */
function nearestExisting (path: string): string {
  for (let p = path; ; p = dirname(p)) {
    try {
      statSync(p)
      return p
    } catch (err) {
      if (p === dirname(p)) return p
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return p
    }
  }
}

/** Why an ADD could not write the store, or undefined when it can (as far as access(2) tells). */
function unwritable (conf: IPAMConfig): string | undefined {
  // Reservations go to <dataDir>/<net>/, temp files and the index to <dataDir>/.tscni/.
  const places = new Set([nearestExisting(join(conf.dataDir, conf.name)), nearestExisting(join(conf.dataDir, PRIVATE_DIR))])
  for (const p of places) {
    try {
      if (!statSync(p).isDirectory()) return `${p} is not a directory`
      accessSync(p, fsc.W_OK)
    } catch (err) {
      return (err as Error).message
    }
  }
  return undefined
}

/**
 * STATUS (spec 1.1): code 50 when an ADD could not work: the dataDir cannot
 * be written, or the store's lock cannot be taken within
 * STATUS_LOCK_DEADLINE_MS (a hung or stuck holder). A full range set answers
 * 50 only with `"statusFailsWhenFull": true`: runtimes turn any STATUS
 * failure into a node-wide "network not ready", which a full range should not
 * cause by default (DEL, and ADD of other networks, still work). Reservations
 * the next ADD would reclaim after a reboot do not count as used.
 */
async function status (ctx: PluginContext): Promise<void> {
  const conf = await load(ctx, false)
  const problem = unwritable(conf)
  if (problem !== undefined) {
    throw new CniError(ErrPluginNotAvailable, `host-local: the dataDir cannot be written: ${problem}`, 'ipam.dataDir')
  }
  if (!HostLocalStore.exists(conf.dataDir, conf.name)) return
  const store = openStore(conf)
  try {
    // Without the opt-in, the lock is only probed: nothing is read.
    const free = conf.statusFailsWhenFull ? await store.tryLock(STATUS_LOCK_DEADLINE_MS) : await store.probeLock(STATUS_LOCK_DEADLINE_MS)
    if (!free) {
      throw new CniError(ErrPluginNotAvailable, `host-local: the store's lock ${join(store.dir, 'lock')} was not free within ${STATUS_LOCK_DEADLINE_MS} ms`,
        'another process holds the lock (a hung plugin?)')
    }
    if (!conf.statusFailsWhenFull) return
    const stale = new Set(conf.reclaimAfterReboot ? store.preBootReservations(currentBootId(ctx.env)).names : [])
    const used = conf.rangeSets.map(() => 0n)
    for (const name of store.reservations().keys()) {
      const ip = parseIPText(name)
      if (ip === undefined || stale.has(name)) continue
      conf.rangeSets.forEach((set, i) => {
        const r = set.rangeFor(ip)
        if (r !== undefined && !(r.gateway.family === ip.family && r.gateway.value === ip.value)) used[i]! += 1n
      })
    }
    // An ADD needs one address of every set.
    const full = conf.rangeSets.findIndex((set, i) => used[i]! >= set.capacity())
    if (full >= 0) {
      throw new CniError(ErrPluginNotAvailable, `no IP addresses available in range set: ${conf.rangeSets[full]!.toString()}`,
        `range set ${full} (${conf.rangeSetPaths[full]!}) is exhausted`)
    }
  } finally {
    store.close()
  }
}

export const hostLocal: Plugin = {
  name: 'host-local',
  about: 'CNI host-local plugin (tscni)',
  add,
  del,
  check,
  gc,
  status
}

// Attachment records: what one bridge ADD made on the host, kept on disk so
// that a later DEL, GC, `tscni reconcile` or the agent can find it without
// the container, its namespace or the runtime's cache.
//
//   <stateDir>/attachments/<network>/<containerID>:<ifname>.json
//
// stateDir is `TSCNI_STATE_DIR` from the plugin's environment, default
// /run/tscni (a path as the caller names it, mapped with ctx.caller.path()).
// /run is a tmpfs: the records outlive a plugin, the agent and its restarts,
// but not a reboot, which is exactly the lifetime of what they describe (no
// namespace, veth or nf_tables rule survives a reboot; the IPAM reservations,
// which do, are host-local's to reclaim, see src/ipam/boot.ts). A record
// that survived a reboot would make the reconciler put rules back for
// containers that no longer exist.
//
// Life of a record:
//  - ADD writes it with state "adding" just before the veth pair is created
//    (it names the host veth to be), and again with state "ready" as the
//    last step, with the addresses and MACs. Each write is atomic (a temp
//    file `.<name>.tmp` in the same directory, then rename).
//  - A failed ADD's rollback removes it. A killed ADD leaves the "adding"
//    record: the next DEL or GC of that attachment uses it to delete the
//    host veth (also when the pod namespace is gone or CNI_NETNS is empty)
//    and removes it.
//  - DEL removes it last, holding an flock on it while it tears down, so the
//    reconciler (which takes the same lock) never re-creates what a DEL is
//    removing, and never acts on a record that is gone.
//  - The reconciler acts only on "ready" records.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { Caller } from '../../cni/caller.js'

export const STATE_DIR_ENV = 'TSCNI_STATE_DIR'
export const DEFAULT_STATE_DIR = '/run/tscni'
export const RECORD_VERSION = 1

export type AttachmentState = 'adding' | 'ready'

export interface AttachmentRecord {
  version: number
  /** The plugin type that wrote it ("bridge"). */
  plugin: string
  network: string
  containerID: string
  ifname: string
  /** CNI_NETNS as the caller named it. */
  netns: string
  state: AttachmentState
  /** The bridge's name. */
  bridge: string
  /** The host end of the veth pair (named before it is created). */
  hostVeth: string
  /** The container interface's MAC (ready records). */
  containerMac?: string | undefined
  /** The attachment's addresses, CIDR text (ready records of L3 networks). */
  ips: string[]
  /** Whether the attachment has masquerade rules, and spoof-check rules. */
  ipMasq: boolean
  macspoofchk: boolean
  /** ISO time of the first write, and of this one. */
  created: string
  updated: string
}

/** Where the records of this caller live: `<stateDir>/attachments`, mapped into this process's view. */
export function attachmentsDir (env: NodeJS.ProcessEnv, caller?: Pick<Caller, 'path'>): string {
  const stateDir = env[STATE_DIR_ENV] !== undefined && env[STATE_DIR_ENV] !== '' ? env[STATE_DIR_ENV] : DEFAULT_STATE_DIR
  const dir = join(stateDir, 'attachments')
  return caller === undefined ? dir : caller.path(dir)
}

export function recordFileName (containerID: string, ifname: string): string {
  return `${containerID}:${ifname}.json`
}

export function recordPath (dir: string, network: string, containerID: string, ifname: string): string {
  return join(dir, network, recordFileName(containerID, ifname))
}

function tempPathOf (path: string): string {
  const slash = path.lastIndexOf('/')
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.tmp`
}

function errCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code
}

/**
 * Writes (replaces) a record atomically: temp file, rename. No fsync: the
 * rename alone means no reader ever sees a partial record, also after the
 * writer is killed; only a power loss could lose one, and a power loss takes
 * everything a record describes with it (namespaces, veths, rules). An fsync
 * would cost every ADD ~10 ms where /run is not a tmpfs.
 */
export function writeRecord (dir: string, record: AttachmentRecord): string {
  const path = recordPath(dir, record.network, record.containerID, record.ifname)
  mkdirSync(join(dir, record.network), { recursive: true, mode: 0o700 })
  const tmp = tempPathOf(path)
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600)
  try {
    writeSync(fd, JSON.stringify(record) + '\n')
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  return path
}

function parseRecord (text: string): AttachmentRecord | undefined {
  try {
    const r = JSON.parse(text) as AttachmentRecord
    if (typeof r !== 'object' || r === null || r.version !== RECORD_VERSION || typeof r.network !== 'string' ||
      typeof r.containerID !== 'string' || typeof r.ifname !== 'string' || typeof r.hostVeth !== 'string' ||
      (r.state !== 'adding' && r.state !== 'ready') || !Array.isArray(r.ips)) return undefined
    return r
  } catch {
    return undefined
  }
}

/** The record of one attachment; undefined when there is none (or it cannot be read). */
export function readRecord (dir: string, network: string, containerID: string, ifname: string): AttachmentRecord | undefined {
  try {
    return parseRecord(readFileSync(recordPath(dir, network, containerID, ifname), 'utf8'))
  } catch {
    return undefined
  }
}

export interface ListedRecord {
  path: string
  record: AttachmentRecord
}

export interface RecordListing {
  records: ListedRecord[]
  /** Files that are not records (unreadable, not JSON, another version), by path. */
  unreadable: string[]
  /** Temp files left by writers killed between write and rename, by path. */
  temps: string[]
}

/** The records of one network, or of every network. A missing directory has none. */
export function listRecords (dir: string, network?: string): RecordListing {
  const out: RecordListing = { records: [], unreadable: [], temps: [] }
  let networks: string[]
  if (network !== undefined) networks = [network]
  else {
    try { networks = readdirSync(dir).filter(n => !n.startsWith('.')) } catch { return out }
  }
  for (const net of networks.sort()) {
    let names: string[]
    try { names = readdirSync(join(dir, net)) } catch { continue }
    for (const name of names.sort()) {
      const path = join(dir, net, name)
      if (name.startsWith('.') && name.endsWith('.tmp')) { out.temps.push(path); continue }
      if (!name.endsWith('.json')) continue
      let record: AttachmentRecord | undefined
      try { record = parseRecord(readFileSync(path, 'utf8')) } catch { record = undefined }
      if (record === undefined || record.network !== net) out.unreadable.push(path)
      else out.records.push({ path, record })
    }
  }
  return out
}

/** Removes a record and its temp file; true when a record was there. */
export function removeRecord (path: string): boolean {
  try { unlinkSync(tempPathOf(path)) } catch { /* none */ }
  try {
    unlinkSync(path)
    return true
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false
    throw err
  }
}

/** A record held under flock (DEL's teardown, the reconciler's repair). */
export interface RecordLock {
  path: string
  /** The record as read under the lock. */
  record: AttachmentRecord | undefined
  release: () => void
}

/**
 * Opens and flocks a record. `wait: false` gives up at once when someone
 * else holds it (the reconciler skips an attachment that an ADD or DEL is
 * working on). Returns undefined when the record does not exist, was removed
 * or replaced while we waited (then it is not ours to act on), or is busy.
 * Loads koffi (flock) only when a record exists.
 */
export async function lockRecord (path: string, options: { wait: boolean }): Promise<RecordLock | undefined> {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY)
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined
    throw err
  }
  const { LOCK_EX, LOCK_NB, LOCK_UN, flock, flockAsync } = await import('../../netlink/libc.js')
  let locked = false
  const release = (): void => {
    if (fd < 0) return
    try { if (locked) flock(fd, LOCK_UN, path) } catch { /* closing releases it anyway */ }
    closeSync(fd)
    fd = -1
  }
  try {
    if (options.wait) await flockAsync(fd, LOCK_EX, path)
    else {
      try {
        flock(fd, LOCK_EX | LOCK_NB, path)
      } catch (err) {
        if (errCode(err) === 'EWOULDBLOCK' || errCode(err) === 'EAGAIN') { release(); return undefined }
        throw err
      }
    }
    locked = true
    // Still the file at that path (not unlinked by a DEL, not replaced by an ADD's rename)?
    let same = false
    try {
      const a = fstatSync(fd)
      const b = statSync(path)
      same = a.ino === b.ino && a.dev === b.dev
    } catch { same = false }
    if (!same) { release(); return undefined }
    return { path, record: parseRecord(readFileSync(path, 'utf8')), release }
  } catch (err) {
    release()
    throw err
  }
}

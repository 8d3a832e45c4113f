// The host-local store on disk, byte for byte the official plugin's
// (backend/disk/backend.go), so that both plugins can share one dataDir:
//
//   <dataDir>/<net>/                      0755
//   <dataDir>/<net>/lock                  empty, 0750, flock(LOCK_EX) around every use
//   <dataDir>/<net>/<ip>                  "<trimmed id>\r\n<ifname>", no newline, 0600
//   <dataDir>/<net>/last_reserved_ip.<N>  the set's last reserved address, no newline
//
// Differences that do not change the format:
// - A reservation is created atomically: the content goes to a temp file
//   outside <net>/ (Go walks <net>/ and reads every file in it), is synced,
//   and is then link(2)ed to <net>/<ip>; EEXIST means taken, as O_EXCL does
//   for Go. No empty or half-written reservation after a crash.
// - Upstream reads every file of <net>/ on each ADD, DEL and CHECK. We keep an
//   index (file name -> content) in <dataDir>/.tscni/<net>.index, written
//   under the lock. It is trusted only while <net>/ is exactly as we left it:
//   same directory inode, mtime and ctime (nanoseconds), the same names, and
//   the same last_reserved_ip contents. Otherwise every file is read again,
//   as upstream does. On Linux >= 6.13 (multigrain timestamps on ext4, xfs,
//   btrfs, tmpfs) a change made after our stat always moves the directory's
//   ctime, so the check is exact; with coarse timestamps, the Go plugin
//   would have to delete and re-create the same address, with an unchanged
//   last_reserved_ip, within one clock tick of our last write for the index
//   to miss it. Files are re-read before they are deleted, so a stale index
//   entry can never release someone else's address.
import {
  closeSync, constants, fdatasyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync,
  statSync, unlinkSync, writeFileSync, writeSync, type BigIntStats
} from 'node:fs'
import { join } from 'node:path'
import { LOCK_EX, LOCK_NB, LOCK_UN, flock, flockAsync } from '../netlink/libc.js'
import { type IP, formatIPText, parseIPText } from '../netlink/addr.js'
import type { AllocatorStore } from './allocator.js'

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks'
export const LAST_IP_FILE_PREFIX = 'last_reserved_ip.'
export const LOCK_FILE = 'lock'
export const LINE_BREAK = '\r\n'
/** Our files beside the network directories; a network name cannot start with '.', so no network is called this. */
export const PRIVATE_DIR = '.tscni'
const INDEX_VERSION = 1

// Go's unicode.IsSpace set, which strings.TrimSpace uses (it differs from
// JavaScript's trim() on U+0085 and U+FEFF).
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g')

/** Go's strings.TrimSpace. */
export function goTrimSpace (s: string): string {
  return s.replace(GO_TRIM, '')
}

/** The content of a reservation file, and the key the store matches on. */
export function reservationKey (id: string, ifname: string): string {
  return goTrimSpace(id) + LINE_BREAK + ifname
}

/** A network name or container ID usable as a path component under dataDir. */
export function isSafePathComponent (s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\0')
}

/** File names in <net>/ that are neither the lock nor a last_reserved_ip file. */
function isReservationName (name: string): boolean {
  return name !== LOCK_FILE && !name.startsWith(LAST_IP_FILE_PREFIX)
}

/** Beside the index: `<dataDir>/.tscni/<net>.boot` holds the boot id of the last ADD or GC. */
export const BOOT_SUFFIX = '.boot'

/** What checkBoot found and did. */
export interface BootCheck {
  /** The boot id recorded before (undefined: none, the store's first ADD or GC by us). */
  previous: string | undefined
  /** The machine rebooted since the recorded boot. */
  newBoot: boolean
  /** Reservations released as made under the earlier boot. */
  released: string[]
  /** Files that could not be removed (the operation goes on). */
  errors: Error[]
  /** Whether an index told what the earlier boot held (without one, nothing is released). */
  indexed: boolean
}

interface DirStamp { dev: string, ino: string, mtimeNs: string, ctimeNs: string }

interface IndexFile {
  version: number
  dir: DirStamp
  /** last_reserved_ip.<N> file name -> content. */
  last: Record<string, string>
  /** How many entries. */
  count: number
  /** Reservation file name -> trimmed content. */
  entries: Record<string, string>
}

/**
 * Reservation file name -> trimmed content, kept in a null-prototype object:
 * that is what JSON.parse gives and JSON.stringify takes, so loading and
 * saving the index copy nothing (at thousands of entries, copies into a Map
 * cost more than everything else an ADD does).
 */
class EntryTable {
  readonly obj: Record<string, string>
  size: number
  /** key -> names, for the keys looked up since the last sync; kept up to date by set and delete. */
  private readonly byKey = new Map<string, string[]>()

  constructor (obj?: Record<string, string>, size = 0) {
    this.obj = obj ?? Object.create(null) as Record<string, string>
    this.size = size
  }

  has (name: string): boolean { return typeof this.obj[name] === 'string' }
  get (name: string): string | undefined { return this.obj[name] }

  set (name: string, key: string): void {
    const old = this.obj[name]
    if (old === key) return
    if (old === undefined) this.size++
    else this.unlist(old, name)
    this.obj[name] = key
    this.byKey.get(key)?.push(name)
  }

  delete (name: string): void {
    const old = this.obj[name]
    if (old === undefined) return
    delete this.obj[name]
    this.size--
    this.unlist(old, name)
  }

  /** The names holding each key, found in one pass over the table for the keys not looked up yet. */
  namesOf (keys: readonly string[]): string[][] {
    const missing = keys.filter(k => !this.byKey.has(k))
    if (missing.length > 0) {
      const found = missing.map(() => [] as string[])
      const obj = this.obj
      for (const name in obj) {
        const i = missing.indexOf(obj[name]!)
        if (i >= 0) found[i]!.push(name)
      }
      missing.forEach((k, i) => this.byKey.set(k, found[i]!))
    }
    return keys.map(k => [...this.byKey.get(k)!])
  }

  private unlist (key: string, name: string): void {
    const list = this.byKey.get(key)
    const i = list === undefined ? -1 : list.indexOf(name)
    if (i >= 0) list!.splice(i, 1)
  }

  * [Symbol.iterator] (): IterableIterator<[string, string]> {
    for (const name in this.obj) yield [name, this.obj[name]!]
  }
}

function stampOf (st: BigIntStats): DirStamp {
  return { dev: String(st.dev), ino: String(st.ino), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) }
}

function sameStamp (a: DirStamp, b: DirStamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs
}

function errCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code
}

/** Statistics of the last sync, for tests and measurements. */
export interface SyncStats {
  /** The index was trusted (no file content read except new names). */
  trusted: boolean
  /** Reservation files whose content was read. */
  filesRead: number
  /** Names in <net>/. */
  names: number
}

export class HostLocalStore implements AllocatorStore {
  /** <dataDir>/<net> */
  readonly dir: string
  readonly dataDir: string
  readonly network: string
  private readonly privateDir: string
  private readonly indexPath: string
  private lockFd: number
  private locked = false
  /** name -> key, valid while locked. */
  private entries = new EntryTable()
  private last = new Map<string, string>()
  private dirty = false
  private tempCounter = 0
  /** The index's entries (name, key) as loaded by the last sync; undefined without a readable index. */
  private indexed: Array<[string, string]> | undefined
  lastSync: SyncStats = { trusted: false, filesRead: 0, names: 0 }

  private constructor (dataDir: string, network: string, lockFd: number) {
    this.dataDir = dataDir
    this.network = network
    this.dir = join(dataDir, network)
    this.privateDir = join(dataDir, PRIVATE_DIR)
    this.indexPath = join(this.privateDir, `${network}.index`)
    this.lockFd = lockFd
  }

  /** Whether <dataDir>/<net> exists (DEL, CHECK, GC and STATUS create nothing when it does not). */
  static exists (dataDir: string, network: string): boolean {
    try {
      return statSync(join(dataDir, network)).isDirectory()
    } catch {
      return false
    }
  }

  /** Opens (creating if needed, as upstream's disk.New) <dataDir>/<net> and its lock file. */
  static open (dataDir: string, network: string): HostLocalStore {
    if (!isSafePathComponent(network)) throw new Error(`invalid network name for a store path: ${JSON.stringify(network)}`)
    const dir = join(dataDir, network)
    mkdirSync(dir, { recursive: true, mode: 0o755 })
    // go-filemutex: open(O_CREAT|O_RDONLY, 0750), then flock on that fd.
    const fd = openSync(join(dir, LOCK_FILE), constants.O_CREAT | constants.O_RDONLY, 0o750)
    return new HostLocalStore(dataDir, network, fd)
  }

  /** Takes the exclusive lock (waiting without blocking the event loop) and loads the current state. */
  async lock (): Promise<void> {
    if (this.locked) throw new Error(`store ${this.dir} is already locked`)
    const what = `${this.dir}/${LOCK_FILE}`
    try {
      flock(this.lockFd, LOCK_EX | LOCK_NB, what)
    } catch (err) {
      if (errCode(err) !== 'EWOULDBLOCK' && errCode(err) !== 'EAGAIN') throw err
      await flockAsync(this.lockFd, LOCK_EX, what)
    }
    this.locked = true
    try {
      this.sync()
    } catch (err) {
      this.unlock()
      throw err
    }
  }

  /**
   * Takes the lock if it comes free within `deadlineMs` (polling, so the
   * caller is never stuck behind a hung holder); false when it did not.
   */
  async tryLock (deadlineMs: number, options: { sync?: boolean } = {}): Promise<boolean> {
    if (this.locked) throw new Error(`store ${this.dir} is already locked`)
    const what = `${this.dir}/${LOCK_FILE}`
    const deadline = Date.now() + deadlineMs
    for (;;) {
      try {
        flock(this.lockFd, LOCK_EX | LOCK_NB, what)
        break
      } catch (err) {
        if (errCode(err) !== 'EWOULDBLOCK' && errCode(err) !== 'EAGAIN') throw err
        if (Date.now() >= deadline) return false
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    }
    this.locked = true
    if (options.sync === false) return true
    try {
      this.sync()
    } catch (err) {
      this.unlock()
      throw err
    }
    return true
  }

  /**
   * Whether the lock comes free within `deadlineMs`: takes it and gives it
   * back at once, reading nothing (STATUS, which runs every few seconds).
   */
  async probeLock (deadlineMs: number): Promise<boolean> {
    if (!await this.tryLock(deadlineMs, { sync: false })) return false
    this.locked = false
    flock(this.lockFd, LOCK_UN, `${this.dir}/${LOCK_FILE}`)
    return true
  }

  /** Writes the index if it changed, then releases the lock. */
  unlock (): void {
    if (!this.locked) return
    try {
      if (this.dirty) this.saveIndex()
    } catch {
      // The index is only a cache: a stale one is detected and rebuilt.
    } finally {
      this.dirty = false
      this.locked = false
      flock(this.lockFd, LOCK_UN, `${this.dir}/${LOCK_FILE}`)
    }
  }

  async withLock<T> (fn: () => T | Promise<T>): Promise<T> {
    await this.lock()
    try {
      return await fn()
    } finally {
      this.unlock()
    }
  }

  close (): void {
    this.unlock()
    if (this.lockFd >= 0) closeSync(this.lockFd)
    this.lockFd = -1
  }

  private assertLocked (): void {
    if (!this.locked) throw new Error(`store ${this.dir} used without its lock`)
  }

  // --- index -------------------------------------------------------------

  private loadIndex (): IndexFile | undefined {
    try {
      const idx = JSON.parse(readFileSync(this.indexPath, 'utf8')) as IndexFile
      if (idx.version !== INDEX_VERSION || typeof idx.count !== 'number' || typeof idx.entries !== 'object' || idx.entries === null ||
        typeof idx.last !== 'object' || idx.last === null || typeof idx.dir !== 'object' || idx.dir === null) return undefined
      // Names such as "__proto__" or "constructor" are then plain keys.
      Object.setPrototypeOf(idx.entries, null)
      return idx
    } catch {
      return undefined
    }
  }

  private saveIndex (): void {
    const idx: IndexFile = {
      version: INDEX_VERSION,
      dir: stampOf(statSync(this.dir, { bigint: true })),
      last: Object.fromEntries(this.last),
      count: this.entries.size,
      entries: this.entries.obj
    }
    mkdirSync(this.privateDir, { recursive: true, mode: 0o700 })
    const tmp = this.tempPath()
    writeFileSync(tmp, JSON.stringify(idx), { mode: 0o600 })
    renameSync(tmp, this.indexPath)
  }

  /** Brings the in-memory view up to date with <net>/ (see the header). */
  private sync (): void {
    const before = stampOf(statSync(this.dir, { bigint: true }))
    const idx = this.loadIndex()
    const names = readdirSync(this.dir)
    const last = new Map<string, string>()
    for (const name of names) {
      if (!name.startsWith(LAST_IP_FILE_PREFIX)) continue
      try { last.set(name, readFileSync(join(this.dir, name), 'utf8')) } catch { /* unreadable: not remembered */ }
    }
    let trusted = idx !== undefined && sameStamp(idx.dir, before) && Object.keys(idx.last).length === last.size
    if (trusted) for (const [k, v] of last) if (idx!.last[k] !== v) { trusted = false; break }
    let entries: EntryTable | undefined
    if (trusted) {
      // The names must be exactly the indexed ones: all present, same count.
      const table = new EntryTable(idx!.entries, idx!.count)
      let n = 0
      let all = true
      for (const name of names) {
        if (!isReservationName(name)) continue
        n++
        if (!table.has(name)) { all = false; break }
      }
      if (all && n === table.size) entries = table
    }
    let filesRead = 0
    // Under the lock, every temp file of this network was left by a writer
    // that died (kill -9) between creating and renaming or linking it: swept
    // on every lock, also when the index is trusted (the killed writer never
    // changed <net>/, so the index still matches it).
    this.removeStaleTemps()
    if (entries === undefined) {
      // Rebuild from the files, as upstream reads them (regular files only:
      // reading a FIFO would block).
      trusted = false
      entries = new EntryTable()
      for (const d of readdirSync(this.dir, { withFileTypes: true })) {
        if (!d.isFile() || !isReservationName(d.name)) continue
        filesRead++
        const key = this.readKey(d.name)
        if (key !== undefined) entries.set(d.name, key)
      }
    }
    this.entries = entries
    this.last = last
    this.dirty = !trusted
    // What the index said, trusted or not: the reservations as of our last locked operation.
    this.indexed = idx === undefined ? undefined : Object.entries(idx.entries)
    this.lastSync = { trusted, filesRead, names: names.length }
  }

  /** The trimmed content of <net>/<name>, undefined if it cannot be read. */
  private readKey (name: string): string | undefined {
    try {
      return goTrimSpace(readFileSync(join(this.dir, name), 'utf8'))
    } catch {
      return undefined
    }
  }

  /**
   * `<net>.<pid>.<n>.tmp` in the private directory: created and removed
   * within one locked section, so any such file of this network found under
   * the lock was left by a crash.
   */
  private tempPath (): string {
    return join(this.privateDir, `${this.network}.${process.pid}.${++this.tempCounter}.tmp`)
  }

  /** Removes temp files of this network left by a crashed run (called under the lock, when rebuilding). */
  private removeStaleTemps (): void {
    let names: string[]
    try { names = readdirSync(this.privateDir) } catch { return }
    const prefix = `${this.network}.`
    for (const name of names) {
      if (!name.startsWith(prefix) || !/^\d+\.\d+\.tmp$/.test(name.slice(prefix.length))) continue
      try { unlinkSync(join(this.privateDir, name)) } catch { /* gone already */ }
    }
  }

  // --- boot (reclaim after reboot) ---------------------------------------

  /** <dataDir>/.tscni/<net>.boot: the boot id of the last ADD or GC (outside <net>/, which Go reads whole). */
  get bootPath (): string { return join(this.privateDir, `${this.network}${BOOT_SUFFIX}`) }

  /** The boot id recorded by the last ADD or GC; undefined when none was. */
  recordedBoot (): string | undefined {
    try {
      const text = readFileSync(this.bootPath, 'utf8').trim()
      return text === '' ? undefined : text
    } catch {
      return undefined
    }
  }

  /**
   * The reservations made under an earlier boot than `bootId`, as far as we
   * can tell: those the index held at our last locked operation (it was
   * written in that earlier boot) whose file still holds the same content.
   * A reservation made after that operation (by the Go plugin, which keeps no
   * index) is not among them: it may belong to this boot. Nothing when the
   * recorded boot is this one, or none is recorded, or there is no index.
   */
  preBootReservations (bootId: string): { names: string[], newBoot: boolean, previous: string | undefined, indexed: boolean } {
    this.assertLocked()
    const previous = this.recordedBoot()
    const newBoot = previous !== undefined && previous !== bootId
    if (!newBoot || this.indexed === undefined) return { names: [], newBoot, previous, indexed: this.indexed !== undefined }
    const names = this.indexed.filter(([name, key]) => this.entries.get(name) === key && parseIPText(name) !== undefined).map(([name]) => name)
    return { names, newBoot, previous, indexed: true }
  }

  /**
   * Records `bootId` as the boot of this operation and, on a new boot with
   * `reclaim`, releases the reservations made under the earlier one
   * (preBootReservations; each file is read again before it is removed).
   * The boot is recorded also without `reclaim`, so that turning it on later
   * does not release this boot's reservations.
   */
  checkBoot (bootId: string, reclaim: boolean): BootCheck {
    this.assertLocked()
    const pre = this.preBootReservations(bootId)
    const released: string[] = []
    const errors: Error[] = []
    if (reclaim) {
      for (const name of pre.names) {
        const key = this.entries.get(name)!
        try {
          if (this.removeIf(name, k => k === key)) released.push(name)
        } catch (err) {
          errors.push(err as Error)
        }
      }
    }
    if (pre.previous !== bootId) {
      mkdirSync(this.privateDir, { recursive: true, mode: 0o700 })
      const tmp = this.tempPath()
      writeFileSync(tmp, bootId + '\n', { mode: 0o600 })
      renameSync(tmp, this.bootPath)
    }
    return { previous: pre.previous, newBoot: pre.newBoot, released, errors, indexed: pre.indexed }
  }

  // --- operations (under the lock) ---------------------------------------

  /** Every reservation file (name -> trimmed content) except the lock and last_reserved_ip files (a copy). */
  reservations (): ReadonlyMap<string, string> {
    this.assertLocked()
    return new Map(this.entries)
  }

  /** Whether a file for ip exists (as of the lock's sync and our own changes). */
  isReserved (ip: IP): boolean {
    this.assertLocked()
    return this.entries.has(formatIPText(ip))
  }

  reserve (id: string, ifname: string, ip: IP, rangeId: number): boolean {
    this.assertLocked()
    const name = formatIPText(ip)
    const path = join(this.dir, name)
    const key = reservationKey(id, ifname)
    if (this.entries.has(name)) return false
    mkdirSync(this.privateDir, { recursive: true, mode: 0o700 })
    const tmp = this.tempPath()
    const fd = openSync(tmp, 'wx', 0o600)
    try {
      writeSync(fd, key)
      fdatasyncSync(fd)
    } finally {
      closeSync(fd)
    }
    try {
      linkSync(tmp, path)
    } catch (err) {
      if (errCode(err) === 'EEXIST') {
        // Someone created it behind the index's back: remember it.
        const k = this.readKey(name)
        if (k !== undefined) { this.entries.set(name, k); this.dirty = true }
        return false
      }
      if (errCode(err) !== 'EXDEV') throw err
      // <net> on another filesystem than dataDir: plain O_EXCL, as upstream.
      try {
        writeFileSync(path, key, { flag: 'wx', mode: 0o600 })
      } catch (e) {
        if (errCode(e) === 'EEXIST') return false
        throw e
      }
    } finally {
      try { unlinkSync(tmp) } catch { /* already gone */ }
    }
    this.entries.set(name, goTrimSpace(key))
    this.dirty = true
    this.writeLastReserved(LAST_IP_FILE_PREFIX + String(rangeId), name)
    return true
  }

  /** Replaces <net>/<name> atomically (upstream truncates and writes in place). */
  private writeLastReserved (name: string, text: string): void {
    const tmp = this.tempPath()
    writeFileSync(tmp, text, { mode: 0o600 })
    renameSync(tmp, join(this.dir, name))
    this.last.set(name, text)
    this.dirty = true
  }

  /** The last_reserved_ip files as they are now, for restoreLastReserved. */
  lastReservedSnapshot (): ReadonlyMap<string, string> {
    this.assertLocked()
    return new Map(this.last)
  }

  /**
   * Puts the last_reserved_ip files back as in `snapshot`: a failed ADD then
   * leaves the store as it found it (upstream leaves them advanced).
   */
  restoreLastReserved (snapshot: ReadonlyMap<string, string>): void {
    this.assertLocked()
    for (const name of [...this.last.keys()]) {
      if (snapshot.has(name)) continue
      unlinkSync(join(this.dir, name))
      this.last.delete(name)
      this.dirty = true
    }
    for (const [name, text] of snapshot) {
      if (this.last.get(name) === text) continue
      this.writeLastReserved(name, text)
    }
  }

  lastReservedIP (rangeId: number): IP | undefined {
    this.assertLocked()
    let text: string
    try {
      text = readFileSync(join(this.dir, LAST_IP_FILE_PREFIX + String(rangeId)), 'utf8')
    } catch (err) {
      if (errCode(err) === 'ENOENT') return undefined
      throw err
    }
    // Like Go's net.ParseIP(content): no trimming, so "10.0.0.5\n" is no address.
    return parseIPText(text)
  }

  /**
   * Removes <net>/<name> if `wanted` accepts its current content (read again
   * now: the index may be stale); true when removed.
   */
  private removeIf (name: string, wanted: (key: string) => boolean): boolean {
    const current = this.readKey(name)
    if (current === undefined || !wanted(current)) {
      if (current === undefined) this.entries.delete(name)
      else this.entries.set(name, current)
      this.dirty = true
      return false
    }
    unlinkSync(join(this.dir, name))
    this.entries.delete(name)
    this.dirty = true
    return true
  }

  /** Those of `names` whose content is `key`, each confirmed by reading the file. */
  private confirmed (key: string, names: readonly string[]): string[] {
    const out: string[] = []
    for (const name of names) {
      const current = this.readKey(name)
      if (current === key) { out.push(name); continue }
      if (current === undefined) this.entries.delete(name)
      else this.entries.set(name, current)
      this.dirty = true
    }
    return out
  }

  /** Addresses held by id+ifname, or by the id alone (legacy files). */
  getByID (id: string, ifname: string): IP[] {
    this.assertLocked()
    const keys = [reservationKey(id, ifname), goTrimSpace(id)]
    const found = this.entries.namesOf(keys)
    const out: IP[] = []
    keys.forEach((key, i) => {
      for (const name of this.confirmed(key, found[i]!)) {
        const ip = parseIPText(name)
        if (ip !== undefined) out.push(ip)
      }
    })
    return out
  }

  /** Whether id+ifname (or, failing that, the id alone) holds any reservation. */
  findByID (id: string, ifname: string): boolean {
    this.assertLocked()
    const keys = [reservationKey(id, ifname), goTrimSpace(id)]
    const found = this.entries.namesOf(keys)
    return this.confirmed(keys[0]!, found[0]!).length > 0 || this.confirmed(keys[1]!, found[1]!).length > 0
  }

  /** Gives ip back if id+ifname holds it. */
  release (ip: IP, id: string, ifname: string): void {
    this.assertLocked()
    const name = formatIPText(ip)
    const key = reservationKey(id, ifname)
    if (this.entries.has(name)) this.removeIf(name, k => k === key)
  }

  /**
   * Upstream ReleaseByID: removes every file of id+ifname; when there is
   * none, every file holding just the id (the legacy format). Returns the
   * removed file names; a file that cannot be removed is an error.
   */
  releaseByID (id: string, ifname: string): string[] {
    this.assertLocked()
    let removed = this.removeAll(reservationKey(id, ifname))
    if (removed.length === 0) removed = this.removeAll(goTrimSpace(id))
    return removed
  }

  private removeAll (key: string): string[] {
    const removed: string[] = []
    const errors: string[] = []
    for (const name of this.entries.namesOf([key])[0]!) {
      try {
        if (this.removeIf(name, k => k === key)) removed.push(name)
      } catch (err) {
        errors.push((err as Error).message)
      }
    }
    if (errors.length > 0) throw new Error(errors.join('; '))
    return removed
  }

  /**
   * GC (the design of upstream PR #1021): removes every reservation file,
   * named by an address, whose content is none of `keepKeys` (id\r\nifname).
   * A legacy id-only file is kept when its id is in `keepIds`. Never touches
   * the lock or last_reserved_ip files. Returns the removed names and the
   * errors met (GC goes on after an error).
   */
  releaseExcept (keepKeys: ReadonlySet<string>, keepIds: ReadonlySet<string> = new Set()): { removed: string[], errors: Error[] } {
    this.assertLocked()
    const removed: string[] = []
    const errors: Error[] = []
    for (const [name, key] of [...this.entries]) {
      if (keepKeys.has(key) || keepIds.has(key) || parseIPText(name) === undefined) continue
      try {
        if (this.removeIf(name, k => !keepKeys.has(k) && !keepIds.has(k))) removed.push(name)
      } catch (err) {
        errors.push(err as Error)
      }
    }
    return { removed, errors }
  }
}

// Network namespaces: open one by path, run synchronous code inside it, make
// and remove named ones the way `ip netns add/del` does.
//
// setns(2) moves only the calling thread. Node runs JavaScript on one thread,
// so we switch, do synchronous work (create a socket, open a /proc/sys file),
// and switch back before returning: no await may happen in between, and async
// fs calls run on libuv's pool threads, in the wrong namespace.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, statfsSync, unlinkSync, writeFileSync, constants as fsc } from 'node:fs'
import { CLONE_NEWNET, MNT_DETACH, MS_BIND, MS_REC, MS_SHARED, SystemCallError, mount, setns, umount2, unshare } from './libc.js'

export const NETNS_RUN_DIR = '/var/run/netns'
const NSFS_MAGIC = 0x6e736673
const PROC_SUPER_MAGIC = 0x9fa0

/** The namespace path does not exist. */
export class NamespaceMissingError extends Error {
  override name = 'NamespaceMissingError'
  readonly code = 'ENOENT'
  readonly path: string
  constructor (path: string) {
    super(`failed to Statfs ${JSON.stringify(path)}: no such file or directory`)
    this.path = path
  }
}

/** The path exists but is not a network namespace (not on nsfs or procfs). */
export class NotANamespaceError extends Error {
  override name = 'NotANamespaceError'
  readonly path: string
  readonly magic: number
  constructor (path: string, magic: number) {
    super(`unknown FS magic on ${JSON.stringify(path)}: ${magic.toString(16)}`)
    this.path = path
    this.magic = magic
  }
}

let ownNamespaceFd: number | undefined
/** An fd on the namespace this thread started in, to come back to. */
function homeFd (): number {
  ownNamespaceFd ??= openSync('/proc/thread-self/ns/net', fsc.O_RDONLY)
  return ownNamespaceFd
}

export class NetNamespace {
  /** The path it was opened by, used in error messages. */
  readonly path: string
  /** An open fd on the namespace (for IFLA_NET_NS_FD); valid until close(). */
  readonly fd: number
  private closed = false

  private constructor (path: string, fd: number) {
    this.path = path
    this.fd = fd
  }

  /**
   * Opens /var/run/netns/NAME, /proc/PID/ns/net, or any nsfs path. `shownAs`
   * is the name errors and `path` give it (default: the path itself), for a
   * path reached another way than its owner names it (/proc/PID/root/…).
   */
  static open (path: string, shownAs = path): NetNamespace {
    let fd: number
    try {
      fd = openSync(path, fsc.O_RDONLY)
    } catch (err) {
      if (shownAs !== path && err instanceof Error) err.message = err.message.replaceAll(path, shownAs)
      throw err
    }
    return new NetNamespace(shownAs, fd)
  }

  /**
   * Opens a path only if it is a namespace file (nsfs, or procfs for
   * /proc/PID/ns/net), telling a missing path (NamespaceMissingError) from a
   * wrong one (NotANamespaceError) before any setns(2) is tried.
   */
  static openVerified (path: string, shownAs = path): NetNamespace {
    let magic: number
    try {
      magic = Number(statfsSync(path).type)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NamespaceMissingError(shownAs)
      throw new Error(`failed to Statfs ${JSON.stringify(shownAs)}: ${(err as Error).message.replaceAll(path, shownAs)}`, { cause: err })
    }
    if (magic !== NSFS_MAGIC && magic !== PROC_SUPER_MAGIC) throw new NotANamespaceError(shownAs, magic)
    return NetNamespace.open(path, shownAs)
  }

  /** Opens a named namespace as `ip netns` names them. */
  static openNamed (name: string): NetNamespace { return NetNamespace.open(namedPath(name)) }

  /** The namespace the calling thread is in now. */
  static current (): NetNamespace { return NetNamespace.open('/proc/thread-self/ns/net') }

  /**
   * Runs fn with the calling thread inside this namespace and always comes
   * back, also when fn throws. fn must be synchronous.
   */
  run<T>(fn: () => T): T {
    if (this.closed) throw new Error(`namespace ${this.path} is closed`)
    const home = homeFd()
    setns(this.fd, CLONE_NEWNET, `into ${this.path}`)
    let result: T
    try {
      result = fn()
    } finally {
      setns(home, CLONE_NEWNET, `back from ${this.path}`)
    }
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      throw new TypeError(`NetNamespace.run(${this.path}): the function returned a promise; only synchronous work runs inside a namespace`)
    }
    return result
  }

  /** True when both handles name the same namespace (same nsfs inode). */
  sameAs (other: NetNamespace): boolean {
    return this.id() === other.id()
  }

  /** The namespace's identity, "dev:inode" of its nsfs file (stable while it exists). */
  id (): string {
    const st = fstatSync(this.fd)
    return `${st.dev}:${st.ino}`
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  /** Creates /var/run/netns/NAME holding a new, empty namespace (ip netns add). */
  static create (name: string): NetNamespace {
    checkName(name)
    ensureRunDir()
    const path = namedPath(name)
    // O_EXCL: an existing name is an error, as with ip netns add.
    closeSync(openSync(path, fsc.O_RDONLY | fsc.O_CREAT | fsc.O_EXCL, 0))
    const home = homeFd()
    try {
      unshare(CLONE_NEWNET)
      try {
        mount('/proc/thread-self/ns/net', path, 'none', MS_BIND, `/proc/thread-self/ns/net on ${path}`)
      } finally {
        setns(home, CLONE_NEWNET, `back from the new namespace ${name}`)
      }
    } catch (err) {
      try { unlinkSync(path) } catch {}
      throw err
    }
    return NetNamespace.open(path)
  }

  /** Removes a named namespace (ip netns del); a missing one is not an error. */
  static delete (name: string): void {
    checkName(name)
    const path = namedPath(name)
    try {
      umount2(path, MNT_DETACH)
    } catch (err) {
      if (!(err instanceof SystemCallError) || (err.code !== 'EINVAL' && err.code !== 'ENOENT')) throw err
    }
    try { unlinkSync(path) } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }

  static exists (name: string): boolean { return existsSync(namedPath(name)) }
}

function namedPath (name: string): string { return `${NETNS_RUN_DIR}/${name}` }

function checkName (name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new TypeError(`invalid namespace name ${JSON.stringify(name)}`)
  }
}

/** Makes /var/run/netns a shared mount point, as iproute2 does, so bind mounts propagate. */
function ensureRunDir (): void {
  mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 })
  try {
    mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, NETNS_RUN_DIR)
  } catch (err) {
    if (!(err instanceof SystemCallError) || err.code !== 'EINVAL') throw err
    // Not a mount point yet: bind it onto itself, then make it shared.
    mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC, NETNS_RUN_DIR)
    mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, NETNS_RUN_DIR)
  }
}

/** "net/ipv4/ip_forward" or "net.ipv4.ip_forward" → /proc/sys path. Dots in interface names need the slash form. */
function sysctlPath (key: string): string {
  const rel = key.includes('/') ? key : key.replaceAll('.', '/')
  if (rel.split('/').some(p => p === '..' || p === '')) throw new TypeError(`invalid sysctl key ${JSON.stringify(key)}`)
  return `/proc/sys/${rel}`
}

/** Reads a sysctl, inside ns when given (the file is opened in that namespace). */
export function readSysctl (key: string, ns?: NetNamespace): string {
  const path = sysctlPath(key)
  const read = (): string => readFileSync(path, 'utf8').trim()
  return ns === undefined ? read() : ns.run(read)
}

/** Writes a sysctl, inside ns when given. */
export function writeSysctl (key: string, value: string, ns?: NetNamespace): void {
  const path = sysctlPath(key)
  const write = (): void => { writeFileSync(path, value) }
  if (ns === undefined) write(); else ns.run(write)
}

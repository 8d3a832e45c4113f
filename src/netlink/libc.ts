// The few libc calls Node does not offer (setns, unshare, mount, flock),
// through koffi. koffi is loaded on first use only: it costs milliseconds of
// start-up that a caller which never switches namespaces should not pay.
import { loadKoffi } from './native.js'
import { errnoInfo } from './errors.js'

export const CLONE_NEWNET = 0x40000000
export const MS_BIND = 0x1000
export const MS_REC = 0x4000
export const MS_SHARED = 1 << 20
export const MS_SLAVE = 1 << 19
export const MNT_DETACH = 2
export const LOCK_SH = 1
export const LOCK_EX = 2
export const LOCK_NB = 4
export const LOCK_UN = 8

interface Libc {
  setns: (fd: number, nstype: number) => number
  unshare: (flags: number) => number
  mount: (src: string | null, target: string, fstype: string | null, flags: number, data: null) => number
  umount2: (target: string, flags: number) => number
  flock: (fd: number, op: number) => number
  flockAsync: (fd: number, op: number, cb: (err: unknown, res: number) => void) => void
  gettid: () => number
  errno: () => number
}

let libc: Libc | undefined

function load (): Libc {
  if (libc !== undefined) return libc
  const koffi = loadKoffi()
  const lib = koffi.load('libc.so.6')
  const flock = lib.func('int flock(int fd, int op)')
  libc = {
    setns: lib.func('int setns(int fd, int nstype)'),
    unshare: lib.func('int unshare(int flags)'),
    mount: lib.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    flock,
    flockAsync: (fd, op, cb) => { flock.async(fd, op, cb) },
    gettid: lib.func('int gettid(void)'),
    errno: () => koffi.errno()
  }
  return libc
}

/** A failed system call, with errno name and text. */
export class SystemCallError extends Error {
  override name = 'SystemCallError'
  readonly errno: number
  readonly code: string
  readonly syscall: string
  constructor (syscall: string, errno: number, what: string) {
    const { name, text } = errnoInfo(errno)
    super(`${syscall} ${what}: ${name}: ${text}`)
    this.errno = errno
    this.code = name
    this.syscall = syscall
  }
}

function check (ret: number, syscall: string, what: string): void {
  if (ret === -1) throw new SystemCallError(syscall, load().errno(), what)
}

export function setns (fd: number, nstype: number, what: string): void { check(load().setns(fd, nstype), 'setns', what) }
export function unshare (flags: number): void { check(load().unshare(flags), 'unshare', '') }
export function mount (src: string | null, target: string, fstype: string | null, flags: number, what: string): void {
  check(load().mount(src, target, fstype, flags, null), 'mount', what)
}
export function umount2 (target: string, flags: number): void { check(load().umount2(target, flags), 'umount2', target) }
/** Blocking flock on the calling thread. */
export function flock (fd: number, op: number, what: string): void { check(load().flock(fd, op), 'flock', what) }
/** flock on a koffi worker thread, so the event loop goes on while we wait for the lock. */
export function flockAsync (fd: number, op: number, what: string): Promise<void> {
  const l = load()
  return new Promise((resolve, reject) => {
    l.flockAsync(fd, op, (err, res) => {
      if (err !== null && err !== undefined) reject(err as Error)
      else if (res === -1) reject(new SystemCallError('flock', l.errno(), what))
      else resolve()
    })
  })
}

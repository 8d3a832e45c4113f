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
  getsockoptUcred: (fd: number, level: number, opt: number, out: Record<string, number>, len: number[]) => number
  getsockoptInt: (fd: number, level: number, opt: number, out: number[], len: number[]) => number
  setsockoptInt: (fd: number, level: number, opt: number, value: number[], len: number) => number
  pidfdSendSignal: (pidfd: number, sig: number) => number
  errno: () => number
}

let libc: Libc | undefined

function load (): Libc {
  if (libc !== undefined) return libc
  const koffi = loadKoffi()
  const lib = koffi.load('libc.so.6')
  const flock = lib.func('int flock(int fd, int op)')
  koffi.struct('tscni_ucred', { pid: 'int32_t', uid: 'uint32_t', gid: 'uint32_t' })
  const syscall = lib.func('long syscall(long nr, ...)')
  libc = {
    setns: lib.func('int setns(int fd, int nstype)'),
    unshare: lib.func('int unshare(int flags)'),
    mount: lib.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    flock,
    flockAsync: (fd, op, cb) => { flock.async(fd, op, cb) },
    gettid: lib.func('int gettid(void)'),
    getsockoptUcred: lib.func('int getsockopt(int fd, int level, int opt, _Out_ tscni_ucred *val, _Inout_ uint32_t *len)'),
    getsockoptInt: lib.func('int getsockopt(int fd, int level, int opt, _Out_ int *val, _Inout_ uint32_t *len)'),
    setsockoptInt: lib.func('int setsockopt(int fd, int level, int opt, _In_ int *val, uint32_t len)'),
    pidfdSendSignal: (pidfd, sig) => Number(syscall(SYS_pidfd_send_signal, 'int', pidfd, 'int', sig, 'void *', null, 'unsigned int', 0)),
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
export const SOL_SOCKET = 1
export const SO_PEERCRED = 17
/** Linux 6.5+: a pidfd of the peer process as it was at connect(). */
export const SO_PEERPIDFD = 77
const SYS_pidfd_send_signal = 424

/** The peer of a unix socket, as the kernel recorded it at connect(). */
export interface PeerCredentials { pid: number, uid: number, gid: number }

export function peerCredentials (fd: number): PeerCredentials {
  const out = { pid: 0, uid: 0, gid: 0 }
  check(load().getsockoptUcred(fd, SOL_SOCKET, SO_PEERCRED, out, [12]), 'getsockopt', 'SO_PEERCRED')
  return { pid: out.pid, uid: out.uid, gid: out.gid }
}

/** A pidfd of the socket's peer (SO_PEERPIDFD), or undefined where the kernel lacks it. The caller closes it. */
export function peerPidfd (fd: number): number | undefined {
  const out = [-1]
  if (load().getsockoptInt(fd, SOL_SOCKET, SO_PEERPIDFD, out, [4]) === -1) {
    const errno = load().errno()
    if (errno === 92 /* ENOPROTOOPT */ || errno === 22 /* EINVAL */) return undefined
    throw new SystemCallError('getsockopt', errno, 'SO_PEERPIDFD')
  }
  return out[0]
}

/** Whether the process behind a pidfd is still running (signal 0 through pidfd_send_signal). */
export function pidfdAlive (pidfd: number): boolean {
  return load().pidfdSendSignal(pidfd, 0) === 0
}

/** setsockopt(fd, level, opt, &int) */
export function setsockoptInt (fd: number, level: number, opt: number, value: number, what: string): void {
  check(load().setsockoptInt(fd, level, opt, [value], 4), 'setsockopt', what)
}

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

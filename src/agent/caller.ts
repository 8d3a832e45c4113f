// The caller of an agent request, seen from the agent: the peer process of
// the unix socket (SO_PEERCRED), whose network namespace and file system the
// plugin works in.
//
// Why /proc/<pid> and not descriptors passed with SCM_RIGHTS: Node's unix
// sockets cannot receive descriptors, and the client would have to open and
// send its namespace, its root and CNI_NETNS on every call. The peer is
// blocked in read() until we answer, so /proc/<pid>/ns/net, /proc/<pid>/root
// and /proc/<pid>/cwd name its namespaces and directories when the request
// is taken; SO_PEERPIDFD (Linux 6.5+) proves after the opens that the pid
// was not reused meanwhile. Each is opened once, as a descriptor held for
// the whole request, so that a caller killed mid-request (a runtime's
// deadline) leaves the request's work intact: its undo and the next DEL
// then find the same files. A mount namespace cannot be entered by a
// multi-threaded process (setns CLONE_NEWNS needs an unshared fs_struct),
// so paths go through /proc/self/fd/<root fd>, which resolves in the
// caller's mount namespace: a runtime under `unshare --mount` or `ip netns
// exec` (which remounts /sys) sees its own bind-mounted /var/run/netns
// files, and so do we.
import { closeSync, openSync, statSync, constants as fsc } from 'node:fs'
import { NetNamespace } from '../netlink/netns.js'
import { pidfdAlive } from '../netlink/libc.js'
import type { Caller } from '../cni/caller.js'

export interface AgentCaller extends Caller {
  readonly pid: number
  /** Closes the namespace handle. */
  close: () => void
}

let ownNetnsId: string | undefined
let ownMount: string | undefined

function id (path: string): string {
  const st = statSync(path)
  return `${st.dev}:${st.ino}`
}

/**
 * The caller behind `pid`. Its network namespace is opened only when it is
 * not the agent's own (the usual case, an agent on the host's namespaces,
 * needs no setns at all); its paths are mapped through /proc/<pid>/root
 * only when its mount namespace or root differ from ours.
 */
export function openCaller (pid: number, pidfd?: number): AgentCaller {
  ownNetnsId ??= id('/proc/self/ns/net')
  ownMount ??= `${id('/proc/self/ns/mnt')}/${id('/')}`
  const proc = `/proc/${pid}`
  let netns: NetNamespace | undefined = NetNamespace.open(`${proc}/ns/net`)
  let rootFd: number | undefined
  let cwdFd: number | undefined
  try {
    if (netns.id() === ownNetnsId) {
      netns.close()
      netns = undefined
    }
    const sameFiles = `${id(`${proc}/ns/mnt`)}/${id(`${proc}/root`)}` === ownMount
    if (!sameFiles) rootFd = openSync(`${proc}/root`, fsc.O_RDONLY | fsc.O_DIRECTORY)
    cwdFd = openSync(`${proc}/cwd`, fsc.O_RDONLY | fsc.O_DIRECTORY)
    if (pidfd !== undefined && !pidfdAlive(pidfd)) throw new Error(`caller ${pid} exited before its request was taken`)
    const root = `/proc/self/fd/${rootFd ?? -1}`
    const cwd = `/proc/self/fd/${cwdFd}/`
    return {
      pid,
      netns,
      local: false,
      path: (p: string) => p.startsWith('/') ? (rootFd === undefined ? p : root + p) : cwd + p,
      close: () => { netns?.close(); closeFd(rootFd); closeFd(cwdFd) }
    }
  } catch (err) {
    netns?.close()
    closeFd(rootFd)
    closeFd(cwdFd)
    throw err
  }
}

export function closeFd (fd: number | undefined): void {
  if (fd !== undefined) try { closeSync(fd) } catch {}
}

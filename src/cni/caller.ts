// Who asked for a plugin command, as far as the command's host-side work is
// concerned: the network namespace the host-side work belongs in and the
// file system the request's paths are names in.
//
// An exec'd plugin runs in its caller's namespaces, so for it both are its
// own (`LOCAL_CALLER`). The agent (src/agent) serves runtimes that may live
// in another network namespace (`ip netns exec`, a test's "node" namespace)
// or another mount namespace (`unshare --mount`, a containerd with a private
// one): it hands the plugin a caller whose `netns` is the runtime's and whose
// `path()` maps a path the runtime named onto one this process can open.
//
// Loaded by every plugin start (the skel): no runtime import of the netlink
// modules here.
import { fstatSync, statSync } from 'node:fs'
import type { NetNamespace } from '../netlink/netns.js'

export interface Caller {
  /** The network namespace of the caller's host side; undefined: this thread's own. */
  readonly netns?: NetNamespace | undefined
  /** A path as the caller names it → a path this process opens the same file by. */
  path: (p: string) => string
  /** False for a caller served by another process (the agent): its delegated plugins are never exec'd here. */
  readonly local: boolean
}

/** The exec'd plugin's caller: its own namespaces and paths. */
export const LOCAL_CALLER: Caller = { path: p => p, local: true }

/**
 * True when `path` (as the caller names it) is the caller's own network
 * namespace: same device and inode. An empty or unreadable path is not: the
 * plugin reports it in its own words.
 */
export function isCallerNetns (caller: Caller, path: string): boolean {
  if (path === '') return false
  try {
    const a = statSync(caller.path(path))
    const b = caller.netns !== undefined ? fstatSync(caller.netns.fd) : statSync('/proc/thread-self/ns/net')
    return a.dev === b.dev && a.ino === b.ino
  } catch {
    return false
  }
}

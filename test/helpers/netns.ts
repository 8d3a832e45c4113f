// Throwaway network namespaces for live tests: unique names (pid + counter),
// removed in teardown even when the test fails, with iproute2 helpers to
// set them up and to read their state back as JSON (an independent oracle).
import { execFileSync } from 'node:child_process'
import { NetNamespace } from '../../src/netlink/netns.js'
import { setKernelDefaults } from './kernel-defaults.js'

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

export const isRoot = process.getuid?.() === 0
/** Pass as a tap test option: `t.test('x', { skip: rootSkip }, …)`. */
export const rootSkip: string | false = isRoot ? false : 'needs root: creates network namespaces'

export interface TestNamespace {
  /** The name under /var/run/netns. */
  name: string
  /** An open handle (closed in teardown). */
  ns: NetNamespace
  /** Runs `ip -n NAME ARGS…` and returns stdout; throws with stderr on failure. */
  ip: (...args: string[]) => string
  /** Runs `ip -n NAME -j ARGS…` and parses the JSON ([] for empty output). */
  ipJson: <T = Array<Record<string, unknown>>>(...args: string[]) => T
  /** Runs `bridge -n NAME -j ARGS…` and parses the JSON. */
  bridgeJson: <T = Array<Record<string, unknown>>>(...args: string[]) => T
  /** Runs a shell script inside the namespace (ip netns exec NAME sh -ec SCRIPT). */
  sh: (script: string) => string
}

let counter = 0

/**
 * The one way a test makes a network namespace: `ip netns add NAME` (as
 * NetNamespace.create) with the kernel's sysctl defaults written into it, so
 * nothing a test observes depends on the root namespace it would otherwise
 * inherit from. Returns an open handle; the caller deletes the namespace.
 */
export function createNamespace (name: string): NetNamespace {
  const ns = NetNamespace.create(name)
  try {
    setKernelDefaults(name)
  } catch (err) {
    ns.close()
    NetNamespace.delete(name)
    throw err
  }
  return ns
}

function run (cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`)
  }
}

function parseJson<T> (text: string): T {
  return (text.trim() === '' ? [] : JSON.parse(text)) as T
}

/** Creates n namespaces named tscni-<pid>-<counter>-<i> with the kernel's sysctl defaults, deleted in t's teardown. */
export function withNamespaces (t: Teardown, n: number): TestNamespace[] {
  const out: TestNamespace[] = []
  const id = ++counter
  for (let i = 0; i < n; i++) {
    const name = `tscni-${process.pid}-${id}-${i}`
    const ns = createNamespace(name)
    t.teardown(() => {
      ns.close()
      NetNamespace.delete(name)
    })
    out.push({
      name,
      ns,
      ip: (...args) => run('ip', ['-n', name, ...args]),
      ipJson: (...args) => parseJson(run('ip', ['-n', name, '-j', ...args])),
      bridgeJson: (...args) => parseJson(run('bridge', ['-n', name, '-j', ...args])),
      sh: (script) => run('ip', ['netns', 'exec', name, 'sh', '-ec', script])
    })
  }
  return out
}

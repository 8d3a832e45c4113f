// Shared bits of the end-to-end tests: where our built plugins are, throwaway
// namespaces and directories that are removed even when a test fails, and
// iproute2 as an independent oracle of kernel state.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNamespace } from './netns.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Our plugins as `npm run build` makes them; TSCNI_PLUGIN_DIR overrides (e.g. /usr/lib/cni to compare). */
export const PLUGIN_DIR = process.env.TSCNI_PLUGIN_DIR ?? join(ROOT, 'bin')
export const PLUGINS = ['loopback', 'bridge', 'host-local']

export const isRoot = process.getuid?.() === 0

/** Why root-and-plugin tests cannot run here, or undefined when they can. */
export function pluginSkipReason (): string | undefined {
  if (!isRoot) return 'needs root: creates network namespaces'
  const missing = PLUGINS.filter(p => !existsSync(join(PLUGIN_DIR, p)))
  if (missing.length > 0) return `plugins missing in ${PLUGIN_DIR} (${missing.join(', ')}): run npm run build first`
  return undefined
}

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

let counter = 0
/** A unique name for this process's namespaces and files (<= 15 chars after the prefix is not needed: netns names may be long). */
export function uniqueName (what: string): string {
  return `tscni-e2e-${process.pid}-${++counter}-${what}`
}

/** ip netns add, with the kernel's sysctl defaults (not the root namespace's); removed in teardown, also on failure. */
export function makeNamespace (t: Teardown, what: string): string {
  const name = uniqueName(what)
  createNamespace(name).close()
  t.teardown(() => { spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' }) })
  return name
}

export function nsPath (name: string): string { return `/var/run/netns/${name}` }

/** A temporary directory removed in teardown. */
export function makeTempDir (t: Teardown, what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tscni-e2e-${process.pid}-${what}-`))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

export interface IpLink { ifname: string, ifindex: number, link_type?: string, flags: string[], master?: string, address?: string, linkinfo?: { info_kind?: string } }
export interface IpAddrInfo { family: string, local: string, prefixlen: number }
export interface IpAddr extends IpLink { addr_info: IpAddrInfo[] }
export interface IpRoute { dst: string, gateway?: string, dev?: string, protocol?: string, scope?: string }

/** `ip -n NS -j …` parsed. */
export function ipJson<T> (ns: string, ...args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args]).toString() || '[]') as T
}

export function links (ns: string): IpLink[] { return ipJson<IpLink[]>(ns, '-d', 'link', 'show') }
export function addresses (ns: string, dev?: string): IpAddr[] {
  return ipJson<IpAddr[]>(ns, 'addr', 'show', ...(dev !== undefined ? ['dev', dev] : []))
}
export function routes4 (ns: string): IpRoute[] { return ipJson<IpRoute[]>(ns, '-4', 'route', 'show') }

/** The IP reservation files host-local keeps for a network (not lock, not last_reserved_ip.N). */
export function reservations (dataDir: string, network: string): string[] {
  const dir = join(dataDir, network)
  if (!existsSync(dir)) return []
  return readdirSync(dir).filter(f => f !== 'lock' && !f.startsWith('last_reserved_ip.')).sort()
}

/**
 * Writes an executable node script with an absolute shebang (so it runs
 * under any PATH); returns its path.
 */
export function writeNodeScript (path: string, source: string): string {
  writeFileSync(path, `#!${process.execPath}\n${source}`)
  chmodSync(path, 0o755)
  return path
}

// Shared bench helpers: timing of whole processes, medians, namespaces.
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const OFFICIAL = '/usr/lib/cni'

/** The environment every timed process gets: NODE_EXTRA_CA_CERTS unset (it adds ~40 ms to each node start). */
export function cleanEnv (extra = {}) {
  // /usr/sbin: the official bridge execs iptables for ipMasq, which a runtime's PATH reaches there.
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...extra }
  delete env.NODE_EXTRA_CA_CERTS
  return env
}

/** Runs a program to completion and returns its wall time in ms; throws on a non-zero exit. */
export function timeExec (file, args, { env, input, allowFail = false } = {}) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(file, args, { env, input, stdio: ['pipe', 'pipe', 'pipe'] })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stdout} ${r.stderr}`)
  }
  return { ms, stdout: r.stdout.toString(), stderr: r.stderr.toString(), status: r.status }
}

export function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n === 0 ? NaN : n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

export function requireRoot (what) {
  if (process.getuid?.() !== 0) {
    console.error(`${what} needs root (it creates network namespaces)`)
    process.exit(2)
  }
}

/** Says what is missing instead of installing it. */
export function requireFiles (files, hint) {
  const missing = files.filter(f => !existsSync(f))
  if (missing.length > 0) {
    console.error(`missing: ${missing.join(', ')}\n${hint}`)
    process.exit(2)
  }
}

export function netnsAdd (name) { execFileSync('ip', ['netns', 'add', name]) }
export function netnsDel (name) { spawnSync('ip', ['netns', 'del', name]) }

/**
 * Runs the bench script `scriptUrl` (its import.meta.url) again inside a
 * throwaway "node" network namespace (`ip netns exec`), so that no plugin
 * touches the root namespace: call it first; it returns false in the outer
 * process (after the inner one ended; the exit code is passed on) and true
 * in the inner one, where the namespace's name is `nodeNamespace()`.
 */
export function inNodeNamespace (scriptUrl, tag, env = {}) {
  if (process.argv[2] === '--inner') return true
  const node = `${tag}-${process.pid}`
  execFileSync('ip', ['netns', 'add', node])
  try {
    const r = spawnSync('ip', ['netns', 'exec', node, process.execPath, fileURLToPath(scriptUrl), '--inner', node], { stdio: 'inherit', env: cleanEnv(env) })
    process.exitCode = r.status ?? 1
  } finally {
    spawnSync('ip', ['netns', 'del', node])
  }
  return false
}

export const nodeNamespace = () => process.argv[3]

/** Pod namespaces made with `ip netns add`, all removed by cleanup(). */
export function podNamespaces (tag) {
  const made = []
  let n = 0
  return {
    add () {
      const name = `${tag}-p${n++}`
      netnsAdd(name)
      made.push(name)
      return name
    },
    cleanup () { for (const p of made.splice(0)) netnsDel(p) }
  }
}

/** A bridge network config with host-local IPAM, as a runtime passes it. */
export function bridgeConf (net, bridge, subnet, dataDir, extra = {}) {
  return JSON.stringify({
    cniVersion: '1.0.0', name: net, type: 'bridge', bridge, isGateway: true, isDefaultGateway: true, ...extra,
    ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir }
  })
}

/** Starts a program without waiting (for concurrent runs); resolves when it exits 0, rejects otherwise. */
export function runAsync (file, args, { env, input }) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    child.on('error', reject)
    child.on('close', (code) => code === 0 ? resolve(out) : reject(new Error(`${file} exited ${code}: ${out}`)))
    child.stdin.end(input)
  })
}

/** Wall time in ms of `n` runs started at once (`make(i)` → [file, args, options]). */
export async function timeConcurrent (n, make) {
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: n }, (_, i) => runAsync(...make(i))))
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/** A process's resident set size in MiB (/proc/<pid>/status VmRSS). */
export function rssMiB (pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(m[1]) / 1024
}

/** Interleaves the named measurements round by round so drift hits all alike. */
export function interleave (rounds, steps) {
  const times = Object.fromEntries(Object.keys(steps).map(k => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of Object.entries(steps)) times[k].push(fn(r))
  }
  return times
}

export const fmt = (x, d = 2) => Number.isFinite(x) ? x.toFixed(d) : String(x)

// Shared bench helpers: timing of whole processes, medians, namespaces.
import { spawnSync, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

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

/** Interleaves the named measurements round by round so drift hits all alike. */
export function interleave (rounds, steps) {
  const times = Object.fromEntries(Object.keys(steps).map(k => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of Object.entries(steps)) times[k].push(fn(r))
  }
  return times
}

export const fmt = (x, d = 2) => Number.isFinite(x) ? x.toFixed(d) : String(x)

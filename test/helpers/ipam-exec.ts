// Running host-local exactly as a container runtime does: the executable,
// CNI_* in a minimal environment (PATH=/usr/bin:/bin, no HOME), the config on
// stdin, cwd "/". Plus temp dataDirs and snapshots of them.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { TEST_AGENT_SOCKET } from './bridge.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const OURS = join(ROOT, 'bin', 'host-local')
export const OFFICIAL = '/usr/lib/cni/host-local'

export interface Invocation {
  command: string
  containerId?: string
  ifname?: string
  netns?: string
  args?: string
  path?: string
  /** Extra or overriding variables; undefined removes one. */
  env?: Record<string, string | undefined>
}

export interface Outcome {
  status: number
  stdout: string
  stderr: string
  /** stdout parsed, when it is JSON. */
  json: any
}

export function cniEnv (inv: Invocation): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: '/usr/bin:/bin',
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId ?? 'dummy',
    CNI_NETNS: inv.netns ?? '/some/where',
    CNI_IFNAME: inv.ifname ?? 'eth0',
    CNI_PATH: inv.path ?? '/usr/lib/cni',
    TSCNI_AGENT_SOCKET: TEST_AGENT_SOCKET,
    ...(inv.args === undefined ? {} : { CNI_ARGS: inv.args }),
    ...inv.env
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
  return out
}

function outcome (status: number | null, stdout: string, stderr: string): Outcome {
  let json: any
  try { json = JSON.parse(stdout) } catch { json = undefined }
  return { status: status ?? -1, stdout, stderr, json }
}

/** Runs a plugin binary once and waits. */
export function run (bin: string, inv: Invocation, stdin: string | object): Outcome {
  const r = spawnSync(bin, [], {
    cwd: '/',
    env: cniEnv(inv),
    input: typeof stdin === 'string' ? stdin : JSON.stringify(stdin),
    encoding: 'utf8',
    timeout: 30_000
  })
  if (r.error !== undefined) throw r.error
  return outcome(r.status, r.stdout, r.stderr)
}

/** Runs a plugin binary without waiting (for concurrency tests). */
export async function runAsync (bin: string, inv: Invocation, stdin: string | object): Promise<Outcome> {
  return await new Promise((resolve, reject) => {
    const child = spawn(bin, [], { cwd: '/', env: cniEnv(inv), stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('error', reject)
    child.on('close', code => resolve(outcome(code, stdout, stderr)))
    child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin))
  })
}

export function tempDir (t: Test, prefix = 'tscni-hl-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Every entry under dir: relative path -> "d 755" / "f 600 <content>" / "l -> target". */
export function snapshot (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!existsSync(dir)) return out
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`
      const st = lstatSync(join(dir, r))
      const mode = (st.mode & 0o777).toString(8)
      if (st.isDirectory()) {
        out[r] = `d ${mode}`
        walk(r)
      } else {
        out[r] = `f ${mode} ${JSON.stringify(readFileSync(join(dir, r), 'latin1'))}`
      }
    }
  }
  walk('')
  return out
}

/** IP-named files of <dataDir>/<net> with their contents. */
export function reservations (dataDir: string, net: string): Record<string, string> {
  const out: Record<string, string> = {}
  const dir = join(dataDir, net)
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir).sort()) {
    if (name === 'lock' || name.startsWith('last_reserved_ip.')) continue
    out[name] = readFileSync(join(dir, name), 'latin1')
  }
  return out
}

export function haveOfficial (): boolean {
  return existsSync(OFFICIAL) && spawnSync(OFFICIAL, [], { env: { CNI_COMMAND: 'VERSION' } }).status === 0
}

export function skipWithoutBuild (): string | false {
  return existsSync(OURS) ? false : `${OURS} is missing: run npm run build first`
}

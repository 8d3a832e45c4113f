// Helpers for the lifecycle tests of the bridge plugin (issue 11): an ADD
// killed at a known step, the attachment records on disk, and "nothing of
// ours is left" read back with iproute2 and `nft -j` as independent oracles.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { BIN_DIR, OUR_BRIDGE, TEST_AGENT_SOCKET, hostVeths, ipFiles, links, nftRuleset, type Env } from './bridge.js'

interface Assert {
  same: (a: unknown, b: unknown, msg?: string) => void
  equal: (a: unknown, b: unknown, msg?: string) => void
}

export interface KillOptions {
  containerId?: string
  netns?: string
  ifname?: string
  extraEnv?: Record<string, string>
}

/**
 * Runs ADD in the env's node namespace with TSCNI_HANG_AFTER_STEP=step,
 * waits until the plugin says it hangs there, and kills it with SIGKILL.
 * Resolves with its stderr; rejects when it ends on its own first.
 */
export async function addKilledAfter (env: Env, config: unknown, step: string, o: KillOptions = {}): Promise<string> {
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: o.containerId ?? 'ctr1',
    CNI_NETNS: o.netns ?? env.podPath,
    CNI_IFNAME: o.ifname ?? 'eth0',
    CNI_PATH: BIN_DIR,
    TSCNI_AGENT_SOCKET: TEST_AGENT_SOCKET,
    TSCNI_STATE_DIR: env.stateDir,
    TSCNI_HANG_AFTER_STEP: step,
    ...o.extraEnv
  }
  return await new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', env.node, OUR_BRIDGE], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    let stdout = ''
    let killed = false
    child.stdout.on('data', d => { stdout += String(d) })
    child.stderr.on('data', d => {
      stderr += String(d)
      if (!killed && stderr.includes(`hanging after step ${step}`)) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(stderr)
      else reject(new Error(`ADD ended (code ${String(code)}) before reaching step ${JSON.stringify(step)}: ${stdout} ${stderr}`))
    })
    child.stdin.end(JSON.stringify(config))
  })
}

/** The attachment records under a state dir: "<network>/<file>" → parsed JSON (temp files as their raw text). */
export function recordFiles (stateDir: string): Record<string, any> {
  const dir = join(stateDir, 'attachments')
  const out: Record<string, any> = {}
  if (!existsSync(dir)) return out
  for (const net of readdirSync(dir).sort()) {
    for (const f of readdirSync(join(dir, net)).sort()) {
      const text = readFileSync(join(dir, net, f), 'utf8')
      try { out[`${net}/${f}`] = JSON.parse(text) } catch { out[`${net}/${f}`] = text }
    }
  }
  return out
}

/** The nf_tables state that is ours, as short text lines (tables, chains, rules with comments). */
export function ourRules (node: string): { chains: string[], rules: string[] } {
  const rs = nftRuleset(node)
  const mine = (table: string, family: string): boolean =>
    (family === 'inet' && table === 'cni_plugins_masquerade') || (family === 'bridge' && table === 'nat')
  return {
    chains: rs.chains.filter(c => mine(c.table, c.family)).map(c => `${c.family} ${c.table} ${c.name}`).sort(),
    rules: rs.rules.filter(r => mine(r.table, r.family)).map(r => `${r.family} ${r.table} ${r.chain}: ${r.text}${r.comment !== undefined ? ` # ${r.comment}` : ''}`).sort()
  }
}

/** Only the shared tables and base chains are left (no per-attachment rule or chain). */
export const SHARED_ONLY = {
  chains: ['bridge nat PREROUTING', 'inet cni_plugins_masquerade masq_checks', 'inet cni_plugins_masquerade postrouting'],
  rules: [
    'inet cni_plugins_masquerade postrouting: goto masq_checks',
    'inet cni_plugins_masquerade postrouting: ip daddr == 224.0.0.0/4 return',
    'inet cni_plugins_masquerade postrouting: ip6 daddr == ff00::/8 return'
  ]
}

/**
 * Asserts that nothing of any attachment is left in the node and the pod:
 * no host veth, no link but lo and the bridge, only the shared tables and
 * base chains (when `rules`), no reservation, no record or temp file, no
 * eth0 in the pod (when it still exists).
 */
export function assertNothingLeft (t: Assert, env: Env, o: { bridge?: string, network?: string, rules?: boolean, pod?: string | undefined, what?: string } = {}): void {
  const what = o.what !== undefined ? `${o.what}: ` : ''
  t.same(hostVeths(env.node).map(l => l.ifname), [], `${what}no host veth`)
  t.same(links(env.node).map(l => l.ifname).filter(n => n !== 'lo').sort(), [o.bridge ?? 'tbr0'], `${what}no link but the bridge`)
  if (o.rules !== false) {
    // The shared ones exist once some ADD got that far; nothing else may.
    const r = ourRules(env.node)
    t.same({ chains: r.chains.filter(c => !SHARED_ONLY.chains.includes(c)), rules: r.rules.filter(x => !SHARED_ONLY.rules.includes(x)) },
      { chains: [], rules: [] }, `${what}no rule or chain but the shared tables and chains`)
  }
  t.same(ipFiles(env.dataDir, o.network ?? 'tnet'), [], `${what}no reservation`)
  t.same(recordFiles(env.stateDir), {}, `${what}no attachment record or temp file`)
  const pod = o.pod === undefined ? env.pod : o.pod
  if (pod !== '' && existsSync(`/var/run/netns/${pod}`)) {
    t.same(links(pod).map(l => l.ifname).filter(n => n !== 'lo'), [], `${what}nothing in the pod`)
  }
}

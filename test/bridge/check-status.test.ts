// CHECK covers what ADD made, read-only (issue 11 item 6), and STATUS means
// it (item 5), root: each piece removed (or changed) with `nft`/`ip`, CHECK
// fails naming it and changes nothing; bridge STATUS is code 50 when
// ipMasq/macspoofchk need nf_tables and the plugin cannot use it (run
// without CAP_NET_ADMIN).
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { BIN_DIR, OUR_BRIDGE, TEST_AGENT_SOCKET, hostVeths, ip, links, nftRuleset, setupEnv, skipReason, type Env } from '../helpers/bridge.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

function conf (env: Env, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return env.config({ isGateway: true, ipMasq: true, macspoofchk: true, ...extra }, { cniVersion: '1.1.0' })
}

const nft = (node: string, ...args: string[]): string => execFileSync('ip', ['netns', 'exec', node, 'nft', ...args], { encoding: 'utf8' })

/** Everything CHECK could change, read with nft -j and ip -j. */
function state (env: Env): unknown {
  // Carrier flags follow the kernel's own timing (a bridge loses its carrier a while after its last port leaves): not CHECK's doing.
  const flags = (f: string[]): string => f.filter(x => x !== 'NO-CARRIER' && x !== 'LOWER_UP').join(',')
  const brief = (ns: string): string[] => links(ns).map(l => `${l.ifname} ${l.linkinfo?.info_kind ?? ''} master=${l.master ?? ''} mtu=${l.mtu} ${l.address} ${flags(l.flags)}`).sort()
  return { nft: nftRuleset(env.node), node: brief(env.node), pod: brief(env.pod) }
}

interface Case {
  what: string
  /** Breaks one piece in the env (after a good ADD). */
  do: (env: Env, hostVeth: string) => void
  /** What CHECK must say. */
  msg: RegExp
  /** Config for CHECK, when it differs from the ADD's. */
  config?: (env: Env) => Record<string, unknown>
}

function handleOf (env: Env, family: string, table: string, chain: string, pred: (text: string, comment?: string) => boolean): number {
  const r = nftRuleset(env.node).rules.find(x => x.family === family && x.table === table && x.chain === chain && pred(x.text, x.comment))
  if (r === undefined) throw new Error(`no such rule in ${family} ${table} ${chain}`)
  return r.handle
}

const CASES: Case[] = [
  {
    what: 'masquerade rule deleted',
    do: env => { nft(env.node, 'delete', 'rule', 'inet', 'cni_plugins_masquerade', 'masq_checks', 'handle', String(handleOf(env, 'inet', 'cni_plugins_masquerade', 'masq_checks', () => true))) },
    msg: /^ipMasq: the masquerade rule for 10\.77\.0\.2\/24 \(chain masq_checks, comment "[0-9a-f]{16}-[0-9a-f]{16}, net: tnet, if: eth0, id: ctr1"\) is missing or differs$/
  },
  {
    what: 'masquerade rule changed (another subnet)',
    do: env => {
      const h = handleOf(env, 'inet', 'cni_plugins_masquerade', 'masq_checks', () => true)
      const comment = nftRuleset(env.node).rules.find(r => r.handle === h)!.comment!
      nft(env.node, 'replace', 'rule', 'inet', 'cni_plugins_masquerade', 'masq_checks', 'handle', String(h), 'ip', 'saddr', '10.77.0.2', 'ip', 'daddr', '!=', '10.99.0.0/24', 'masquerade', 'comment', `"${comment}"`)
    },
    msg: /^ipMasq: the masquerade rule for 10\.77\.0\.2\/24 .* is missing or differs$/
  },
  {
    what: 'postrouting flushed',
    do: env => { nft(env.node, 'flush', 'chain', 'inet', 'cni_plugins_masquerade', 'postrouting') },
    msg: /^ipMasq: chain postrouting of table inet cni_plugins_masquerade does not hold its three rules/
  },
  {
    what: 'masquerade table deleted',
    do: env => { nft(env.node, 'delete', 'table', 'inet', 'cni_plugins_masquerade') },
    msg: /^ipMasq: table inet cni_plugins_masquerade is missing$/
  },
  {
    what: 'spoof-check jump deleted',
    do: env => { nft(env.node, 'delete', 'rule', 'bridge', 'nat', 'PREROUTING', 'handle', String(handleOf(env, 'bridge', 'nat', 'PREROUTING', (_, c) => c === 'macspoofchk-ctr1-eth0'))) },
    msg: /^macspoofchk: the jump from PREROUTING for veth[0-9a-f]{8} \(chain PREROUTING, comment "macspoofchk-ctr1-eth0"\) is missing or differs$/
  },
  {
    what: 'spoof-check MAC chain flushed',
    do: env => { nft(env.node, 'flush', 'chain', 'bridge', 'nat', 'cni-br-iface-ctr1-eth0-mac') },
    msg: /^macspoofchk: the rule accepting source MAC [0-9a-f:]{17} .* is missing or differs; the drop rule .* is missing or differs$/
  },
  {
    what: 'bridge nat table deleted',
    do: env => { nft(env.node, 'delete', 'table', 'bridge', 'nat') },
    msg: /^macspoofchk: chain PREROUTING of table bridge nat is missing; chain cni-br-iface-ctr1-eth0 of table bridge nat is missing/
  },
  {
    what: 'host veth taken off the bridge',
    do: (env, veth) => {
      ip(env.node, 'link', 'set', veth, 'nomaster')
      // Its last port gone, the bridge loses its carrier a moment later: let that settle before CHECK.
      for (let i = 0; i < 100 && !(links(env.node).find(l => l.ifname === 'tbr0')?.flags.includes('NO-CARRIER') ?? true); i++) spawnSync('sleep', ['0.02'])
    },
    msg: /^CNI veth created for bridge tbr0 was not found: host veth veth[0-9a-f]{8} is not a port of bridge tbr0 \(it has no master\)$/
  },
  {
    what: 'reservation removed',
    do: env => { rmSync(join(env.dataDir, 'tnet', '10.77.0.2')) },
    msg: /^host-local: Failed to find address added by container ctr1$/
  },
  {
    what: 'container MAC not the configured one',
    do: () => {},
    config: env => conf(env, { runtimeConfig: { mac: '02:00:00:00:00:42' } }),
    msg: /^Interface eth0 Mac [0-9a-f:]{17} is not the configured 02:00:00:00:00:42$/
  }
]

t.test('CHECK passes after ADD, fails naming each removed piece, and changes nothing', async t => {
  for (const c of CASES) {
    await t.test(c.what, async t => {
      const env = setupEnv(t, 'ck')
      const config = conf(env)
      const add = env.run('ADD', config)
      t.equal(add.code, 0, `ADD${add.code !== 0 ? `: ${add.stdout}` : ''}`)
      const withPrev = { ...config, prevResult: add.json }
      const good = env.run('CHECK', withPrev)
      t.equal(good.code, 0, `CHECK right after ADD passes${good.code !== 0 ? `: ${good.stdout}` : ''}`)
      c.do(env, hostVeths(env.node)[0]!.ifname)
      const before = state(env)
      const bad = env.run('CHECK', { ...(c.config?.(env) ?? config), prevResult: add.json })
      t.equal(bad.code, 1, 'CHECK fails')
      t.match(bad.json?.msg, c.msg, 'and names what is missing')
      t.same(state(env), before, 'CHECK changed nothing')
    })
  }
})

t.test('STATUS: code 50 when ipMasq/macspoofchk are set and nf_tables cannot be used', async t => {
  const env = setupEnv(t, 'st')
  const status = (config: unknown, dropNetAdmin: boolean): { code: number, json: any } => {
    const prefix = dropNetAdmin ? ['setpriv', '--inh-caps=-net_admin', '--bounding-set=-net_admin'] : []
    const r = spawnSync('ip', ['netns', 'exec', env.node, ...prefix, OUR_BRIDGE], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_COMMAND: 'STATUS', CNI_PATH: BIN_DIR, TSCNI_AGENT_SOCKET: TEST_AGENT_SOCKET, TSCNI_STATE_DIR: env.stateDir },
      input: JSON.stringify(config),
      encoding: 'utf8'
    })
    let json: any
    try { json = JSON.parse(r.stdout) } catch { json = undefined }
    return { code: r.status ?? -1, json }
  }
  t.equal(status(conf(env), false).code, 0, 'ready')
  const denied = status(conf(env), true)
  t.equal(denied.code, 1)
  t.equal(denied.json?.code, 50, 'not available without CAP_NET_ADMIN (nf_tables refuses the request)')
  t.match(denied.json?.msg, /^nf_tables cannot be used: .*EPERM/)
  t.equal(denied.json?.details, 'ipMasq')
  t.equal(status(conf(env, { ipMasq: false }), true).json?.details, 'macspoofchk')
  t.equal(status(conf(env, { ipMasq: false, macspoofchk: false }), true).code, 0, 'without them nf_tables is not needed: ready')
})

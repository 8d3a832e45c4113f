#!/usr/bin/env node
// npm run bench:agent — the agent path against the exec path and the
// official Go plugins (/usr/lib/cni, with their own host-local), each exec'd
// as a runtime execs them (spawnSync, NODE_EXTRA_CA_CERTS unset):
//   agent  bin/<plugin> (the native client) with TSCNI_AGENT_SOCKET on an
//          agent this bench starts for its run;
//   exec   the same client with TSCNI_AGENT_SOCKET naming a missing socket,
//          so it execs the Node plugin (the path without an agent);
//   go     /usr/lib/cni/<plugin>.
// Everything runs in a throwaway "node" namespace (the bench re-runs itself
// there; the agent too, as a host's agent shares its runtime's namespace),
// with a fresh pod namespace per bridge ADD. Interleaved, medians:
//   1. loopback ADD, bridge ADD, bridge DEL, host-local ADD, STATUS per round;
//   2. 20 bridge ADDs at once, wall time;
//   3. 1,000 pods on one bridge, agent and Go one after the other per pod:
//      the first and last 50 ADDs;
//   4. the agent's RSS over PAIRS loopback ADD/DEL pairs (after the first
//      1,000 and at the end), then over BRIDGE_PAIRS bridge pairs.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import {
  OFFICIAL, bridgeConf, cleanEnv, fmt, inNodeNamespace, interleave, median, podNamespaces, requireFiles,
  requireRoot, rssMiB, runAsync, timeConcurrent, timeExec
} from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'bin', name)
const ROUNDS = Number(process.env.ROUNDS ?? 25)
const SCALE = Number(process.env.SCALE ?? 1000)
const PAIRS = Number(process.env.PAIRS ?? 10000)
const BRIDGE_PAIRS = Number(process.env.BRIDGE_PAIRS ?? 1000)
const WHO = ['agent', 'exec', 'go']

requireRoot('bench:agent')
requireFiles([bin('bridge'), bin('loopback'), bin('host-local'), bin('tscni')], 'run `npm run build` first')
requireFiles([`${OFFICIAL}/bridge`, `${OFFICIAL}/host-local`, `${OFFICIAL}/loopback`], 'the official plugins are missing: apt-get install containernetworking-plugins')
if (readFileSync(bin('bridge')).subarray(0, 4).toString('latin1') !== '\x7fELF') {
  console.error('bin/bridge is not the native client (no C compiler at build time?): the agent path cannot be measured')
  process.exit(2)
}

if (inNodeNamespace(import.meta.url, 'tscni-bag', { ROUNDS: String(ROUNDS), SCALE: String(SCALE), PAIRS: String(PAIRS), BRIDGE_PAIRS: String(BRIDGE_PAIRS) })) await inner()

/** `bin/tscni agent` on `socket`, in this process's namespaces; resolves once it accepts requests. */
async function startAgent (socket, logFile) {
  const child = spawn(bin('tscni'), ['agent', '--socket', socket, '--log-file', logFile, '--log-level', 'warn'], { env: cleanEnv(), stdio: 'ignore' })
  const exited = new Promise(resolve => { child.once('exit', resolve) })
  let gone = false
  void exited.then(() => { gone = true })
  for (let i = 0; ; i++) {
    if (existsSync(socket) && timeExec(bin('tscni'), ['agent', 'status', '--socket', socket], { env: cleanEnv(), allowFail: true }).status === 0) break
    if (gone || i > 200) throw new Error(`the agent did not start: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : 'no log'}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    pid: child.pid,
    status: () => JSON.parse(timeExec(bin('tscni'), ['agent', 'status', '--socket', socket], { env: cleanEnv() }).stdout),
    stop: async () => { if (!gone) child.kill('SIGTERM'); await exited }
  }
}

async function inner () {
  const work = mkdtempSync(join(tmpdir(), 'tscni-bench-agent-'))
  const socket = join(work, 'run', 'agent.sock')
  const state = mkdtempSync('/run/tscni-bench-state-')
  const pods = podNamespaces(`tscni-bag-${process.pid}`)
  let agent
  let undoResident
  try {
    agent = await startAgent(socket, join(work, 'agent.log'))
    const plugin = (who, name) => who === 'go' ? `${OFFICIAL}/${name}` : bin(name)
    const env = (who, command, pod, id, extra = {}) => cleanEnv({
      CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: pod === '' ? '' : `/var/run/netns/${pod}`, CNI_IFNAME: 'eth0',
      CNI_PATH: who === 'go' ? OFFICIAL : join(root, 'bin'),
      // Our attachment records: on /run as by default, but the bench's own, removed with it.
      ...(who === 'go' ? {} : { TSCNI_STATE_DIR: state }),
      ...(who === 'agent' ? { TSCNI_AGENT_SOCKET: socket } : who === 'exec' ? { TSCNI_AGENT_SOCKET: join(work, 'absent.sock') } : {}),
      ...extra
    })
    const run = (who, name, command, conf, pod, id) => timeExec(plugin(who, name), [], { env: env(who, command, pod, id), input: conf }).ms
    let net = 0
    const conf = (who, what) => bridgeConf(`${what}-${who}`, `cni-${what.slice(0, 4)}-${who.slice(0, 2)}`, `10.${110 + net++}.0.0/16`, join(work, who))
    const confs = Object.fromEntries(WHO.map(w => [w, conf(w, 'single')]))
    const hlConfs = Object.fromEntries(WHO.map(w => [w, conf(w, 'hl')]))
    const loConf = JSON.stringify({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' })
    const statusConf = JSON.stringify({ cniVersion: '1.1.0', name: 'status', type: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: '10.109.0.0/16' }]], dataDir: join(work, 'status') } })
    const loPod = pods.add()
    // One pod attached through the agent for the whole run, as on any node
    // that has pods: the agent watches a host while it has attachments, so a
    // host going from none to one and back on every ADD/DEL (the first and
    // last pod of a node) would add the watch's set-up (~1.3 ms) to each ADD.
    const resident = { conf: conf('agent', 'resident'), pod: pods.add() }
    run('agent', 'bridge', 'ADD', resident.conf, resident.pod, 'resident')
    undoResident = () => { timeExec(bin('bridge'), [], { env: env('agent', 'DEL', resident.pod, 'resident'), input: resident.conf, allowFail: true }) }

    // 1. One of each per round, interleaved.
    const t = interleave(ROUNDS + 2, Object.fromEntries(WHO.flatMap(who => [
      [`${who} loopback ADD`, (r) => run(who, 'loopback', 'ADD', loConf, loPod, `lo-${r}`)],
      [`${who} bridge`, (r) => {
        const pod = pods.add()
        const add = run(who, 'bridge', 'ADD', confs[who], pod, `single-${r}`)
        return { add, del: run(who, 'bridge', 'DEL', confs[who], pod, `single-${r}`) }
      }],
      [`${who} host-local ADD`, (r) => {
        const add = run(who, 'host-local', 'ADD', hlConfs[who], loPod, `hl-${r}`)
        run(who, 'host-local', 'DEL', hlConfs[who], loPod, `hl-${r}`)
        return add
      }],
      // The official plugins (1.1.1) predate STATUS: theirs is the time to refuse it.
      [`${who} STATUS`, () => timeExec(plugin(who, 'bridge'), [], { env: env(who, 'STATUS', '', ''), input: statusConf, allowFail: who === 'go' }).ms]
    ])))
    const m = (key, pick = (x) => x) => median(t[key].slice(2).map(pick))
    const rows = [
      ['loopback ADD', (w) => m(`${w} loopback ADD`)],
      ['bridge ADD', (w) => m(`${w} bridge`, x => x.add)],
      ['bridge DEL', (w) => m(`${w} bridge`, x => x.del)],
      ['host-local ADD', (w) => m(`${w} host-local ADD`)],
      ['STATUS (go: refusal)', (w) => m(`${w} STATUS`)]
    ]
    console.log(`rounds: ${ROUNDS} after 2 warm-ups, interleaved; medians in ms; ratio = agent/go`)
    const single = {}
    for (const [name, f] of rows) {
      const [a, e, g] = WHO.map(f)
      single[name] = a / g
      console.log(`${name.padEnd(22)} agent ${fmt(a).padStart(6)}  exec ${fmt(e).padStart(6)}  go ${fmt(g).padStart(6)}  agent/go ${fmt(a / g)}  exec/go ${fmt(e / g)}`)
    }

    // 2. 20 bridge ADDs at once, wall time; DELs untimed.
    const conc = Object.fromEntries(WHO.map(w => [w, []]))
    const cconf = Object.fromEntries(WHO.map(w => [w, conf(w, 'conc')]))
    for (let r = 0; r < 3; r++) {
      for (const who of WHO) {
        const c = cconf[who]
        const ps = Array.from({ length: 20 }, () => pods.add())
        conc[who].push(await timeConcurrent(20, (i) => [plugin(who, 'bridge'), [], { env: env(who, 'ADD', ps[i], `conc-${i}`), input: c }]))
        for (let i = 0; i < 20; i++) run(who, 'bridge', 'DEL', c, ps[i], `conc-${i}`)
      }
    }
    const concRatio = median(conc.agent) / median(conc.go)
    console.log(`20 concurrent bridge ADDs (wall ms, median of 3): agent ${fmt(median(conc.agent))}  exec ${fmt(median(conc.exec))}  go ${fmt(median(conc.go))}  agent/go ${fmt(concRatio)}`)
    // Pod namespaces are removed only at the end: the kernel's clean-up of a
    // deleted namespace takes the rtnl lock for a while, which would slow the
    // ADDs timed next.

    // 3. SCALE pods on one bridge each, agent and Go per pod in turn.
    const scale = { agent: [], go: [] }
    const sconf = { agent: conf('agent', 'scale'), go: conf('go', 'scale') }
    const t0 = Date.now()
    for (let i = 0; i < SCALE; i++) {
      for (const who of ['agent', 'go']) scale[who].push(run(who, 'bridge', 'ADD', sconf[who], pods.add(), `scale-${i}`))
      if ((i + 1) % 250 === 0) console.log(`  scale: ${i + 1} pods per bridge (${((Date.now() - t0) / 1000).toFixed(0)} s)`)
    }
    const first = (xs) => median(xs.slice(0, 50))
    const last = (xs) => median(xs.slice(-50))
    const scaleRatio = last(scale.agent) / first(scale.agent)
    const at1000 = last(scale.agent) / last(scale.go)
    console.log(`${SCALE} pods on one bridge (ms per ADD, median of first/last 50): agent ${fmt(first(scale.agent))} -> ${fmt(last(scale.agent))} (x${fmt(scaleRatio)})  go ${fmt(first(scale.go))} -> ${fmt(last(scale.go))} (x${fmt(last(scale.go) / first(scale.go))})`)

    // 4. The agent's RSS over ADD/DEL pairs, a few clients at once: PAIRS
    // loopback pairs (G: after all of them minus after the first 1,000), then
    // BRIDGE_PAIRS bridge pairs (each bridge DEL holds the agent's thread for
    // the kernel's ~15-20 ms veth deletion, so 10,000 of them would take
    // minutes).
    const rssOver = async (plugin, pairs, rconf) => {
      const rpods = Array.from({ length: 4 }, () => pods.add())
      const rss = { 0: rssMiB(agent.pid) }
      const checkpoints = new Set([1000, 2000, 5000, pairs])
      let started = 0
      let done = 0
      const r0 = Date.now()
      await Promise.all(rpods.map(async (pod) => {
        while (started < pairs) {
          const id = `rss-${plugin}-${started++}`
          await runAsync(bin(plugin), [], { env: env('agent', 'ADD', pod, id), input: rconf })
          await runAsync(bin(plugin), [], { env: env('agent', 'DEL', pod, id), input: rconf })
          if (checkpoints.has(++done)) rss[done] = rssMiB(agent.pid)
        }
      }))
      const base = pairs > 1000 ? 1000 : 0
      const growth = rss[pairs] - rss[base]
      console.log(`agent RSS over ${pairs} ${plugin} ADD/DEL pairs (${((Date.now() - r0) / 1000).toFixed(0)} s): ${Object.entries(rss).map(([n, v]) => `${n}: ${fmt(v, 1)}`).join(', ')} MiB; after ${pairs} minus after ${base}: ${fmt(growth)} MiB`)
      return growth
    }
    const growth = await rssOver('loopback', PAIRS, loConf)
    if (BRIDGE_PAIRS > 0) await rssOver('bridge', BRIDGE_PAIRS, conf('agent', 'rss'))
    const status = agent.status()
    console.log(`agent status: served ${JSON.stringify(status.served)}, errors ${status.errors}, fallbacks ${status.fallbacks}, timeouts ${status.timeouts}`)

    console.log(`agent_loopback_add_ratio_vs_go=${fmt(single['loopback ADD'])} agent_bridge_add_ratio_vs_go=${fmt(single['bridge ADD'])} agent_bridge_del_ratio_vs_go=${fmt(single['bridge DEL'])} agent_concurrent20_ratio_vs_go=${fmt(concRatio)} agent_at1000_ratio_vs_go=${fmt(at1000)} agent_scale_last_over_first=${fmt(scaleRatio)} agent_rss_growth_mb=${fmt(growth)}`)
  } finally {
    undoResident?.()
    await agent?.stop()
    pods.cleanup()
    rmSync(work, { recursive: true, force: true })
    rmSync(state, { recursive: true, force: true })
  }
}

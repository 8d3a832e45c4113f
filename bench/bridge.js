#!/usr/bin/env node
// npm run bench:bridge — the bridge plugin, ours against the official Go
// binary (/usr/lib/cni/bridge with /usr/lib/cni/host-local), exec'd as a
// runtime execs them, in a throwaway "node" namespace (the bench re-runs
// itself there with `ip netns exec`, so no plugin touches the root namespace)
// with a fresh pod namespace per container. Interleaved, medians:
//   1. one ADD and one DEL per round, and the `node -e 0` floor;
//   2. 1,000 containers on one bridge each, ours and Go one after the other;
//      time per ADD for the first and last 50, then every DEL;
//   3. 20 ADDs at once, wall time;
//   4. ipMasq ADD and DEL, with plain ADD and DEL in the same rounds (the
//      overhead of ipMasq is measured against those).
import { spawnSync, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { OFFICIAL, cleanEnv, fmt, inNodeNamespace, median, requireFiles, requireRoot, timeConcurrent, timeExec } from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const OURS = join(root, 'bin', 'bridge')
const ROUNDS = Number(process.env.ROUNDS ?? 20)
const SCALE = Number(process.env.SCALE ?? 1000)

requireRoot('bench:bridge')
requireFiles([OURS, join(root, 'bin', 'host-local')], 'run `npm run build` first')
requireFiles([`${OFFICIAL}/bridge`, `${OFFICIAL}/host-local`], 'the official plugins are missing: apt-get install containernetworking-plugins')

if (inNodeNamespace(import.meta.url, 'tscni-bbr', { ROUNDS: String(ROUNDS), SCALE: String(SCALE) })) await inner()

async function inner () {
  const work = mkdtempSync(join(tmpdir(), 'tscni-bench-bridge-'))
  const pods = []
  let podCounter = 0
  const newPod = () => {
    const name = `tscni-bbr-${process.pid}-p${podCounter++}`
    execFileSync('ip', ['netns', 'add', name])
    pods.push(name)
    return name
  }
  const conf = (who, net, bridge, subnet, extra = {}) => JSON.stringify({
    cniVersion: '1.0.0', name: net, type: 'bridge', bridge, isGateway: true, isDefaultGateway: true, ...extra,
    ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: join(work, who) }
  })
  const env = (who, command, pod, id) => cleanEnv({
    CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${pod}`, CNI_IFNAME: 'eth0',
    CNI_PATH: who === 'ours' ? join(root, 'bin') : OFFICIAL,
    // Our attachment records: the bench's own (the pods go with the bench), not the machine's /run/tscni.
    // The exec path, also on a machine where an agent listens at the default socket.
    ...(who === 'ours' ? { TSCNI_STATE_DIR: join(work, 'state'), TSCNI_AGENT_SOCKET: join(work, 'no-agent.sock') } : {})
  })
  const bin = (who) => who === 'ours' ? OURS : `${OFFICIAL}/bridge`
  const add = (who, c, pod, id) => timeExec(bin(who), [], { env: env(who, 'ADD', pod, id), input: c }).ms
  const del = (who, c, pod, id) => timeExec(bin(who), [], { env: env(who, 'DEL', pod, id), input: c }).ms
  const confs = {
    ours: conf('ours', 'bench-ours', 'cni-ours', '10.100.0.0/16'),
    go: conf('go', 'bench-go', 'cni-go', '10.101.0.0/16')
  }
  const linkCount = () => JSON.parse(execFileSync('ip', ['-j', 'link', 'show'])).length
  try {
    // 1. Single ADD/DEL.
    const t = { floor: [], oursAdd: [], goAdd: [], oursDel: [], goDel: [] }
    for (let r = 0; r < ROUNDS; r++) {
      t.floor.push(timeExec(process.execPath, ['-e', '0'], { env: cleanEnv() }).ms)
      for (const who of ['ours', 'go']) {
        const pod = newPod()
        t[`${who}Add`].push(add(who, confs[who], pod, `single-${r}`))
        t[`${who}Del`].push(del(who, confs[who], pod, `single-${r}`))
      }
    }
    const floor = median(t.floor)
    const oursAdd = median(t.oursAdd)
    const goAdd = median(t.goAdd)
    console.log(`single (medians of ${ROUNDS}, ms): node floor ${fmt(floor)} | ADD ours ${fmt(oursAdd)} go ${fmt(goAdd)} | DEL ours ${fmt(median(t.oursDel))} go ${fmt(median(t.goDel))}`)

    // 2. Scale: SCALE containers per bridge, interleaved ours/go.
    const before = linkCount()
    const scale = { ours: [], go: [] }
    const scalePods = []
    const sconf = {
      ours: conf('ours', 'scale-ours', 'cni-sc-ours', '10.102.0.0/16'),
      go: conf('go', 'scale-go', 'cni-sc-go', '10.103.0.0/16')
    }
    const t0 = Date.now()
    for (let i = 0; i < SCALE; i++) {
      const p = { ours: newPod(), go: newPod() }
      scalePods.push(p)
      for (const who of ['ours', 'go']) scale[who].push(add(who, sconf[who], p[who], `scale-${i}`))
      if ((i + 1) % 250 === 0) console.log(`  scale: ${i + 1} containers per bridge (${((Date.now() - t0) / 1000).toFixed(0)} s)`)
    }
    const delTimes = { ours: [], go: [] }
    for (let i = 0; i < SCALE; i++) {
      for (const who of ['ours', 'go']) delTimes[who].push(del(who, sconf[who], scalePods[i][who], `scale-${i}`))
    }
    const after = linkCount()
    const first = (xs) => median(xs.slice(0, 50))
    const last = (xs) => median(xs.slice(-50))
    console.log(`scale ${SCALE} (ms per ADD, median of first/last 50): ours ${fmt(first(scale.ours))} -> ${fmt(last(scale.ours))} | go ${fmt(first(scale.go))} -> ${fmt(last(scale.go))} | DEL median ours ${fmt(median(delTimes.ours))} go ${fmt(median(delTimes.go))}`)
    console.log(`after ${SCALE} ADDs and DELs the node holds ${after - before} more links than before (bridges stay, as upstream: 2)`)

    // 3. 20 concurrent ADDs, wall time.
    const concurrent = async (who) => {
      const ps = Array.from({ length: 20 }, () => newPod())
      const c = conf(who, `conc-${who}`, `cni-cc-${who}`, who === 'ours' ? '10.104.0.0/16' : '10.105.0.0/16')
      const ms = await timeConcurrent(20, (i) => [bin(who), [], { env: env(who, 'ADD', ps[i], `conc-${i}`), input: c }])
      for (let i = 0; i < 20; i++) del(who, c, ps[i], `conc-${i}`)
      return ms
    }
    const conc = { ours: [], go: [] }
    for (let r = 0; r < 3; r++) { conc.ours.push(await concurrent('ours')); conc.go.push(await concurrent('go')) }
    console.log(`20 concurrent ADDs (wall ms, median of 3): ours ${fmt(median(conc.ours))} go ${fmt(median(conc.go))}`)

    // 4. ipMasq, when ours supports it (the official one does, with iptables).
    let masq = ''
    const mconf = (who) => conf(who, `masq-${who}`, `cni-mq-${who}`, who === 'ours' ? '10.106.0.0/16' : '10.107.0.0/16', { ipMasq: true })
    const probe = newPod()
    const supported = spawnSync(OURS, [], { env: env('ours', 'ADD', probe, 'masq-probe'), input: mconf('ours') }).status === 0
    if (supported) {
      del('ours', mconf('ours'), probe, 'masq-probe')
      // Plain ADDs interleaved in the same rounds: the ipMasq overhead is measured against them.
      const m = { oursAdd: [], goAdd: [], oursDel: [], goDel: [], oursPlainAdd: [], goPlainAdd: [], oursPlainDel: [], goPlainDel: [] }
      for (let r = 0; r < ROUNDS; r++) {
        for (const who of ['ours', 'go']) {
          const plain = newPod()
          m[`${who}PlainAdd`].push(add(who, confs[who], plain, `mplain-${r}`))
          m[`${who}PlainDel`].push(del(who, confs[who], plain, `mplain-${r}`))
          const pod = newPod()
          m[`${who}Add`].push(add(who, mconf(who), pod, `masq-${r}`))
          m[`${who}Del`].push(del(who, mconf(who), pod, `masq-${r}`))
        }
      }
      const md = (k) => median(m[k])
      console.log(`ipMasq (medians of ${ROUNDS}, ms): ADD ours ${fmt(md('oursAdd'))} (plain ${fmt(md('oursPlainAdd'))}, +${fmt(md('oursAdd') - md('oursPlainAdd'))}) go ${fmt(md('goAdd'))} (plain ${fmt(md('goPlainAdd'))}, +${fmt(md('goAdd') - md('goPlainAdd'))})` +
        ` | DEL ours ${fmt(md('oursDel'))} (plain ${fmt(md('oursPlainDel'))}) go ${fmt(md('goDel'))} (plain ${fmt(md('goPlainDel'))})`)
      masq = ` masq_add_ratio_vs_go=${fmt(md('oursAdd') / md('goAdd'))} masq_del_ratio_vs_go=${fmt(md('oursDel') / md('goDel'))} masq_add_over_plain_ms=${fmt(md('oursAdd') - md('oursPlainAdd'))}`
    } else {
      console.log('ipMasq: not supported by our bridge yet (refused), not measured')
    }

    console.log(`bridge_add_ratio_vs_go=${fmt(oursAdd / goAdd)} bridge_add_minus_node_floor_ms=${fmt(oursAdd - floor)} go_bridge_add_ms=${fmt(goAdd)} scale_last_over_first=${fmt(last(scale.ours) / first(scale.ours))} at1000_ratio_vs_go=${fmt(last(scale.ours) / last(scale.go))} concurrent20_ratio_vs_go=${fmt(median(conc.ours) / median(conc.go))}${masq}`)
  } finally {
    for (const p of pods) spawnSync('ip', ['netns', 'del', p])
    rmSync(work, { recursive: true, force: true })
  }
}

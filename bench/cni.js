#!/usr/bin/env node
// npm run bench:cni — loopback and host-local, ours against the official Go
// binaries in /usr/lib/cni, each exec'd as a runtime execs it, interleaved
// round by round, medians. Runs as root in namespaces it creates and removes.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { OFFICIAL, cleanEnv, fmt, interleave, median, netnsAdd, netnsDel, requireFiles, requireRoot, timeExec } from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const ours = (name) => join(root, 'bin', name)
const ROUNDS = Number(process.env.ROUNDS ?? 25)

requireRoot('bench:cni')
requireFiles([ours('loopback'), ours('host-local')], 'run `npm run build` first')
requireFiles([`${OFFICIAL}/loopback`, `${OFFICIAL}/host-local`], 'the official plugins are missing: apt-get install containernetworking-plugins')

const tag = `tscni-bcni-${process.pid}`
const nsOurs = `${tag}-a`
const nsGo = `${tag}-b`
const work = mkdtempSync(join(tmpdir(), 'tscni-bench-cni-'))
netnsAdd(nsOurs)
netnsAdd(nsGo)

function env (command, ns, id) {
  return cleanEnv({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: `${root}/bin:${OFFICIAL}`, TSCNI_AGENT_SOCKET: '/run/tscni-bench/no-agent.sock' })
}
const loConf = JSON.stringify({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' })
const ipamConf = (dataDir, subnet) => JSON.stringify({
  cniVersion: '1.0.0', name: 'benchnet', type: 'bridge',
  ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir }
})

// Host-local with 1,000 reservations already on disk, in the official format
// (one store each: a store the other plugin writes to costs us a full re-read).
function fullStore (dir) {
  mkdirSync(join(dir, 'benchnet'), { recursive: true })
  for (let i = 0; i < 1000; i++) {
    const ip = `10.78.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`
    writeFileSync(join(dir, 'benchnet', ip), `fill-${i}\r\neth0`, { mode: 0o600 })
  }
  writeFileSync(join(dir, 'benchnet', 'last_reserved_ip.0'), '10.78.3.233')
  return dir
}

try {
  const conf = {
    oursEmpty: ipamConf(join(work, 'ours'), '10.77.0.0/16'),
    goEmpty: ipamConf(join(work, 'go'), '10.76.0.0/16'),
    oursFull: ipamConf(fullStore(join(work, 'full-ours')), '10.78.0.0/16'),
    goFull: ipamConf(fullStore(join(work, 'full-go')), '10.78.0.0/16')
  }
  const addDel = (bin, c, ns, id) => {
    const add = timeExec(bin, [], { env: env('ADD', ns, id), input: c })
    const del = timeExec(bin, [], { env: env('DEL', ns, id), input: c })
    return { add: add.ms, del: del.ms }
  }
  const res = { hlOursAdd: [], hlOursDel: [], hlGoAdd: [], hlGoDel: [], fullOurs: [], fullGo: [] }
  const t = interleave(ROUNDS, {
    nodeFloor: () => timeExec(process.execPath, ['-e', '0'], { env: cleanEnv() }).ms,
    oursLoopback: (r) => timeExec(ours('loopback'), [], { env: env('ADD', nsOurs, `lo${r}`), input: loConf }).ms,
    goLoopback: (r) => timeExec(`${OFFICIAL}/loopback`, [], { env: env('ADD', nsGo, `lo${r}`), input: loConf }).ms,
    hostLocal: (r) => {
      const o = addDel(ours('host-local'), conf.oursEmpty, nsOurs, `c${r}`)
      const g = addDel(`${OFFICIAL}/host-local`, conf.goEmpty, nsGo, `c${r}`)
      res.hlOursAdd.push(o.add); res.hlOursDel.push(o.del); res.hlGoAdd.push(g.add); res.hlGoDel.push(g.del)
      return 0
    },
    full: (r) => {
      res.fullOurs.push(addDel(ours('host-local'), conf.oursFull, nsOurs, `f${r}`).add)
      res.fullGo.push(addDel(`${OFFICIAL}/host-local`, conf.goFull, nsGo, `g${r}`).add)
      return 0
    }
  })
  const m = (xs) => median(xs)
  const floor = m(t.nodeFloor)
  const lo = m(t.oursLoopback)
  const goLo = m(t.goLoopback)
  const hlAdd = m(res.hlOursAdd)
  const fullAdd = m(res.fullOurs)
  console.log(`rounds: ${ROUNDS} (interleaved), medians in ms, NODE_EXTRA_CA_CERTS unset`)
  console.log(`node -e 0 floor            ${fmt(floor)}`)
  console.log(`loopback ADD   ours ${fmt(lo)}  go ${fmt(goLo)}  ours-floor ${fmt(lo - floor)}`)
  console.log(`host-local ADD ours ${fmt(hlAdd)}  go ${fmt(m(res.hlGoAdd))}`)
  console.log(`host-local DEL ours ${fmt(m(res.hlOursDel))}  go ${fmt(m(res.hlGoDel))}`)
  console.log(`host-local ADD with 1,000 reservations: ours ${fmt(fullAdd)} (x${fmt(fullAdd / hlAdd)} of empty)  go ${fmt(m(res.fullGo))} (x${fmt(m(res.fullGo) / m(res.hlGoAdd))} of empty)`)
  console.log(`loopback_add_ratio_vs_go=${fmt(lo / goLo)} add_minus_node_floor_ms=${fmt(lo - floor)} go_loopback_add_ms=${fmt(goLo)} hostlocal_full_over_empty=${fmt(fullAdd / hlAdd)}`)
} finally {
  netnsDel(nsOurs)
  netnsDel(nsGo)
  rmSync(work, { recursive: true, force: true })
}

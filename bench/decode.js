#!/usr/bin/env node
// npm run bench:decode — dump-and-decode speed of the rtnetlink library.
// In a namespace it creates (and removes): 1,000 veth pairs and 100,000
// routes. Each round, interleaved: our RouteService/LinkService list (dump +
// decode into route objects), the `netlink` package's own rt decoder
// (getRoutes/getLinks) in this same process, and a whole `ip -j route show
// table all` process. Medians over the rounds.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, median, requireFiles, requireRoot } from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
requireRoot('bench:decode')
requireFiles([join(root, 'dist/netlink/index.js')], 'run `npm run build` first')
const { NetNamespace, NetlinkHandle } = await import(join(root, 'dist/netlink/index.js'))
// The package root (its generated codecs) is what we compare against; loaded here only.
const { createRtNetlink } = createRequire(join(root, 'package.json'))('netlink')

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const ROUTES = Number(process.env.ROUTES ?? 100_000)
const VETHS = Number(process.env.VETHS ?? 1000)
const name = `tscni-bdec-${process.pid}`
const ns = NetNamespace.create(name)
const cleanup = () => { try { ns.close() } catch {} NetNamespace.delete(name) }
process.on('SIGINT', () => { cleanup(); process.exit(130) })

async function inChunks (n, size, fn) {
  for (let i = 0; i < n; i += size) {
    const batch = []
    for (let j = i; j < Math.min(n, i + size); j++) batch.push(fn(j))
    await Promise.all(batch)
  }
}

try {
  const h = NetlinkHandle.open(ns, { receiveBufferSize: 4 << 20 })
  const t0 = Date.now()
  await inChunks(VETHS, 100, (i) => h.links.createVeth({ name: `bv${i}a`, peerName: `bv${i}b` }))
  await h.links.setUp('bv0a')
  await h.links.setUp('bv0b')
  const dev = (await h.links.get('bv0a')).index
  await h.addresses.add({ index: dev, address: '10.255.255.1/24' })
  // 100,000 distinct /32 routes via a gateway on bv0a, as a busy node might hold.
  await inChunks(ROUTES, 1000, (i) => h.routes.add({ dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, gateway: '10.255.255.2', oif: dev }))
  console.log(`filled ${name}: ${2 * VETHS} links, ${ROUTES} routes in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  const pkg = ns.run(() => createRtNetlink({ recvBufferSize: 4 << 20 }))
  const time = async (fn) => { const s = process.hrtime.bigint(); const n = await fn(); return { ms: Number(process.hrtime.bigint() - s) / 1e6, n } }
  const r = { oursRoutes: [], pkgRoutes: [], ipRoutes: [], oursLinks: [], pkgLinks: [] }
  let counts
  for (let round = 0; round < ROUNDS; round++) {
    const a = await time(async () => (await h.routes.list()).length)
    const b = await time(async () => (await pkg.getRoutes()).length)
    const c = await time(async () => {
      const p = spawnSync('ip', ['-n', name, '-j', 'route', 'show', 'table', 'all'], { maxBuffer: 1 << 30 })
      if (p.status !== 0) throw new Error(`ip route show failed: ${p.stderr}`)
      return JSON.parse(p.stdout).length
    })
    const d = await time(async () => (await h.links.list()).length)
    const e = await time(async () => (await pkg.getLinks()).length)
    r.oursRoutes.push(a.ms); r.pkgRoutes.push(b.ms); r.ipRoutes.push(c.ms); r.oursLinks.push(d.ms); r.pkgLinks.push(e.ms)
    counts = { routes: a.n, pkgRoutes: b.n, ipRoutes: c.n, links: d.n, pkgLinks: e.n }
  }
  pkg.socket?.close?.()
  h.close()
  const perS = (n, ms) => n / (ms / 1000)
  const ours = perS(counts.routes, median(r.oursRoutes))
  const theirs = perS(counts.pkgRoutes, median(r.pkgRoutes))
  const ip = perS(counts.ipRoutes, median(r.ipRoutes))
  const linksOurs = perS(counts.links, median(r.oursLinks))
  const linksPkg = perS(counts.pkgLinks, median(r.pkgLinks))
  console.log(`rounds: ${ROUNDS} (interleaved), medians`)
  console.log(`routes: ours ${counts.routes} in ${fmt(median(r.oursRoutes))} ms = ${fmt(ours / 1e6, 3)} M/s; netlink pkg ${fmt(median(r.pkgRoutes))} ms = ${fmt(theirs / 1e6, 3)} M/s; ip -j (whole process) ${fmt(median(r.ipRoutes))} ms = ${fmt(ip / 1e6, 3)} M/s`)
  console.log(`links:  ours ${counts.links} in ${fmt(median(r.oursLinks))} ms = ${fmt(linksOurs / 1e3, 1)} k/s; netlink pkg ${fmt(median(r.pkgLinks))} ms = ${fmt(linksPkg / 1e3, 1)} k/s`)
  console.log(`decode_ratio_vs_netlink_pkg=${fmt(ours / theirs)} decode_ratio_vs_iproute2=${fmt(ours / ip)} routes_per_s=${Math.round(ours)}`)
} finally {
  cleanup()
}

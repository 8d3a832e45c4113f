// Differential tests against the official bridge plugin (Debian 1.1.1 in
// /usr/lib/cni, with its host-local): the same configs run in twin node
// namespaces must leave the same kernel state (links, masters, MTUs,
// addresses, routes, sysctls) and print results of the same structure.
// cniVersion <= 1.0.0: the Debian binaries do not speak 1.1.0.
//
// Deliberate differences, asserted as such:
// - our host veth has IPv6 disabled (no link-local address, no fe80::/64
//   route): a bridge port needs no IPv6 address, and this avoids the MLD/ND
//   traffic of every port coming up;
// - keep_addr_on_down=1 on an IPv6 container interface (upstream >= v1.7.0
//   does this too; the Debian 1.1.1 binary predates it);
// - 1.0.0 results print sorted keys without an empty dns (upstream >= v1.6.0),
//   so results are compared structurally.
import t from 'tap'
import { existsSync } from 'node:fs'
import {
  BIN_DIR, OFFICIAL_BRIDGE, OFFICIAL_DIR, addresses, bridgeConfig, ip, ipFiles, ipJson, links, makeNamespace, makeTempDir, nsPath, routes,
  runPlugin, skipReason, sysctl
} from '../helpers/bridge.js'

const skip = skipReason() ?? (existsSync(OFFICIAL_BRIDGE) ? undefined : `the official plugin ${OFFICIAL_BRIDGE} is not installed (containernetworking-plugins)`)
if (skip !== undefined) t.plan(0, skip)

const VETH = /^veth[0-9a-f]{8}$/
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/

interface Side {
  label: string
  plugin: string
  path: string
  node: string
  pod: string
  dataDir: string
}

function side (t: Tap.Test, label: string, plugin: string, path: string): Side {
  return { label, plugin, path, node: makeNamespace(t, `${label}-node`), pod: makeNamespace(t, `${label}-pod`), dataDir: makeTempDir(t, label) }
}

function run (s: Side, command: string, conf: Record<string, unknown>, containerId: string, ifname: string): ReturnType<typeof runPlugin> {
  const c = structuredClone(conf)
  if (c.ipam !== undefined) (c.ipam as Record<string, unknown>).dataDir = s.dataDir
  return runPlugin({ plugin: s.plugin, path: s.path, node: s.node, command, containerId, netns: nsPath(s.pod), ifname, config: c })
}

const devName = (n: string | undefined): string | undefined => n !== undefined && VETH.test(n) ? 'VETH' : n

/** The node's links, normalised (host veth names vary). */
function nodeLinks (ns: string): unknown[] {
  return links(ns).map(l => ({
    name: devName(l.ifname),
    kind: l.linkinfo?.info_kind,
    master: l.master,
    mtu: l.mtu,
    up: l.flags.includes('UP'),
    operstate: l.operstate,
    promisc: l.flags.includes('PROMISC'),
    vlanFiltering: l.linkinfo?.info_data?.vlan_filtering,
    hairpin: l.linkinfo?.info_slave_data?.hairpin
  })).sort((a, b) => String(a.name).localeCompare(String(b.name)))
}

function globalAddrs (ns: string, dev: string): string[] {
  return addresses(ns, dev).filter(a => a.scope !== 'link').map(a => `${a.local}/${a.prefixlen} brd ${a.broadcast ?? '-'}`).sort()
}

function hasLinkLocal (ns: string, dev: string): boolean {
  return addresses(ns, dev).some(a => a.scope === 'link')
}

/** Routes of both families, normalised; fe80::/64 routes of host veths left out (see the header). */
function routeTable (ns: string): string[] {
  return [...routes(ns, '-4', 'table', 'all'), ...routes(ns, '-6', 'table', 'all')]
    .filter(r => !((r.dst === 'fe80::/64' || r.dst === 'fe80::') && VETH.test(r.dev ?? '')))
    .filter(r => r.type !== 'local' && r.type !== 'multicast' && r.type !== 'broadcast')
    .map(r => JSON.stringify({ ...r, dev: devName(r.dev), expires: undefined }))
    .sort()
}

/**
 * Waits (at most 5 s) until no address in the namespaces is tentative (IPv6
 * DAD joins anycast routes when it completes) and the bridges' operstate
 * caught up (the kernel's linkwatch delays a bridge's change up to 1 s), so
 * that the two sides are compared settled, not mid-way.
 */
async function settle (...namespaces: string[]): Promise<void> {
  const deadline = Date.now() + 5000
  const busy = (ns: string): boolean =>
    (ipJson(ns, 'addr', 'show') as any[]).some(l => (l.addr_info as any[]).some(a => a.tentative === true)) ||
    links(ns).some(l => l.linkinfo?.info_kind === 'bridge' && l.operstate === (links(ns).some(p => p.master === l.ifname && p.operstate === 'UP') ? 'DOWN' : 'UP'))
  while (Date.now() < deadline && namespaces.some(busy)) await new Promise(resolve => setTimeout(resolve, 100))
}

function hostVethNames (ns: string): string[] {
  return links(ns).filter(l => VETH.test(l.ifname)).map(l => l.ifname)
}

function sysctls (s: Side, ifnames: string[], bridge: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding', `net/ipv6/conf/${bridge}/accept_ra`]) out[`node ${k}`] = sysctl(s.node, k)
  hostVethNames(s.node).forEach((v, i) => { out[`node veth${i} accept_ra`] = sysctl(s.node, `net/ipv6/conf/${v}/accept_ra`) })
  for (const i of ifnames) {
    for (const k of [`net/ipv6/conf/${i}/accept_dad`, `net/ipv6/conf/${i}/enhanced_dad`, `net/ipv4/conf/${i}/arp_notify`, `net/ipv6/conf/${i}/disable_ipv6`, 'net/ipv6/conf/lo/disable_ipv6']) {
      out[`pod ${k}`] = sysctl(s.pod, k)
    }
  }
  return out
}

/** A result with sorted keys, no empty dns, MACs checked and replaced, veth names and sandbox normalised. */
function normaliseResult (t: Tap.Test, r: any, pod: string): unknown {
  const walk = (v: any, key?: string): any => {
    if (Array.isArray(v)) return v.map(x => walk(x))
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(v).sort()) {
        if (k === 'dns' && Object.keys(v[k]).length === 0) continue
        out[k] = walk(v[k], k)
      }
      return out
    }
    if (key === 'mac') { t.match(v, MAC, 'a 17-character MAC'); return 'MAC' }
    if (key === 'name') return devName(v)
    if (key === 'sandbox') { t.equal(v, nsPath(pod)); return 'POD' }
    return v
  }
  return walk(r)
}

interface Scenario { name: string, conf: Record<string, unknown>, containers: Array<[string, string]>, dualStack?: boolean }

const v4 = { type: 'host-local', subnet: '10.77.0.0/24' }
const dual = { type: 'host-local', ranges: [[{ subnet: '10.77.0.0/24' }], [{ subnet: 'fd00:77::/64' }]] }

const SCENARIOS: Scenario[] = [
  { name: 'L3 defaults', conf: { ipam: v4 }, containers: [['c1', 'eth0'], ['c2', 'eth1']] },
  { name: 'dual stack, isDefaultGateway, mtu, hairpin', conf: { isDefaultGateway: true, mtu: 1400, hairpinMode: true, ipam: dual }, containers: [['c1', 'eth0'], ['c2', 'eth1']], dualStack: true },
  { name: 'isGateway with IPAM routes (one without gw)', conf: { isGateway: true, ipam: { ...v4, routes: [{ dst: '10.200.0.0/16' }, { dst: '10.201.0.0/16', gw: '10.77.0.254' }] } }, containers: [['c1', 'eth0']] },
  { name: 'L2', conf: {}, containers: [['c1', 'eth0'], ['c2', 'eth1']] },
  { name: 'promiscMode, IPv6 only, enabledad', conf: { promiscMode: true, isGateway: true, enabledad: true, ipam: { type: 'host-local', subnet: 'fd00:78::/64' } }, containers: [['c1', 'eth0']], dualStack: true }
]

for (const sc of SCENARIOS) {
  t.test(sc.name, async t => {
    const official = side(t, 'off', OFFICIAL_BRIDGE, OFFICIAL_DIR)
    const ours = side(t, 'our', join(BIN_DIR, 'bridge'), BIN_DIR)
    const conf = bridgeConfig({ bridge: 'tbr0', name: 'dnet', extra: sc.conf })
    const before = { official: nodeLinks(official.node), ours: nodeLinks(ours.node) }

    const results: Record<string, unknown[]> = { official: [], ours: [] }
    for (const s of [official, ours]) {
      for (const [id, ifname] of sc.containers) {
        const r = run(s, 'ADD', conf, id, ifname)
        t.equal(r.code, 0, `${s.label} ADD ${id}${r.code !== 0 ? `: ${r.stdout}${r.stderr}` : ''}`)
        results[s.label === 'off' ? 'official' : 'ours']!.push(normaliseResult(t, r.json, s.pod))
      }
    }
    t.same(results.ours, results.official, 'same result structure')
    await settle(official.node, official.pod, ours.node, ours.pod)
    t.same(nodeLinks(ours.node), nodeLinks(official.node), 'same node links (kinds, masters, MTUs, flags)')
    t.same(globalAddrs(ours.node, 'tbr0'), globalAddrs(official.node, 'tbr0'), 'same bridge addresses')
    t.equal(hasLinkLocal(ours.node, 'tbr0'), hasLinkLocal(official.node, 'tbr0'), 'bridge link-local alike')
    t.same(routeTable(ours.node), routeTable(official.node), 'same node routes')
    for (const v of hostVethNames(ours.node)) {
      t.same(addresses(ours.node, v), [], `our host veth ${v} has no address (deliberate)`)
    }
    for (const v of hostVethNames(official.node)) t.ok(hasLinkLocal(official.node, v), 'the official host veth has a link-local address')

    const ifnames = sc.containers.map(c => c[1])
    for (const i of ifnames) {
      const pick = (ns: string): unknown => links(ns).filter(l => l.ifname === i).map(l => ({ kind: l.linkinfo?.info_kind, mtu: l.mtu, up: l.flags.includes('UP'), operstate: l.operstate }))
      t.same(pick(ours.pod), pick(official.pod), `same container interface ${i}`)
      t.same(globalAddrs(ours.pod, i), globalAddrs(official.pod, i), `same addresses on ${i}`)
      t.equal(hasLinkLocal(ours.pod, i), hasLinkLocal(official.pod, i), `link-local on ${i} alike`)
      if (sc.dualStack === true) t.equal(sysctl(ours.pod, `net/ipv6/conf/${i}/keep_addr_on_down`), '1', 'keep_addr_on_down (upstream >= 1.7.0)')
    }
    t.same(routeTable(ours.pod), routeTable(official.pod), 'same container routes (dst, gateway, protocol, scope, metric)')
    t.same(sysctls(ours, ifnames, 'tbr0'), sysctls(official, ifnames, 'tbr0'), 'same sysctls')
    t.same(ipFiles(ours.dataDir, 'dnet'), ipFiles(official.dataDir, 'dnet'), 'same reservations')

    for (const s of [official, ours]) {
      for (const [id, ifname] of sc.containers) t.equal(run(s, 'DEL', conf, id, ifname).code, 0, `${s.label} DEL ${id}`)
    }
    await settle(official.node, ours.node)
    t.same(nodeLinks(ours.node), nodeLinks(official.node), 'same node links after DEL')
    t.same(ipFiles(ours.dataDir, 'dnet'), [], 'our reservations released')
    t.same(ipFiles(official.dataDir, 'dnet'), [], 'official reservations released')
    t.same(before.ours, before.official)
  })
}

t.test('same error texts for a bridge address conflict and a non-bridge link', async t => {
  const official = side(t, 'off', OFFICIAL_BRIDGE, OFFICIAL_DIR)
  const ours = side(t, 'our', join(BIN_DIR, 'bridge'), BIN_DIR)
  const conf = bridgeConfig({ bridge: 'tbr0', name: 'dnet', extra: { isGateway: true, ipam: v4 } })
  for (const s of [official, ours]) {
    ip(s.node, 'link', 'add', 'tbr0', 'type', 'bridge')
    ip(s.node, 'addr', 'add', '10.99.0.1/24', 'dev', 'tbr0')
  }
  const a = run(official, 'ADD', conf, 'c1', 'eth0')
  const b = run(ours, 'ADD', conf, 'c1', 'eth0')
  t.equal(a.code, 1)
  t.equal(b.code, 1)
  t.equal(b.json?.msg, a.json?.msg, 'address conflict text')
  t.same(ipFiles(ours.dataDir, 'dnet'), ipFiles(official.dataDir, 'dnet'), 'both released the IP')

  const conf2 = bridgeConfig({ bridge: 'tbr1', name: 'dnet', extra: { ipam: v4 } })
  for (const s of [official, ours]) ip(s.node, 'link', 'add', 'tbr1', 'type', 'veth', 'peer', 'name', 'tbr1p')
  const c = run(official, 'ADD', conf2, 'c2', 'eth1')
  const d = run(ours, 'ADD', conf2, 'c2', 'eth1')
  t.equal(d.json?.msg, c.json?.msg, 'not-a-bridge text')
})

function join (...parts: string[]): string { return parts.join('/') }

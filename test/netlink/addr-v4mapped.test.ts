// One answer for an IPv4-mapped IPv6 address (::ffff:a.b.c.d): it is IPv4,
// as Go's net package says (IP.To4: `len(ip) == IPv6len && isZeros(ip[0:10])
// && ip[10] == 0xff && ip[11] == 0xff` → ip[12:16]; IP.String: "dotted
// decimal, if ip is an IPv4 or IP4-mapped IPv6 address"; IPNet.Contains and
// IPNet.String unmap with To4 and keep the mask's last 32 bits), and so every
// upstream plugin that asks `To4() != nil` (bridge calcGateways, host-local
// canonicalizeIP). Checked through the entry points of each module that used
// to have its own rule (bridge ipnet, cni result, ipam ip, netlink addr).
// Expected values come from the Debian Go plugins (static, host-local) run on
// the same input, and from Go's source where no Go binary shows it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  canonicalCIDR, canonicalIP, canonicalPrefix, firstHost, formatAddress, formatIP, formatIPNet, formatIPText, isIPv4Text,
  netContains, parseCIDRText, parseIP, parseIPNet, parseIPText, to4
} from '../../src/netlink/addr.js'
import { convertResult, formatResult, ipVersionOf, parseResult } from '../../src/cni/result.js'
import { calcGateways } from '../../src/plugins/bridge/gateways.js'
import { loadIPAMConfig } from '../../src/ipam/config.js'
import type { IPConfig, Route } from '../../src/cni/result.js'

const OFFICIAL = '/usr/lib/cni'
const MAPPED = '::ffff:10.0.0.5/120'
const MAPPED_GW = '::ffff:10.0.0.1'
const MAPPED_ROUTE = '::ffff:10.9.0.0/112'

function runGo (plugin: string, version: string, ipam: Record<string, unknown>, cniArgs = ''): Record<string, any> {
  const r = spawnSync(join(OFFICIAL, plugin), [], {
    input: JSON.stringify({ cniVersion: version, name: 'n', ipam: { type: plugin, ...ipam } }),
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: OFFICIAL, CNI_ARGS: cniArgs }
  })
  if (r.status !== 0) throw new Error(`${plugin} ${version}: ${r.stdout.toString()}${r.stderr.toString()}`)
  return JSON.parse(r.stdout.toString())
}

const haveStatic = existsSync(join(OFFICIAL, 'static'))
const haveHostLocal = existsSync(join(OFFICIAL, 'host-local'))

t.test('netlink addr: the bytes stay as written, To4 unmaps them', async t => {
  const b = parseIP(MAPPED_GW)!
  // Go's net.ParseIP returns the 16-byte form too; To4 gives the last 4.
  t.equal(b.length, 16)
  t.same([...to4(b)!], [10, 0, 0, 1], 'To4: ip[12:16]')
  t.equal(to4(parseIP('::fffe:10.0.0.1')!), undefined, 'not mapped: not IPv4')
  t.equal(to4(parseIP('0:0:0:0:1:ffff:a00:1')!), undefined, 'bytes 0-9 must be zero')
  // The kernel's text (inet_ntop, iproute2) keeps the mapped form; Go's prints dotted.
  t.equal(formatIP(b, 0, 16), MAPPED_GW)
  t.equal(formatAddress(b), '10.0.0.1', 'IP.String: dotted decimal for an IP4-mapped IPv6 address')
})

t.test('cni result: the Go static plugin and we print the same result', { skip: haveStatic ? false : 'no Go static plugin' }, async t => {
  const ipam = {
    addresses: [{ address: MAPPED, gateway: MAPPED_GW }, { address: 'fd00::5/64' }],
    routes: [{ dst: MAPPED_ROUTE, gw: MAPPED_GW }]
  }
  const go040 = runGo('static', '0.4.0', ipam)
  const ours = parseResult({ cniVersion: '1.0.0', ips: ipam.addresses, routes: ipam.routes }, '1.0.0')
  t.equal(ipVersionOf(MAPPED), go040.ips[0].version, 'ipVersionOf')
  t.equal(go040.ips[0].version, '4')
  t.equal(canonicalCIDR(MAPPED), go040.ips[0].address, 'canonicalCIDR')
  t.equal(canonicalIP(MAPPED_GW), go040.ips[0].gateway, 'canonicalIP')
  for (const v of ['0.4.0', '0.2.0']) {
    t.same(JSON.parse(formatResult(convertResult(ours, v))), runGo('static', v, ipam), `parseResult + convertResult to ${v}`)
  }
  // The Debian plugins (lib < 1.6) print an empty dns in 1.x results; newer ones, and we, leave it out.
  const { dns, ...go100 } = runGo('static', '1.0.0', ipam)
  t.same(dns, {})
  t.same(JSON.parse(formatResult(convertResult(ours, '1.0.0'))), go100, 'parseResult 1.0.0')
})

t.test('bridge: a v4-mapped container address is IPv4 (calcGateways: To4() != nil)', { skip: haveStatic ? false : 'no Go static plugin' }, async t => {
  const go = runGo('static', '1.0.0', { addresses: [{ address: MAPPED, gateway: MAPPED_GW }], routes: [{ dst: MAPPED_ROUTE }] })
  t.equal(isIPv4Text(MAPPED), true, 'isIPv4Text')
  t.equal(isIPv4Text(MAPPED_GW), true)
  t.equal(isIPv4Text('fd00::5/64'), false)
  t.equal(canonicalPrefix(MAPPED_ROUTE), go.routes[0].dst, 'canonicalPrefix: IPNet.String()')
  const net = parseIPNet(MAPPED)!
  t.equal(formatIPNet(net), go.ips[0].address, 'parseIPNet: IPv4, the mask in IPv4 bits')
  // Upstream's calcGatewayIP: ipn.IP.Mask(ipn.Mask) then ip.NextIP; Go prints the result dotted.
  t.equal(formatAddress(firstHost(net)), go.ips[0].gateway, 'firstHost')
  t.ok(netContains(parseIPNet('10.0.0.0/24')!, parseIP('::ffff:10.0.0.7')!), 'IPNet.Contains unmaps the address')
  t.ok(netContains(net, parseIP('10.0.0.7')!), 'and the net')
  t.notOk(netContains(parseIPNet('fd00::/64')!, parseIP('::ffff:10.0.0.7')!), 'an IPv6 net never holds it')
  // calcGateways: `case ipc.Address.IP.To4() != nil: gws = gwsV4 … defaultNet.IP = net.IPv4zero`.
  const ips: IPConfig[] = [{ address: MAPPED }]
  const routes: Route[] = []
  const plan = calcGateways(ips, routes, { isGateway: true, isDefaultGateway: true })
  t.equal(ips[0]!.gateway, go.ips[0].gateway, 'the gateway is network + 1')
  t.same(routes, [{ dst: '0.0.0.0/0', gw: go.ips[0].gateway }], 'the IPv4 default route')
  t.same(plan.v4.gateways.map(formatIPNet), [`${go.ips[0].gateway as string}/24`], 'an IPv4 gateway on the bridge')
  t.same(plan.v6.gateways, [])
})

t.test('ipam: the Go host-local takes a v4-mapped CNI_ARGS IP from the IPv4 range', { skip: haveHostLocal ? false : 'no Go host-local' }, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-v4mapped-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const ranges = [[{ subnet: '10.1.2.0/24' }], [{ subnet: 'fd00:1::/64' }]]
  const go = runGo('host-local', '1.0.0', { dataDir: dir, ranges }, 'IP=::ffff:10.1.2.9')
  const goAddress = String(go.ips[0].address).split('/')[0]!
  const ip = parseIPText('::ffff:10.1.2.9')!
  t.equal(ip.family, 4, 'parseIPText')
  t.equal(formatIPText(ip), goAddress, 'formatIPText: the store file name Go writes')
  t.ok(existsSync(join(dir, 'n', goAddress)), 'Go\'s store file has that name')
  const conf = await loadIPAMConfig({ cniVersion: '1.0.0', name: 'n', ipam: { type: 'host-local', dataDir: dir, ranges } },
    { name: 'n', cniVersion: '1.0.0', cniArgs: 'IP=::ffff:10.1.2.9' })
  t.same(conf.requestedIPs.map(r => formatIPText(r.ip)), [goAddress], 'loadIPAMConfig: requested as IPv4')
  t.ok(conf.rangeSets[0]!.rangeFor(conf.requestedIPs[0]!.ip), 'in the IPv4 range set')
  // canonicalizeIP makes the subnet IPv4 while its mask stays 128 bits: upstream's version mismatch.
  t.equal(parseCIDRText('::ffff:10.1.2.0/120')?.maskBits, 128)
})

// LinkService against the running kernel, in throwaway namespaces, with
// `ip -j -d link show` and `bridge -j -d link show` as independent oracles.
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { NetNamespace } from '../../src/netlink/netns.js'
import { NetlinkSocket } from '../../src/netlink/socket.js'
import { createNamespace } from '../helpers/netns.js'
import { NetlinkError, isErrno } from '../../src/netlink/errors.js'
import { KernelFeatureError, LinkService, buildGetLinkRequest } from '../../src/netlink/route/links.js'
import { MACVLAN_MODE_BRIDGE } from '../../src/netlink/route/kinds/macvlan.js'
import { IN6_ADDR_GEN_MODE_NONE, IPV4_DEVCONF_ARP_NOTIFY, decodeLinkMessage } from '../../src/netlink/route/link.js'
import { RTM_NEWLINK } from '../../src/netlink/route/rtnetlink.js'
import { readSysctl } from '../../src/netlink/netns.js'

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root: creates network namespaces and links')
  process.exit(0)
}

let counter = 0
const uniqueName = (tag: string): string => `tl${tag}${process.pid}x${counter++}`

interface IpLink {
  ifindex: number
  ifname: string
  mtu: number
  flags: string[]
  address?: string
  master?: string
  promiscuity?: number
  link_netnsid?: number
  linkinfo?: { info_kind?: string, info_data?: Record<string, unknown>, info_slave_kind?: string, info_slave_data?: Record<string, unknown> }
}

function run (cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}
/** `ip -j -d link show [dev X]` in a namespace; [] when the device is missing. */
function ipLinks (ns: string, ...args: string[]): IpLink[] {
  try {
    return JSON.parse(run('ip', ['-n', ns, '-j', '-d', 'link', 'show', ...args])) as IpLink[]
  } catch (err) {
    if (/does not exist/.test(String((err as { stderr?: string }).stderr))) return []
    throw err
  }
}
const ipLink = (ns: string, dev: string): IpLink | undefined => ipLinks(ns, 'dev', dev)[0]
const bridgePort = (ns: string, dev: string): Record<string, unknown> | undefined =>
  (JSON.parse(run('bridge', ['-n', ns, '-j', '-d', 'link', 'show', 'dev', dev])) as Array<Record<string, unknown>>)[0]

/** Two fresh namespaces, a LinkService in each; everything removed at teardown. */
function setup (t: Test): { a: string, b: string, nsA: NetNamespace, nsB: NetNamespace, links: LinkService, linksB: LinkService } {
  const a = uniqueName('a'); const b = uniqueName('b')
  const nsA = createNamespace(a)
  t.teardown(() => { nsA.close(); NetNamespace.delete(a) })
  const nsB = createNamespace(b)
  t.teardown(() => { nsB.close(); NetNamespace.delete(b) })
  const sockA = NetlinkSocket.open({ namespace: nsA, extendedAck: true })
  t.teardown(() => { sockA.close() })
  const sockB = NetlinkSocket.open({ namespace: nsB })
  t.teardown(() => { sockB.close() })
  return { a, b, nsA, nsB, links: new LinkService(sockA), linksB: new LinkService(sockB) }
}

t.test('bridge, veth with the peer created in another namespace, master, up/down, mtu, mac, promisc', async t => {
  const { a, b, nsA, nsB, links, linksB } = setup(t)

  await links.createBridge({ name: 'br0', mtu: 1400 })
  const brIp = ipLink(a, 'br0')!
  t.equal(brIp.linkinfo?.info_kind, 'bridge')
  t.equal(brIp.mtu, 1400)
  const br = await links.get('br0')
  t.match(br, { index: brIp.ifindex, name: 'br0', kind: 'bridge', mtu: 1400, mac: brIp.address, up: false, bridge: { vlanFiltering: false, stpState: 0 } })
  t.equal(br.bridge?.forwardDelay, brIp.linkinfo?.info_data?.forward_delay)

  await links.createVeth({ name: 'veth0', peerName: 'eth0', peerNamespace: nsB, mtu: 1400, peerMac: '02:00:00:00:0e:01' })
  const vethIp = ipLink(a, 'veth0')!
  t.equal(vethIp.linkinfo?.info_kind, 'veth')
  t.equal(vethIp.mtu, 1400)
  t.equal(typeof vethIp.link_netnsid, 'number', 'the peer is in another namespace')
  t.equal(ipLink(a, 'eth0'), undefined, 'no eth0 here')
  const peerIp = ipLink(b, 'eth0')!
  t.match(peerIp, { mtu: 1400, address: '02:00:00:00:0e:01', linkinfo: { info_kind: 'veth' } })
  const veth = await links.get('veth0')
  t.match(veth, { index: vethIp.ifindex, kind: 'veth', mtu: 1400, parentIndex: peerIp.ifindex, linkNetnsId: vethIp.link_netnsid })
  const peer = await linksB.get('eth0')
  t.equal(peer.parentIndex, vethIp.ifindex, "the peer's IFLA_LINK is veth0's index")
  t.equal(await links.find('eth0'), undefined)
  t.ok(nsA.fd > 0 && nsB.fd > 0)

  await links.setMaster('veth0', 'br0')
  t.equal(ipLink(a, 'veth0')?.master, 'br0')
  t.match(await links.get(vethIp.ifindex), { master: br.index, slaveKind: 'bridge', bridgePort: { hairpin: false, learning: true } })
  t.same((await links.list({ master: 'br0' })).map(l => l.name), ['veth0'])
  t.same((await links.list({ kind: 'bridge' })).map(l => l.name), ['br0'])

  await links.setUp('veth0')
  await links.setUp(br.index)
  t.ok(ipLink(a, 'veth0')?.flags.includes('UP'))
  t.equal((await links.get('veth0')).up, true)
  await links.setDown('veth0')
  t.notOk(ipLink(a, 'veth0')?.flags.includes('UP'))
  t.equal((await links.get('veth0')).up, false)

  await links.setMTU('veth0', 1300)
  t.equal(ipLink(a, 'veth0')?.mtu, 1300)
  await links.setMAC('veth0', '02:11:22:33:44:55')
  t.equal(ipLink(a, 'veth0')?.address, '02:11:22:33:44:55')
  t.equal((await links.get('veth0')).mac, '02:11:22:33:44:55')

  await links.setPromisc('br0', true)
  t.ok(ipLink(a, 'br0')?.flags.includes('PROMISC'))
  t.equal(((await links.get('br0')).flags & 0x100) !== 0, true)
  await links.setPromisc('br0', false)
  t.notOk(ipLink(a, 'br0')?.flags.includes('PROMISC'))

  await links.setMaster('veth0', null)
  t.equal(ipLink(a, 'veth0')?.master, undefined)
  t.equal((await links.get('veth0')).master, undefined)

  // list() agrees with ip on every link of the namespace
  const ours = (await links.list()).map(l => [l.index, l.name, l.kind ?? null, l.mtu])
  const theirs = ipLinks(a).map(l => [l.ifindex, l.ifname, l.linkinfo?.info_kind ?? null, l.mtu])
  t.same(ours, theirs)
})

t.test('setMaster with up: enslaved and up in one request', async t => {
  const { a, links } = setup(t)
  await links.createBridge({ name: 'br0' })
  await links.createVeth({ name: 'veth0', peerName: 'veth1' })
  const veth = await links.get('veth0')
  const requests: string[] = []
  const ack = links.socket.ack.bind(links.socket)
  links.socket.ack = async (req, operation) => { requests.push(operation); return await ack(req, operation) }
  t.teardown(() => { links.socket.ack = ack })
  await links.setMaster(veth.index, 'br0', { up: true })
  t.same(requests, [`RTM_NEWLINK set ifindex ${veth.index} master br0 up`], 'one request')
  const ip = ipLink(a, 'veth0')
  t.equal(ip?.master, 'br0', 'ip sees the master')
  t.ok(ip?.flags.includes('UP'), 'ip sees it up')
  await links.setMaster('veth0', null, { up: false })
  t.equal(ipLink(a, 'veth0')?.master, undefined, 'released')
  t.notOk(ipLink(a, 'veth0')?.flags.includes('UP'), 'and down')
})

t.test('IPv4 devconf and the IPv6 address generation mode over netlink (no /proc/sys)', async t => {
  const { a, nsA, links } = setup(t)
  await links.createVeth({ name: 'veth0', peerName: 'veth1' })
  const before = readSysctl('net/ipv4/conf/veth0/arp_notify', nsA)
  await links.setInetConf('veth0', { [IPV4_DEVCONF_ARP_NOTIFY]: 1 })
  t.equal(before, '0')
  t.equal(readSysctl('net/ipv4/conf/veth0/arp_notify', nsA), '1', 'the kernel reports it in /proc/sys')
  t.equal(readSysctl('net/ipv4/conf/veth1/arp_notify', nsA), '0', 'the peer untouched')
  await links.setAddrGenMode('veth0', IN6_ADDR_GEN_MODE_NONE)
  t.equal((ipLink(a, 'veth0') as unknown as Record<string, unknown>).inet6_addr_gen_mode, 'none', 'ip -d link show')
  // The kernel's reply carries both, decoded: conf[id - 1] is what /proc/sys says.
  const sock = NetlinkSocket.open({ namespace: nsA })
  t.teardown(() => { sock.close() })
  const index = (await links.get('veth0')).index
  const m = await sock.get(buildGetLinkRequest(index), (buf, type, start, end) => type === RTM_NEWLINK ? decodeLinkMessage(buf, start, end) : undefined, 'get veth0')
  const conf = m.attributes.families!.inet!.conf!
  t.equal(conf[IPV4_DEVCONF_ARP_NOTIFY - 1], 1)
  t.equal(String(conf[0]), readSysctl('net/ipv4/conf/veth0/forwarding', nsA), 'IPV4_DEVCONF_FORWARDING (id 1) as /proc/sys has it')
  t.equal(m.attributes.families!.inet6!.addrGenMode, IN6_ADDR_GEN_MODE_NONE)
  await t.rejects(links.setInetConf('veth0', { 9999: 1 }), /EINVAL|Invalid argument/, 'an id past IPV4_DEVCONF_MAX is refused by the kernel')
})

t.test('bridge port settings: hairpin, isolated, learning', async t => {
  const { a, links } = setup(t)
  await links.createBridge({ name: 'br0' })
  await links.createVeth({ name: 'veth0', peerName: 'veth1' })
  await links.setMaster('veth0', 'br0')
  await links.setBridgePort('veth0', { hairpin: true, isolated: true })
  t.match(bridgePort(a, 'veth0'), { hairpin: true, isolated: true, learning: true })
  t.match(ipLink(a, 'veth0')?.linkinfo?.info_slave_data, { hairpin: true, isolated: true })
  t.match((await links.get('veth0')).bridgePort, { hairpin: true, isolated: true, learning: true })
  await links.setBridgePort('veth0', { hairpin: false, learning: false })
  t.match(bridgePort(a, 'veth0'), { hairpin: false, isolated: true, learning: false })
  const ports = await links.listBridgePorts()
  t.same(ports.map(p => p.name), ['veth0'])
  t.match(ports[0]!.bridgePort, { hairpin: false, isolated: true, learning: false })
})

t.test('rename, move to another namespace, delete', async t => {
  const { a, b, nsB, links, linksB } = setup(t)
  await links.createVeth({ name: 'veth0', peerName: 'veth1', mac: '02:00:00:00:00:a0' })
  const before = await links.get('veth0')
  await links.rename('veth0', 'ren0')
  t.equal(ipLink(a, 'veth0'), undefined)
  t.equal(ipLink(a, 'ren0')?.ifindex, before.index)
  t.equal((await links.get(before.index)).name, 'ren0')

  await links.moveToNamespace('ren0', nsB)
  t.equal(ipLink(a, 'ren0'), undefined, 'gone from here')
  t.equal(ipLink(b, 'ren0')?.address, '02:00:00:00:00:a0', 'arrived there')
  t.equal((await linksB.get('ren0')).mac, '02:00:00:00:00:a0')

  await links.delete('veth1')
  t.equal(ipLink(a, 'veth1'), undefined)
  t.equal(ipLink(b, 'ren0'), undefined, 'deleting one end removes the pair')
  t.equal(await links.find('veth1'), undefined)
})

t.test('created up, with MACs on both ends; macvlan and vxlan through add()', async t => {
  const { a, links } = setup(t)
  await links.createVeth({ name: 'va', peerName: 'vb', mac: '02:00:00:00:00:01', peerMac: '02:00:00:00:00:02', up: true })
  t.equal(ipLink(a, 'va')?.address, '02:00:00:00:00:01')
  t.ok(ipLink(a, 'va')?.flags.includes('UP'), 'created up')
  t.notOk(ipLink(a, 'vb')?.flags.includes('UP'), 'the peer is not')
  t.equal(ipLink(a, 'vb')?.address, '02:00:00:00:00:02')
  await links.add({ name: 'mv0', kind: 'macvlan', parent: 'va', data: { mode: MACVLAN_MODE_BRIDGE } })
  t.match(ipLink(a, 'mv0')?.linkinfo, { info_kind: 'macvlan', info_data: { mode: 'bridge' } })
  t.match(await links.get('mv0'), { kind: 'macvlan', macvlan: { mode: 'bridge' }, parentIndex: (await links.get('va')).index })
  await links.add({ name: 'vx0', kind: 'vxlan', data: { id: 42, port: 4789, local: '10.9.9.9', learning: 0 } })
  t.match(ipLink(a, 'vx0')?.linkinfo, { info_kind: 'vxlan', info_data: { id: 42, port: 4789, local: '10.9.9.9', learning: false } })
  t.match((await links.get('vx0')).vxlan, { vni: 42, port: 4789, local: '10.9.9.9', learning: false })
})

t.test('a dump spanning many datagrams', async t => {
  const { a, links } = setup(t)
  const n = 150
  await Promise.all(Array.from({ length: n }, (_, i) => links.createVeth({ name: `p${i}a`, peerName: `p${i}b` })))
  const listed = await links.list({ kind: 'veth' })
  t.equal(listed.length, 2 * n)
  t.same(new Set(listed.map(l => l.name)), new Set(ipLinks(a, 'type', 'veth').map(l => l.ifname)))
  for (const l of listed) if (l.parentIndex === undefined || listed.find(p => p.index === l.parentIndex)?.parentIndex !== l.index) { t.fail(`${l.name}: peer index not mutual`); break }
})

t.test('errors name the operation, the interface and the namespace', async t => {
  const { a, links } = setup(t)
  await links.createBridge({ name: 'br0' })
  const exists = await links.createBridge({ name: 'br0' }).then(() => undefined, (e: unknown) => e)
  t.ok(exists instanceof NetlinkError)
  t.ok(isErrno(exists, 'EEXIST'))
  t.match((exists as NetlinkError).message, `RTM_NEWLINK bridge br0 in /var/run/netns/${a}: EEXIST`)

  const veth = await links.createVeth({ name: 'br0', peerName: 'x0' }).then(() => undefined, (e: unknown) => e)
  t.match(veth, { code: 'EEXIST', message: /RTM_NEWLINK veth br0 \(peer x0\)/ })

  const missing = await links.get('nope0').then(() => undefined, (e: unknown) => e)
  t.ok(isErrno(missing, 'ENODEV'))
  t.match((missing as NetlinkError).message, `RTM_GETLINK nope0 in /var/run/netns/${a}: ENODEV`)
  t.equal(await links.find('nope0'), undefined)
  t.equal(await links.find(99999), undefined)

  const up = await links.setUp('nope0').then(() => undefined, (e: unknown) => e)
  t.match(up, { code: 'ENODEV', message: /RTM_NEWLINK set nope0 up/ })
  const del = await links.delete('nope0').then(() => undefined, (e: unknown) => e)
  t.match(del, { code: 'ENODEV', message: /RTM_DELLINK nope0/ })
})

t.test('features this kernel lacks are named', async t => {
  const { a, links } = setup(t)
  await links.createBridge({ name: 'br0' })
  await links.createVeth({ name: 'veth0', peerName: 'veth1' })
  await links.setMaster('veth0', 'br0')
  const hasFiltering = run('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null | grep -c "^CONFIG_BRIDGE_VLAN_FILTERING=y" || true']).trim() === '1'

  const add = await links.addBridgeVlan('veth0', { vid: 10, pvid: true, untagged: true }).then(() => undefined, (e: unknown) => e)
  const filtering = await links.createBridge({ name: 'br1', vlanFiltering: true }).then(() => undefined, (e: unknown) => e)
  if (hasFiltering) {
    t.equal(add, undefined)
    t.match(run('bridge', ['-n', a, 'vlan', 'show', 'dev', 'veth0']), /10 PVID Egress Untagged/)
    t.same((await links.listBridgeVlans('veth0')).find(v => v.vid === 10), { vid: 10, pvid: true, untagged: true, flags: 6 })
    t.equal(filtering, undefined)
  } else {
    t.ok(add instanceof KernelFeatureError, 'bridge vlan add: KernelFeatureError')
    t.ok(isErrno(add, 'EOPNOTSUPP'))
    t.match((add as Error).message, `RTM_SETLINK AF_BRIDGE veth0 vlan add vid 10 pvid untagged in /var/run/netns/${a}: the kernel lacks bridge VLAN filtering`)
    // Deleting is accepted as a no-op (iproute2 gets the same ACK: fixtures/link/bridge-vlan-del.json).
    const del = await links.deleteBridgeVlan('veth0', 10).then(() => undefined, (e: unknown) => e)
    t.equal(del, undefined, 'bridge vlan del: acknowledged')
    t.ok(filtering instanceof KernelFeatureError, 'vlan_filtering 1: KernelFeatureError')
    t.match((filtering as Error).message, /RTM_NEWLINK bridge br1 .*lacks bridge VLAN filtering/)
    t.equal(ipLink(a, 'br1'), undefined, 'the refused bridge was not created')
    t.same(await links.listBridgeVlans('veth0'), [], 'no VLAN information without filtering')
  }

  const hasVlan = run('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null | grep -c "^CONFIG_VLAN_8021Q=y" || true']).trim() === '1'
  const vlan = await links.add({ name: 'veth0.10', kind: 'vlan', parent: 'veth0', data: { id: 10 } }).then(() => undefined, (e: unknown) => e)
  if (hasVlan) {
    t.match(ipLink(a, 'veth0.10')?.linkinfo, { info_kind: 'vlan', info_data: { id: 10 } })
  } else {
    t.ok(vlan instanceof KernelFeatureError)
    t.match((vlan as Error).message, /RTM_NEWLINK vlan veth0\.10 \(link veth0\) .*lacks the "vlan" link kind/)
  }
})

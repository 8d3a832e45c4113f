// Link codec, kind drivers and LinkService request builders against recorded
// iproute2 requests and kernel replies (fixtures/link/, see record.sh there).
import t from 'tap'
import { readdirSync } from 'node:fs'
import { loadFixture, normaliseSeqPid } from '../helpers/fixtures.js'
import { fuzzDecoder } from '../helpers/fuzz.js'
import { messagesOf } from '../helpers/route-codec.js'
import { NetlinkWriter, NLA_F_NESTED } from '../../src/netlink/attributes.js'
import { NetlinkDecodeError, NetlinkError } from '../../src/netlink/errors.js'
import { NLMSG_ERROR, decodeErrorMessage, forEachMessage } from '../../src/netlink/message.js'
import { AF_BRIDGE, AF_PACKET, RTEXT_FILTER_SKIP_STATS, RTEXT_FILTER_VF, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, RTM_SETLINK } from '../../src/netlink/route/rtnetlink.js'
import {
  ARPHRD_ETHER, ARPHRD_LOOPBACK, BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED, IFF_UP, IFLA_AF_SPEC, IFLA_INET_CONF, IFLA_LINKINFO, IFLA_PROTINFO,
  IF_OPER_DOWN, IN6_ADDR_GEN_MODE_NONE, IPV4_DEVCONF_ARP_NOTIFY, decodeLinkMessage, encodeLinkMessage, linkFlagNames, type LinkMessage
} from '../../src/netlink/route/link.js'
import { AF_INET, AF_INET6 } from '../../src/netlink/route/rtnetlink.js'
import { IFLA_BRPORT_MODE } from '../../src/netlink/route/kinds/bridge-port.js'
import { ETH_P_8021Q, type BridgeData } from '../../src/netlink/route/kinds/bridge.js'
import { MACVLAN_MODE_BRIDGE } from '../../src/netlink/route/kinds/macvlan.js'
import { registerLinkKind, linkKindDriver, linkKinds } from '../../src/netlink/route/kinds/registry.js'
import type { VethData } from '../../src/netlink/route/kinds/veth.js'
import type { AttributeSet } from '../../src/netlink/route/attribute-set.js'
import {
  KernelFeatureError, buildAddLinkRequest, buildBridgeDumpRequest, buildBridgeVlanDumpRequest, buildBridgeVlanRequest,
  buildCreateBridgeRequest, buildSetBridgeRequest, buildCreateVethRequest, buildDeleteLinkRequest, buildGetLinkRequest, buildListLinksRequest,
  buildSetBridgePortRequest, buildSetLinkRequest, linkFromMessage, type Link
} from '../../src/netlink/route/links.js'

const FIXTURES = readdirSync(new URL('../../fixtures/link/', import.meta.url)).filter(f => f.endsWith('.json')).map(f => f.slice(0, -5))

/** Every link message of a fixture, decoded. */
function linkMessages (name: string, keepOrder = false): Array<{ type: number, flags: number, message: LinkMessage }> {
  const f = loadFixture(`fixtures/link/${name}.json`)
  const out: Array<{ type: number, flags: number, message: LinkMessage }> = []
  forEachMessage(f.bytes, (type, flags, _seq, _pid, start, end) => {
    if (type !== NLMSG_ERROR) out.push({ type, flags, message: decodeLinkMessage(f.bytes, start, end, { keepOrder }) })
  })
  return out
}

/** Decodes every message of a fixture and encodes it again. */
function reencode (bytes: Buffer, keepOrder: boolean): Buffer {
  const w = new NetlinkWriter()
  forEachMessage(bytes, (type, flags, seq, pid, start, end) => {
    w.beginMessage(type, flags, seq, pid)
    if (type === NLMSG_ERROR) w.setBytes(w.reserve(end - start), bytes.subarray(start, end))
    else encodeLinkMessage(w, decodeLinkMessage(bytes, start, end, { keepOrder }))
    w.endMessage()
  })
  return Buffer.from(w.bytes())
}

const links = (name: string): Link[] => linkMessages(name).map(m => linkFromMessage(m.message))

t.test('the fixture set', async t => {
  t.ok(FIXTURES.length >= 20, `${FIXTURES.length} fixtures`)
  for (const name of FIXTURES) {
    const f = loadFixture(`fixtures/link/${name}.json`)
    t.match(f, { description: String, command: /^(ip|bridge) /, how: /strace/, recorded: /Linux/, direction: /^(request|reply)$/ }, name)
    t.ok(f.bytes.length >= 16, `${name} holds netlink bytes`)
  }
  const n = normaliseSeqPid(loadFixture('fixtures/link/dump-reply.json').bytes)
  forEachMessage(n, (_type, _flags, seq, pid) => { t.equal(seq + pid, 0, 'normaliseSeqPid zeroes seq and pid') })
})

// Each iproute2 request and the builder call that must produce the same bytes.
// Indices and namespace fds are the ones iproute2 used in its throwaway namespace.
const REQUESTS: Array<[string, () => Buffer]> = [
  ['add-bridge', () => buildCreateBridgeRequest({ name: 'br0' })],
  ['add-bridge-mtu', () => buildCreateBridgeRequest({ name: 'br0', mtu: 1400 })],
  ['add-bridge-vlan-filtering', () => buildCreateBridgeRequest({ name: 'br0', vlanFiltering: true })],
  ['add-bridge-group-fwd-mask', () => buildCreateBridgeRequest({ name: 'br0', mac: '02:00:00:00:00:42', groupFwdMask: 0x4000 })],
  ['set-bridge-group-fwd-mask', () => buildSetBridgeRequest(2, { groupFwdMask: 0x4000 })],
  ['add-veth', () => buildCreateVethRequest({ name: 'veth0', peerName: 'veth1' })],
  ['add-veth-peer-netns', () => buildCreateVethRequest({ name: 'veth0', peerName: 'eth0', peerNetNsFd: 4 })],
  ['add-vlan', () => buildAddLinkRequest({ name: 'veth0.10', kind: 'vlan', parent: 3, data: { id: 10 } })],
  ['add-macvlan', () => buildAddLinkRequest({ name: 'mv0', kind: 'macvlan', parent: 3, data: { mode: MACVLAN_MODE_BRIDGE } })],
  ['add-macvlan-full', () => buildAddLinkRequest({ name: 'mv0', kind: 'macvlan', parent: 3, mtu: 1400, mac: '02:00:00:00:00:33', txqlen: 500, data: { mode: MACVLAN_MODE_BRIDGE } })],
  ['add-vxlan', () => buildAddLinkRequest({ name: 'vx0', kind: 'vxlan', data: { link: 3, id: 42, local: '10.1.1.1', learning: 1, port: 4789 } })],
  ['set-master', () => buildSetLinkRequest(4, { master: 2 })],
  ['set-nomaster', () => buildSetLinkRequest(4, { master: 0 })],
  ['set-up', () => buildSetLinkRequest(3, { up: true })],
  ['set-down', () => buildSetLinkRequest(3, { up: false })],
  ['set-mtu', () => buildSetLinkRequest(3, { mtu: 1400 })],
  ['set-address', () => buildSetLinkRequest(3, { mac: '02:42:ac:11:00:02' })],
  ['set-promisc', () => buildSetLinkRequest(3, { promisc: true })],
  ['set-name', () => buildSetLinkRequest(3, { name: 'eth7' })],
  ['set-netns', () => buildSetLinkRequest(3, { netNsFd: 4 })],
  ['set-addrgenmode-none', () => buildSetLinkRequest(3, { addrGenMode: IN6_ADDR_GEN_MODE_NONE })],
  ['del', () => buildDeleteLinkRequest(3)],
  ['bridge-hairpin-on', () => buildSetBridgePortRequest(4, { hairpin: true })],
  ['bridge-isolated-on', () => buildSetBridgePortRequest(4, { isolated: true })],
  ['bridge-learning-off', () => buildSetBridgePortRequest(4, { learning: false })],
  ['bridge-port-many', () => buildSetBridgePortRequest(4, {
    isolated: true, learning: false, hairpin: true, guard: true, unicastFlood: false, cost: 5, priority: 3, state: 'forwarding',
    neighSuppress: true, mcastFlood: false, bcastFlood: false, rootBlock: true, fastLeave: true, learningSync: false, mcastToUnicast: true, vlanTunnel: false
  })],
  ['bridge-vlan-add', () => buildBridgeVlanRequest(4, { vid: 10, pvid: true, untagged: true }, 'add')],
  ['bridge-vlan-del', () => buildBridgeVlanRequest(4, { vid: 10 }, 'delete')],
  ['dump-request', () => buildListLinksRequest({ family: AF_PACKET, extMask: RTEXT_FILTER_VF })],
  ['get-request', () => buildGetLinkRequest(3, { extMask: RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS })],
  ['get-by-name-request', () => buildGetLinkRequest('veth1', { extMask: RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS })],
  ['bridge-dump-request', () => buildBridgeDumpRequest()],
  ['bridge-vlan-dump-request', () => buildBridgeVlanDumpRequest()]
]

t.test('builders reproduce iproute2 requests byte for byte', async t => {
  for (const [name, build] of REQUESTS) {
    const f = loadFixture(`fixtures/link/${name}.json`)
    t.equal(f.direction, 'request', name)
    t.equal(normaliseSeqPid(build()).toString('hex'), normaliseSeqPid(f.bytes).toString('hex'), `${name}: ${f.command}`)
  }
  const covered = new Set(REQUESTS.map(r => r[0]))
  const requests = FIXTURES.filter(n => loadFixture(`fixtures/link/${n}.json`).direction === 'request')
  t.same(requests.filter(n => !covered.has(n)), [], 'every recorded request has a builder check')
})

t.test('every fixture re-encodes to its own bytes', async t => {
  for (const name of FIXTURES) {
    const f = loadFixture(`fixtures/link/${name}.json`)
    t.equal(reencode(f.bytes, true).toString('hex'), f.hex, `${name}: decode (keepOrder) → encode`)
    // iproute2 writes attributes in our canonical order, so requests need no recorded order.
    if (f.direction === 'request') t.equal(reencode(f.bytes, false).toString('hex'), f.hex, `${name}: decode → canonical encode`)
  }
})

t.test('iproute2 requests decode to what was asked', async t => {
  const [veth] = linkMessages('add-veth-peer-netns')
  t.equal(veth!.type, RTM_NEWLINK)
  t.equal(veth!.flags, 0x605, 'REQUEST|ACK|EXCL|CREATE')
  t.same(veth!.message, {
    family: 0, type: 0, index: 0, flags: 0, change: 0,
    attributes: {
      ifname: 'veth0',
      linkInfo: { kind: 'veth', data: { peer: { family: 0, type: 0, index: 0, flags: 0, change: 0, attributes: { netNsFd: 4, ifname: 'eth0' } } } }
    }
  })
  t.same(linkMessages('add-vxlan')[0]!.message.attributes.linkInfo, { kind: 'vxlan', data: { link: 3, id: 42, local: '10.1.1.1', learning: 1, port: 4789 } })
  t.same(linkMessages('add-vlan')[0]!.message.attributes, { link: 3, ifname: 'veth0.10', linkInfo: { kind: 'vlan', data: { id: 10 } } })
  t.same(linkMessages('add-bridge-vlan-filtering')[0]!.message.attributes.linkInfo, { kind: 'bridge', data: { vlanFiltering: 1 } })
  const [hairpin] = linkMessages('bridge-hairpin-on', true)
  t.equal(hairpin!.type, RTM_SETLINK)
  t.same(hairpin!.message, { family: AF_BRIDGE, type: 0, index: 4, flags: 0, change: 0, attributes: { protinfo: { mode: 1, order: [IFLA_BRPORT_MODE] }, order: [IFLA_PROTINFO | NLA_F_NESTED] } })
  const [vlanAdd] = linkMessages('bridge-vlan-add')
  t.same(vlanAdd!.message.attributes.afSpec, { vlans: [{ flags: BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, vid: 10 }] })
  const [vlanDel] = linkMessages('bridge-vlan-del')
  t.equal(vlanDel!.type, RTM_DELLINK)
  t.same(vlanDel!.message.attributes.afSpec, { vlans: [{ flags: 0, vid: 10 }] })
  t.same(linkMessages('set-up')[0]!.message, { family: 0, type: 0, index: 3, flags: IFF_UP, change: IFF_UP, attributes: {} })
  t.same(linkMessages('get-by-name-request')[0]!.message.attributes, { extMask: RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS, ifname: 'veth1' })
  t.equal(linkMessages('get-request')[0]!.type, RTM_GETLINK)
})

t.test('IFLA_AF_SPEC of AF_UNSPEC messages: per family', async t => {
  t.same(linkMessages('set-addrgenmode-none')[0]!.message.attributes, { families: { inet6: { addrGenMode: IN6_ADDR_GEN_MODE_NONE } } })
  // Kernel replies: AF_INET's IFLA_INET_CONF is an array of every IPV4_DEVCONF_* value; AF_INET6 keeps its stats raw.
  const reply = linkMessages('get-veth-reply')[0]!.message.attributes.families!
  t.ok(reply.inet!.conf!.length >= IPV4_DEVCONF_ARP_NOTIFY, `${reply.inet!.conf!.length} IPv4 devconf values`)
  t.equal(reply.inet!.conf![IPV4_DEVCONF_ARP_NOTIFY - 1], 0, 'arp_notify as a fresh namespace has it')
  t.equal(reply.inet6!.addrGenMode, 0, 'eui64, the default')
  t.ok((reply.inet6!.unknown ?? []).length > 0, 'the rest of AF_INET6 stays raw')
  // Requests set IPv4 devconf as nested u32 attributes typed by id (the kernel's inet_set_link_af), not as the reply's array.
  const w = new NetlinkWriter(64)
  encodeLinkMessage(w, { family: 0, type: 0, index: 7, flags: 0, change: 0, attributes: { families: { inet: { setConf: { [IPV4_DEVCONF_ARP_NOTIFY]: 1 } } } } })
  const u32 = (v: number): string => Buffer.from(new Uint32Array([v]).buffer).toString('hex')
  const u16 = (v: number): string => Buffer.from(new Uint16Array([v]).buffer).toString('hex')
  t.equal(w.bytes().subarray(16).toString('hex'),
    u16(20) + u16(IFLA_AF_SPEC) + u16(16) + u16(AF_INET) + u16(12) + u16(IFLA_INET_CONF) + u16(8) + u16(IPV4_DEVCONF_ARP_NOTIFY) + u32(1))
  t.same(buildSetLinkRequest(3, { inetConf: { [IPV4_DEVCONF_ARP_NOTIFY]: 1 }, addrGenMode: 1 }).subarray(32), Buffer.concat([
    Buffer.from(u16(32) + u16(IFLA_AF_SPEC) + u16(16) + u16(AF_INET) + u16(12) + u16(IFLA_INET_CONF) + u16(8) + u16(IPV4_DEVCONF_ARP_NOTIFY) + u32(1), 'hex'),
    Buffer.from(u16(12) + u16(AF_INET6) + '0500080001000000', 'hex')
  ]), 'both families in one request, AF_INET first as the kernel orders them')
})

t.test('a link dump decodes to links', async t => {
  const dump = links('dump-reply')
  t.same(dump.map(l => [l.index, l.name, l.kind]), [[1, 'lo', undefined], [2, 'br0', 'bridge'], [3, 'veth0', 'veth'], [4, 'veth1p', 'veth'], [5, 'veth1', 'veth']])
  const [lo, br0, veth0, veth1p, veth1] = dump as [Link, Link, Link, Link, Link]
  t.same(lo, {
    index: 1, name: 'lo', type: ARPHRD_LOOPBACK, mtu: 65536, flags: 0x10049, up: true, lowerUp: true, operstate: 'unknown',
    mac: '00:00:00:00:00:00', broadcast: '00:00:00:00:00:00', txqlen: 1000, promiscuity: 0
  })
  t.same(linkFlagNames(lo.flags), ['UP', 'LOOPBACK', 'RUNNING', 'LOWER_UP'])
  t.same(br0, {
    index: 2, name: 'br0', type: ARPHRD_ETHER, mtu: 1500, flags: 0x11043, up: true, lowerUp: true, operstate: 'up', kind: 'bridge',
    mac: '02:00:00:00:00:10', broadcast: 'ff:ff:ff:ff:ff:ff', txqlen: 1000, promiscuity: 0,
    bridge: {
      vlanFiltering: false, stpState: 0, forwardDelay: 1500, helloTime: 200, maxAge: 2000, ageingTime: 30000, priority: 32768,
      mcastSnooping: true, groupFwdMask: 0, bridgeId: '8000.02:00:00:00:00:10'
    }
  })
  const port = {
    priority: 32, cost: 2, hairpin: false, guard: false, rootBlock: false, fastLeave: false, learning: true, unicastFlood: true,
    mcastFlood: true, bcastFlood: true, mcastToUnicast: false, proxyArp: false, neighSuppress: false, vlanTunnel: false, isolated: false, locked: false
  }
  // veth0's peer eth0 lives in the other namespace (nsid 0) as ifindex 2 there.
  t.same(veth0, {
    index: 3, name: 'veth0', type: ARPHRD_ETHER, mtu: 1500, flags: 0x1002, up: false, lowerUp: false, operstate: 'down', kind: 'veth',
    mac: '02:00:00:00:00:10', broadcast: 'ff:ff:ff:ff:ff:ff', master: 2, parentIndex: 2, linkNetnsId: 0, txqlen: 1000, promiscuity: 1,
    slaveKind: 'bridge', bridgePort: { state: 'disabled', ...port }
  })
  t.equal(veth1p.parentIndex, 5, 'veth1p points at its peer veth1')
  t.equal(veth1p.master, undefined)
  t.notOk('linkNetnsId' in veth1p, 'a peer in the same namespace has no link netnsid')
  t.equal(veth1.parentIndex, 4)
  t.same(veth1.bridgePort, { state: 'forwarding', ...port })
  // The codec level keeps what the friendly view leaves out.
  const brMsg = linkMessages('dump-reply')[1]!.message
  const data = brMsg.attributes.linkInfo!.data as BridgeData
  t.match(data, { groupAddr: '01:80:c2:00:00:00', rootId: '8000.02:00:00:00:00:10', multiBoolopt: { optval: 0, optmask: 31 }, mcastHashMax: 4096, mcastQueryIntvl: 12500 })
  t.ok(brMsg.attributes.unknown!.length > 0, 'stats and AF_SPEC are kept raw')
  t.equal(brMsg.attributes.operstate, 6)
})

t.test('a single RTM_GETLINK reply for a veth', async t => {
  const [m] = linkMessages('get-veth-reply')
  t.equal(m!.type, RTM_NEWLINK)
  t.match(linkFromMessage(m!.message), { name: 'veth1', kind: 'veth', mtu: 1400, up: false, operstate: 'down', parentIndex: 3, mac: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/ })
  t.equal(m!.message.attributes.operstate, IF_OPER_DOWN)
  t.same(m!.message.attributes.linkInfo, { kind: 'veth' }, 'the kernel does not report the peer in VETH_INFO_PEER')
})

t.test('an AF_BRIDGE dump decodes IFLA_PROTINFO', async t => {
  const ms = linkMessages('bridge-dump-reply')
  t.same(ms.map(m => m.message.family), [AF_BRIDGE, AF_BRIDGE])
  const [veth0, veth1] = ms.map(m => linkFromMessage(m.message)) as [Link, Link]
  t.match(veth0, { name: 'veth0', master: 2, bridgePort: { hairpin: true, isolated: false, state: 'disabled', learning: true } })
  t.match(veth1, { name: 'veth1', master: 2, bridgePort: { hairpin: false, isolated: true, state: 'forwarding' } })
  const p = ms[0]!.message.attributes.protinfo!
  t.match(p, { mode: 1, cost: 2, priority: 32, rootId: '8000.02:00:00:00:00:10', designatedPort: 32769, no: 1, mcastEhtHostsLimit: 512 })
  t.ok(p.unknown!.every(a => a.type > 39), 'only attributes newer than our headers stay raw')
})

t.test('kernel errors', async t => {
  const eexist = loadFixture('fixtures/link/eexist-reply.json')
  forEachMessage(eexist.bytes, (type, flags, _seq, _pid, start, end) => {
    t.equal(type, NLMSG_ERROR)
    const e = decodeErrorMessage(eexist.bytes, start, end, flags)
    t.equal(e.errno, 17)
    t.equal(e.request.type, RTM_NEWLINK)
    const err = new NetlinkError(e.errno, { operation: 'RTM_NEWLINK bridge br0', namespace: '/var/run/netns/x' })
    t.equal(err.code, 'EEXIST')
    t.match(err.message, /^RTM_NEWLINK bridge br0 in \/var\/run\/netns\/x: EEXIST/)
  })
  const unsupported = loadFixture('fixtures/link/eopnotsupp-vlan-reply.json')
  forEachMessage(unsupported.bytes, (_type, flags, _seq, _pid, start, end) => {
    const e = decodeErrorMessage(unsupported.bytes, start, end, flags)
    t.equal(e.errno, 95)
    t.equal(e.request.type, RTM_SETLINK)
    const err = new KernelFeatureError(new NetlinkError(e.errno, { operation: 'RTM_SETLINK AF_BRIDGE veth0 vlan add vid 10' }), 'bridge VLAN filtering')
    t.ok(err instanceof NetlinkError)
    t.equal(err.code, 'EOPNOTSUPP')
    t.equal(err.message, 'RTM_SETLINK AF_BRIDGE veth0 vlan add vid 10: the kernel lacks bridge VLAN filtering (EOPNOTSUPP: operation not supported)')
  })
})

t.test('kind drivers', async t => {
  t.same(linkKinds().sort(), ['bridge', 'macvlan', 'macvtap', 'veth', 'vlan', 'vxlan'])
  // vlan: flags struct and protocol round-trip
  const vlan = Buffer.from(buildAddLinkRequest({ name: 'v', kind: 'vlan', parent: 2, data: { id: 4094, protocol: ETH_P_8021Q, flags: { flags: 1, mask: 0xffffffff } } }))
  t.same(linkFromMessage(decodeLinkMessage(vlan, 16, vlan.length)).vlan, { id: 4094, protocol: ETH_P_8021Q, flags: 1 })
  // vxlan: IPv6 group, port range, flags
  const vx = buildAddLinkRequest({ name: 'x', kind: 'vxlan', data: { id: 7, group6: 'ff05::1', portRange: { low: 1000, high: 2000 }, gbp: true, label: 0x12345, ttl: 9 } })
  t.same(decodeLinkMessage(vx, 16, vx.length).attributes.linkInfo!.data, { id: 7, group6: 'ff05::1', ttl: 9, label: 0x12345, portRange: { low: 1000, high: 2000 }, gbp: true })
  t.match(linkFromMessage(decodeLinkMessage(vx, 16, vx.length)).vxlan, { vni: 7, group: 'ff05::1', ttl: 9 })
  // macvlan friendly mode name
  const mv = loadFixture('fixtures/link/add-macvlan.json').bytes
  t.same(linkFromMessage(decodeLinkMessage(mv, 16, mv.length)).macvlan, { mode: 'bridge' })
  // veth peer with its own MAC and MTU
  const veth = buildCreateVethRequest({ name: 'a', peerName: 'b', mtu: 1300, mac: '02:00:00:00:00:01', peerMac: '02:00:00:00:00:02', up: true })
  const vm = decodeLinkMessage(veth, 16, veth.length)
  t.equal(vm.flags & IFF_UP, IFF_UP)
  t.same((vm.attributes.linkInfo!.data as VethData).peer!.attributes, { mtu: 1300, address: '02:00:00:00:00:02', ifname: 'b' })
  // An unknown kind keeps IFLA_INFO_DATA raw and still round-trips.
  const w = new NetlinkWriter()
  w.beginMessage(RTM_NEWLINK, 0)
  const off = w.reserve(16)
  w.setU16(off + 2, 1)
  w.string(3, 'wg0')
  w.nested(IFLA_LINKINFO, w => { w.string(1, 'wireguard'); w.nested(2, w => { w.u32(1, 51820) }) })
  w.endMessage()
  const unknownKind = Buffer.from(w.bytes())
  const m = decodeLinkMessage(unknownKind, 16, unknownKind.length, { keepOrder: true })
  t.equal(m.attributes.linkInfo!.kind, 'wireguard')
  t.equal(m.attributes.linkInfo!.data, undefined)
  t.equal(m.attributes.linkInfo!.unknown!.length, 1)
  t.equal(reencode(unknownKind, true).toString('hex'), unknownKind.toString('hex'))
  t.throws(() => buildAddLinkRequest({ name: 'x', kind: 'wireguard', data: { unknown: [] } }), /no driver/)
  // A driver registered later decodes its kind.
  interface WireguardData extends AttributeSet { port?: number }
  registerLinkKind<WireguardData>({
    kind: 'wireguard',
    encode: (w, d) => { if (d.port !== undefined) w.u32(1, d.port) },
    decode: (r) => { const d: WireguardData = {}; while (r.next()) if (r.type === 1) d.port = r.u32(); return d }
  })
  t.ok(linkKindDriver('wireguard'))
  t.same(decodeLinkMessage(unknownKind, 16, unknownKind.length).attributes.linkInfo, { kind: 'wireguard', data: { port: 51820 } })
})

t.test('a decoded message edited and re-encoded keeps the edit', async t => {
  const f = loadFixture('fixtures/link/get-veth-reply.json')
  const m = decodeLinkMessage(f.bytes, 16, f.bytes.length, { keepOrder: true })
  m.attributes.mtu = 9000
  m.attributes.master = 7 // absent from the recorded order: appended
  const w = new NetlinkWriter()
  w.beginMessage(RTM_NEWLINK, 0); encodeLinkMessage(w, m); w.endMessage()
  const again = decodeLinkMessage(w.bytes(), 16, w.length)
  t.equal(again.attributes.mtu, 9000)
  t.equal(again.attributes.master, 7)
  t.equal(again.attributes.ifname, 'veth1')
})

t.test('builders validate their input', async t => {
  t.throws(() => buildBridgeVlanRequest(3, { vid: 0 }, 'add'), RangeError)
  t.throws(() => buildBridgeVlanRequest(3, { vid: 4095 }, 'add'), RangeError)
  t.throws(() => buildSetLinkRequest('veth0', { name: 'x' }), /index/)
  t.throws(() => buildSetLinkRequest(3, { mac: 'zz' }), /not a MAC/)
  // By name: index 0 and IFLA_IFNAME, so the kernel looks the link up.
  const up = buildSetLinkRequest('veth0', { up: true })
  t.same(decodeLinkMessage(up, 16, up.length), { family: 0, type: 0, index: 0, flags: IFF_UP, change: IFF_UP, attributes: { ifname: 'veth0' } })
  const del = buildDeleteLinkRequest('veth0')
  t.same(decodeLinkMessage(del, 16, del.length).attributes, { ifname: 'veth0' })
  const list = buildListLinksRequest({ master: 5, kind: 'veth' })
  t.same(decodeLinkMessage(list, 16, list.length).attributes, { extMask: RTEXT_FILTER_SKIP_STATS, master: 5, linkInfo: { kind: 'veth' } })
})

t.test('malformed input raises NetlinkDecodeError only', async t => {
  t.throws(() => decodeLinkMessage(Buffer.alloc(15), 0, 15), NetlinkDecodeError)
  t.throws(() => decodeLinkMessage(Buffer.alloc(16), 0, 20), NetlinkDecodeError)
  // A bridge id of 7 bytes, a u32 of 2 bytes, a VLAN info of 3 bytes
  const bad = (build: (w: NetlinkWriter) => void, family = 0): Buffer => {
    const w = new NetlinkWriter()
    const off = w.reserve(16); w.setU8(off, family)
    build(w)
    return Buffer.from(w.bytes())
  }
  t.throws(() => decodeLinkMessage(bad(w => { w.attr(4, new Uint8Array(2)) }), 0, 20), NetlinkDecodeError, 'short IFLA_MTU')
  t.throws(() => decodeLinkMessage(bad(w => { w.nested(12, w => { w.attr(13, new Uint8Array(7)) }) }, AF_BRIDGE), 0, 32), NetlinkDecodeError, 'short bridge id')
  t.throws(() => decodeLinkMessage(bad(w => { w.nested(26, w => { w.attr(2, new Uint8Array(3)) }) }, AF_BRIDGE), 0, 28), NetlinkDecodeError, 'short vlan info')
  // Every message of every fixture truncated at every length and corrupted: decoded or NetlinkDecodeError, nothing else.
  const decodeLink = (b: Uint8Array, start: number, end: number): void => { linkFromMessage(decodeLinkMessage(b, start, end, { keepOrder: true })) }
  let decodeErrors = 0
  for (const name of FIXTURES) {
    for (const [i, m] of messagesOf(loadFixture(`fixtures/link/${name}.json`).bytes).entries()) {
      if (m.type === NLMSG_ERROR) continue
      const r = fuzzDecoder(m.bytes.subarray(16), decodeLink, i + 7, { target: 'decodeLinkMessage', copies: 100 })
      if (r.bad.length > 0) { t.fail(`${name} message ${i}: ${r.bad[0]!}`); return }
      decodeErrors += r.rejected
    }
  }
  t.ok(decodeErrors > 100, `${decodeErrors} malformed inputs rejected with NetlinkDecodeError`)
})

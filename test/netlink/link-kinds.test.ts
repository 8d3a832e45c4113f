// Kernel replies for every link kind this kernel has (vxlan, macvlan,
// macvtap, ifb, bridge, veth), decoded and compared field by field with
// `ip -j -d link show`'s reading of the very same bytes (kept in each
// fixture's "output" by record-fixture.mjs --output; see
// fixtures/link/record.sh), then re-encoded byte for byte.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { loadFixture } from '../helpers/fixtures.js'
import { NetlinkWriter } from '../../src/netlink/attributes.js'
import { forEachMessage } from '../../src/netlink/message.js'
import { ARPHRD_ETHER, ARPHRD_LOOPBACK, decodeLinkMessage, encodeLinkMessage, linkFlagNames, type LinkMessage } from '../../src/netlink/route/link.js'
import { linkFromMessage } from '../../src/netlink/route/links.js'
import { IFLA_VXLAN_TTL_INHERIT, type VxlanData } from '../../src/netlink/route/kinds/vxlan.js'
import { MACVLAN_FLAG_NOPROMISC, type MacvlanData } from '../../src/netlink/route/kinds/macvlan.js'
import type { BridgeData } from '../../src/netlink/route/kinds/bridge.js'

type Json = Record<string, any>

const KIND_FIXTURES = readdirSync(new URL('../../fixtures/link/', import.meta.url))
  .filter(f => /^kinds?-.*\.json$/.test(f)).map(f => f.slice(0, -5))

function decodeAll (name: string): { messages: LinkMessage[], output: Json[], bytes: Buffer } {
  const f = loadFixture(`fixtures/link/${name}.json`)
  const messages: LinkMessage[] = []
  forEachMessage(f.bytes, (_type, _flags, _seq, _pid, start, end) => { messages.push(decodeLinkMessage(f.bytes, start, end, { keepOrder: true })) })
  return { messages, output: f.output as Json[], bytes: f.bytes }
}

// iproute2 prints some numbers as hex strings ("0x10") and some flags as booleans.
const num = (v: unknown): number => typeof v === 'string' ? Number(v) : v as number
const DF = { unset: 0, set: 1, inherit: 2 } as Record<string, number>
const OPERSTATE: Record<string, string> = { UNKNOWN: 'unknown', DOWN: 'down', UP: 'up', LOWERLAYERDOWN: 'lowerlayerdown' }

/** What `ip -j -d link show` printed for one link, against our decode of its message. */
function compare (t: Tap.Test, m: LinkMessage, ip: Json, names: Map<number, string>): void {
  const link = linkFromMessage(m)
  const a = m.attributes
  const what = ip.ifname as string
  t.equal(link.index, ip.ifindex, `${what}: index`)
  t.equal(link.name, ip.ifname, `${what}: name`)
  t.equal(link.mtu, ip.mtu, `${what}: mtu`)
  // iproute2 hides IFF_RUNNING, adds NO-CARRIER/M-DOWN pseudo flags and uses its own order.
  t.same(linkFlagNames(link.flags).filter(f => f !== 'RUNNING').sort(), (ip.flags as string[]).filter(f => f !== 'NO-CARRIER' && f !== 'M-DOWN').sort(), `${what}: flags`)
  t.equal(link.operstate, OPERSTATE[ip.operstate], `${what}: operstate`)
  t.equal(link.txqlen, ip.txqlen, `${what}: txqlen`)
  // ARPHRD_NONE (0xfffe) is a GPE vxlan's: no link-layer header.
  t.equal(link.type, ({ loopback: ARPHRD_LOOPBACK, ether: ARPHRD_ETHER, none: 0xfffe } as Record<string, number>)[ip.link_type] ?? -1, `${what}: link type`)
  t.equal(link.mac, ip.address, `${what}: address`)
  t.equal(link.broadcast, ip.broadcast, `${what}: broadcast`)
  t.equal(link.promiscuity, ip.promiscuity, `${what}: promiscuity`)
  t.equal(a.allmulti, ip.allmulti, `${what}: allmulti`)
  t.equal(a.minMtu, ip.min_mtu, `${what}: min_mtu`)
  t.equal(a.maxMtu, ip.max_mtu, `${what}: max_mtu`)
  t.equal(a.numTxQueues, ip.num_tx_queues, `${what}: num_tx_queues`)
  t.equal(a.numRxQueues, ip.num_rx_queues, `${what}: num_rx_queues`)
  t.equal(a.gsoMaxSize, ip.gso_max_size, `${what}: gso_max_size`)
  t.equal(a.gsoMaxSegs, ip.gso_max_segs, `${what}: gso_max_segs`)
  t.equal(a.tsoMaxSize, ip.tso_max_size, `${what}: tso_max_size`)
  t.equal(a.tsoMaxSegs, ip.tso_max_segs, `${what}: tso_max_segs`)
  t.equal(a.groMaxSize, ip.gro_max_size, `${what}: gro_max_size`)
  t.equal(a.qdisc, ip.qdisc, `${what}: qdisc`)
  t.equal(link.alias, ip.ifalias, `${what}: alias`)
  t.same(link.altNames, ip.altnames, `${what}: altnames`)
  // ip prints "veth1@veth0"-style parents by name as "link"
  if (ip.link !== undefined) t.equal(names.get(link.parentIndex ?? -1), ip.link, `${what}: parent ${String(ip.link)}`)
  else t.equal(link.parentIndex, undefined, `${what}: no parent`)
  const info = ip.linkinfo as Json | undefined
  t.equal(link.kind, info?.info_kind, `${what}: kind`)
  const d = info?.info_data as Json | undefined
  const data = a.linkInfo?.data
  switch (link.kind) {
    case 'vxlan': {
      const v = data as VxlanData
      t.equal(v.id, d!.id, `${what}: vni`)
      t.equal(v.local ?? v.local6, d!.local ?? d!.local6, `${what}: local`)
      // A unicast destination is "remote" in iproute2's words, a multicast one "group"; one attribute either way.
      t.equal(v.group ?? v.group6, d!.group ?? d!.group6 ?? d!.remote ?? d!.remote6, `${what}: group or remote`)
      t.equal(names.get(v.link ?? -1), d!.link, `${what}: underlay device`)
      t.same(v.portRange, d!.port_range, `${what}: port_range`)
      t.equal(v.port, d!.port, `${what}: port`)
      t.equal(v.learning === 1, d!.learning, `${what}: learning`)
      t.equal(v.proxy === 1, d!.proxy === true, `${what}: proxy`)
      t.equal(v.l2miss === 1, d!.l2miss === true, `${what}: l2miss`)
      t.equal(v.l3miss === 1, d!.l3miss === true, `${what}: l3miss`)
      // iproute2 prints "ttl" only without inherit (its text output then says "ttl inherit").
      t.equal(v.ttlInherit, d!.ttl === undefined, `${what}: ttl inherit`)
      if (d!.ttl !== undefined) t.equal(v.ttl, d!.ttl, `${what}: ttl`)
      t.equal(link.vxlan?.ttlInherit, v.ttlInherit, `${what}: the friendly view says so too`)
      t.equal(v.tos ?? 0, d!.tos === undefined ? 0 : num(d!.tos), `${what}: tos`)
      t.equal(v.label ?? 0, d!.label === undefined ? 0 : num(d!.label), `${what}: flow label`)
      t.equal(v.df, DF[d!.df], `${what}: df`)
      t.equal(v.ageing, d!.ageing, `${what}: ageing`)
      t.equal(v.limit ?? 0, d!.limit ?? 0, `${what}: limit`)
      t.equal(v.udpCsum === 1, d!.udp_csum, `${what}: udp_csum`)
      t.equal(v.udpZeroCsum6Tx === 1, d!.udp_zero_csum6_tx, `${what}: udp_zero_csum6_tx`)
      t.equal(v.udpZeroCsum6Rx === 1, d!.udp_zero_csum6_rx, `${what}: udp_zero_csum6_rx`)
      t.equal(v.gbp === true, d!.gbp === true, `${what}: gbp`)
      t.equal(v.gpe === true, d!.gpe === true, `${what}: gpe`)
      t.equal(v.remcsumTx === 1, d!.remcsum_tx === true, `${what}: remcsum_tx`)
      t.equal(v.remcsumRx === 1, d!.remcsum_rx === true, `${what}: remcsum_rx`)
      t.equal(v.collectMetadata === 1, d!.external === true, `${what}: external (collect metadata)`)
      t.equal(v.vnifilter === 1, d!.vnifilter === true, `${what}: vnifilter`)
      t.equal(link.vxlan?.vni, d!.id)
      break
    }
    case 'macvlan': case 'macvtap': {
      const v = data as MacvlanData
      t.equal(link.macvlan?.mode, d!.mode, `${what}: mode`)
      t.equal(((v.flags ?? 0) & MACVLAN_FLAG_NOPROMISC) !== 0, d!.nopromisc === true, `${what}: nopromisc`)
      t.equal(v.bcQueueLen, d!.bcqueuelen, `${what}: bcqueuelen`)
      t.equal(v.bcQueueLenUsed, d!.usedbcqueuelen, `${what}: usedbcqueuelen`)
      // The kernel reports the count for every macvlan; iproute2 prints it in source mode only.
      t.equal(d!.mode === 'source' ? v.macaddrCount : undefined, d!.macaddr_count, `${what}: macaddr_count`)
      break
    }
    case 'bridge': {
      const v = data as BridgeData
      const same: Array<[keyof BridgeData, string]> = [
        ['forwardDelay', 'forward_delay'], ['helloTime', 'hello_time'], ['maxAge', 'max_age'], ['ageingTime', 'ageing_time'],
        ['stpState', 'stp_state'], ['priority', 'priority'], ['vlanFiltering', 'vlan_filtering'], ['rootPort', 'root_port'],
        ['rootPathCost', 'root_path_cost'], ['topologyChange', 'topology_change'], ['topologyChangeDetected', 'topology_change_detected'],
        ['groupAddr', 'group_addr'], ['mcastSnooping', 'mcast_snooping'], ['mcastRouter', 'mcast_router'],
        ['mcastQueryUseIfaddr', 'mcast_query_use_ifaddr'], ['mcastQuerier', 'mcast_querier'], ['mcastHashElasticity', 'mcast_hash_elasticity'],
        ['mcastHashMax', 'mcast_hash_max'], ['mcastLastMemberCnt', 'mcast_last_member_cnt'], ['mcastStartupQueryCnt', 'mcast_startup_query_cnt'],
        ['mcastLastMemberIntvl', 'mcast_last_member_intvl'], ['mcastMembershipIntvl', 'mcast_membership_intvl'],
        ['mcastQuerierIntvl', 'mcast_querier_intvl'], ['mcastQueryIntvl', 'mcast_query_intvl'],
        ['mcastQueryResponseIntvl', 'mcast_query_response_intvl'], ['mcastStartupQueryIntvl', 'mcast_startup_query_intvl'],
        ['mcastStatsEnabled', 'mcast_stats_enabled'], ['mcastIgmpVersion', 'mcast_igmp_version'], ['mcastMldVersion', 'mcast_mld_version'],
        ['nfCallIptables', 'nf_call_iptables'], ['nfCallIp6tables', 'nf_call_ip6tables'], ['nfCallArptables', 'nf_call_arptables']
      ]
      for (const [ours, theirs] of same) t.equal(v[ours], d![theirs], `${what}: ${theirs}`)
      t.equal(v.groupFwdMask, num(d!.group_fwd_mask), `${what}: group_fwd_mask`)
      // iproute2 prints bridge ids without zero padding ("0064.0:0:0:0:0:0"); timers as seconds.
      const unpadded = (id: string | undefined): string | undefined => id?.split(/[.:]/).map(p => p.replace(/^0+(?=.)/, '')).join(':').replace(':', '.')
      t.equal(unpadded(v.bridgeId), unpadded(d!.bridge_id), `${what}: bridge_id`)
      t.equal(unpadded(v.rootId), unpadded(d!.root_id), `${what}: root_id`)
      for (const [ours, theirs] of [['helloTimer', 'hello_timer'], ['tcnTimer', 'tcn_timer'], ['topologyChangeTimer', 'topology_change_timer'], ['gcTimer', 'gc_timer']] as const) {
        t.equal((v[ours] ?? 0) / 100, d![theirs], `${what}: ${theirs}`)
      }
      t.equal((v.multiBoolopt!.optval & 1) !== 0, (d!.no_linklocal_learn ?? 0) !== 0, `${what}: no_linklocal_learn (BR_BOOLOPT_NO_LL_LEARN)`)
      t.equal(link.bridge?.priority, d!.priority)
      break
    }
    default:
      t.equal(d, undefined, `${what}: iproute2 shows no kind data`)
      t.equal(data, undefined, `${what}: nor do we`)
  }
}

t.test('the kind fixtures cover every kind this kernel has', async t => {
  const kinds = new Set<string>()
  for (const name of KIND_FIXTURES) for (const m of decodeAll(name).messages) if (m.attributes.linkInfo?.kind !== undefined) kinds.add(m.attributes.linkInfo.kind)
  t.same([...kinds].sort(), ['bridge', 'ifb', 'macvlan', 'macvtap', 'veth', 'vxlan'])
  for (const name of KIND_FIXTURES) t.ok(Array.isArray(loadFixture(`fixtures/link/${name}.json`).output), `${name} carries ip -j output`)
})

t.test('every kind reply decodes to what ip -j -d link show printed', async t => {
  for (const name of KIND_FIXTURES.filter(n => n.startsWith('kinds-'))) {
    const more = decodeAll(name)
    t.equal(more.messages.length, more.output.length, `${name}: one message per link iproute2 listed`)
    const own = new Map(more.output.map(l => [l.ifindex as number, l.ifname as string]))
    more.messages.forEach((m, i) => { compare(t, m, more.output[i]!, own) })
  }
  // Names by index from the dump (ip prints parents by name); the namespace is the same in every kind-* recording.
  const dump = decodeAll('kinds-dump-reply')
  const names = new Map(dump.output.map(l => [l.ifindex as number, l.ifname as string]))
  for (const name of KIND_FIXTURES.filter(n => n.startsWith('kind-'))) {
    const { messages, output } = decodeAll(name)
    t.equal(messages.length, 1, `${name}: one RTM_NEWLINK`)
    compare(t, messages[0]!, output[0]!, names)
  }
})

t.test('IFLA_VXLAN_TTL_INHERIT: a u8 in kernel replies, a flag in requests', async t => {
  const inherit = decodeAll('kind-vx0-reply').messages[0]!.attributes.linkInfo!.data as VxlanData
  const fixed = decodeAll('kind-vx6-reply').messages[0]!.attributes.linkInfo!.data as VxlanData
  t.equal(inherit.ttlInherit, true)
  t.equal(fixed.ttlInherit, false, 'the kernel sends 0 for a vxlan with a fixed TTL: not "inherit"')
  // The attribute as recorded: 5 bytes (header + u8), value 1 and 0.
  for (const [name, value] of [['kind-vx0-reply', 1], ['kind-vx6-reply', 0]] as const) {
    const f = loadFixture(`fixtures/link/${name}.json`)
    const at = f.bytes.indexOf(Buffer.from([5, 0, IFLA_VXLAN_TTL_INHERIT, 0]))
    t.ok(at > 0, `${name}: IFLA_VXLAN_TTL_INHERIT of length 5`)
    t.equal(f.bytes[at + 4], value)
  }
  // A request built from the decoded data sends the flag (what the kernel's NLA_FLAG policy accepts), and only when on.
  const w = new NetlinkWriter()
  const data: VxlanData = { id: 1, ttlInherit: true }
  w.beginMessage(16, 0); encodeLinkMessage(w, { family: 0, type: 0, index: 0, flags: 0, change: 0, attributes: { linkInfo: { kind: 'vxlan', data } } }); w.endMessage()
  t.ok(w.bytes().includes(Buffer.from([4, 0, IFLA_VXLAN_TTL_INHERIT, 0])), 'zero-length flag in a request')
  const off = new NetlinkWriter()
  off.beginMessage(16, 0); encodeLinkMessage(off, { family: 0, type: 0, index: 0, flags: 0, change: 0, attributes: { linkInfo: { kind: 'vxlan', data: { id: 1, ttlInherit: false } } } }); off.endMessage()
  t.notOk(off.bytes().includes(Buffer.from([4, 0, IFLA_VXLAN_TTL_INHERIT, 0])), 'no flag when off')
})

t.test('every kind reply re-encodes byte for byte', async t => {
  for (const name of KIND_FIXTURES) {
    const { bytes } = decodeAll(name)
    const w = new NetlinkWriter()
    forEachMessage(bytes, (type, flags, seq, pid, start, end) => {
      w.beginMessage(type, flags, seq, pid)
      encodeLinkMessage(w, decodeLinkMessage(bytes, start, end, { keepOrder: true }))
      w.endMessage()
    })
    t.equal(Buffer.from(w.bytes()).toString('hex'), bytes.toString('hex'), name)
  }
})

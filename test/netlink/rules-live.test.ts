// RuleService against the running kernel, in a throwaway namespace, with
// `ip -j rule show` as the independent oracle. Root only.
import t from 'tap'
import { withNamespaces, rootSkip, type TestNamespace } from '../helpers/netns.js'
import { ruleAsIproute2 } from '../helpers/iproute2.js'
import { NetlinkHandle } from '../../src/netlink/handle.js'
import { NetlinkError } from '../../src/netlink/errors.js'
import { AF_INET, AF_INET6 } from '../../src/netlink/route/rtnetlink.js'
import type { RuleSpec } from '../../src/netlink/route/rules.js'

async function failure (p: Promise<unknown>): Promise<NetlinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof NetlinkError)) throw new Error(`expected a NetlinkError, got ${String(err)}`)
  return err
}

const SPECS: RuleSpec[] = [
  { priority: 100, src: '10.1.0.0/16', table: 100 },
  { priority: 110, dst: '10.2.0.0/24', table: 1000 },
  { priority: 120, fwmark: 0x10, fwmask: 0xff, table: 200 },
  { priority: 130, iif: 'va', oif: 'nosuchdev', table: 201 },
  { priority: 140, uidRange: { start: 1000, end: 2000 }, table: 202 },
  { priority: 150, ipProto: 17, sport: { start: 1000, end: 2000 }, dport: 53, table: 203 },
  { priority: 160, table: 254, suppressPrefixlen: 0 },
  { priority: 170, goto: 300 },
  { priority: 180, src: '10.9.0.0/16', action: 'blackhole' },
  { priority: 190, l3mdev: true },
  { priority: 210, invert: true, src: '10.3.0.0/16', table: 204 },
  { priority: 220, tos: 0x10, table: 205 },
  { priority: 230, flow: 3 << 16 | 5, table: 206 },
  { priority: 240, protocol: 99, table: 207 },
  { priority: 250, dst: '10.10.0.0/16', action: 'prohibit' },
  { priority: 300, src: '10.5.0.0/16' },
  { priority: 200, src: '2001:db8::/32', table: 300 },
  { priority: 201, dst: '2001:db8:1::/48', fwmark: 7, action: 'unreachable' }
]

t.test('rules added through the library are what ip rule shows; list matches ip -j rule show', { skip: rootSkip }, async t => {
  const [net] = withNamespaces(t, 1) as [TestNamespace]
  net.sh('ip link add va type veth peer name vb; ip link set va up; ip link set vb up')
  const h = NetlinkHandle.open(net.ns, { extendedAck: true })
  t.teardown(() => { h.close() })
  for (const spec of SPECS) await h.rules.add(spec)

  for (const [family, flag] of [[AF_INET, '-4'], [AF_INET6, '-6']] as const) {
    const ours = await h.rules.list({ family })
    const theirs = net.ipJson<Array<Record<string, unknown>>>(flag, 'rule', 'show')
    t.equal(ours.length, theirs.length, `${flag}: as many rules as ip shows`)
    t.same(ours.map(ruleAsIproute2), theirs, `${flag}: every field as ip -j rule show prints it`)
  }
  const both = await h.rules.list()
  t.same(both.map(r => r.family), [...both.filter(r => r.family === AF_INET), ...both.filter(r => r.family === AF_INET6)].map(r => r.family), 'IPv4 first, then IPv6')
  t.equal(both.filter(r => r.priority >= 100 && r.priority <= 300).length, SPECS.length)

  const dup = await failure(h.rules.add(SPECS[0]!))
  t.equal(dup.code, 'EEXIST')
  t.equal(dup.operation, 'RTM_NEWRULE pref 100 from 10.1.0.0/16 lookup 100')
  t.equal(dup.namespace, net.ns.path)

  await h.rules.delete({ priority: 110 })
  await h.rules.delete({ priority: 200, src: '2001:db8::/32', table: 300 })
  const prefs = (net.ipJson<Array<{ priority: number }>>('rule', 'show')).map(r => r.priority)
  t.notOk(prefs.includes(110), 'deleted by preference alone')
  t.notOk(net.ipJson<Array<{ priority: number }>>('-6', 'rule', 'show').some(r => r.priority === 200), 'IPv6 rule deleted')
  const gone = await failure(h.rules.delete({ priority: 110 }))
  t.equal(gone.code, 'ENOENT')
})

t.test('a rule added by ip decodes as the library lists it', { skip: rootSkip }, async t => {
  const [net] = withNamespaces(t, 1) as [TestNamespace]
  net.ip('rule', 'add', 'pref', '500', 'from', '192.0.2.0/24', 'to', '198.51.100.0/24', 'fwmark', '0x20/0x30', 'iif', 'lo', 'ipproto', 'tcp', 'dport', '443', 'table', '4000')
  const h = NetlinkHandle.open(net.ns)
  t.teardown(() => { h.close() })
  const rule = (await h.rules.list({ family: AF_INET })).find(r => r.priority === 500)
  t.match(rule, {
    src: '192.0.2.0/24', dst: '198.51.100.0/24', fwmark: 0x20, fwmask: 0x30, iif: 'lo', ipProto: 6,
    dportRange: { start: 443, end: 443 }, table: 4000, actionName: 'lookup'
  })
})

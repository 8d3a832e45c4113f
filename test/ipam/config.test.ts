// LoadIPAMConfig: the order of range sets and requested addresses, Go's
// decoding rules, every validation error (upstream's text, our precise code
// and a details naming the field), CNI_ARGS, and resolv.conf parsing.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CniError } from '../../src/cni/errors.js'
import { validateWith } from '../../src/cni/config.js'
import { type IPAMConfig, loadIPAMConfig, parseIPAMArgs } from '../../src/ipam/config.js'
import { schema } from '../../src/ipam/config-schema.js'
import { formatIPText } from '../../src/netlink/addr.js'
import { parseResolvConf, readResolvConf } from '../../src/ipam/resolv-conf.js'

type Conf = Record<string, unknown>
const base = (ipam: Conf, extra: Conf = {}): Conf => ({ cniVersion: '0.3.1', name: 'mynet', type: 'ipvlan', ipam: { type: 'host-local', ...ipam }, ...extra })

async function load (config: Conf, cniArgs = ''): Promise<IPAMConfig> {
  const cniVersion = typeof config.cniVersion === 'string' ? config.cniVersion : '0.1.0'
  return await loadIPAMConfig(config, { name: String(config.name), cniVersion, cniArgs })
}

async function loadError (config: Conf, cniArgs = ''): Promise<CniError> {
  try {
    await load(config, cniArgs)
  } catch (err) {
    if (err instanceof CniError) return err
    throw err
  }
  throw new Error('expected an error')
}

const sets = (c: IPAMConfig): string[] => c.rangeSets.map(s => s.toString())

t.test('range set order: runtimeConfig.ipRanges, legacy, ranges', async t => {
  const c = await load(base({
    subnet: '10.1.2.0/24', rangeStart: '10.1.2.9', rangeEnd: '10.1.2.20', gateway: '10.1.2.30',
    ranges: [[{ subnet: '11.1.1.0/24' }], [{ subnet: '2001:db8:1::/64' }]]
  }, { runtimeConfig: { ipRanges: [[{ subnet: '12.1.3.0/24' }]] } }))
  t.same(sets(c), ['12.1.3.1-12.1.3.254', '10.1.2.9-10.1.2.20', '11.1.1.1-11.1.1.254', '2001:db8:1::1-2001:db8:1:0:ffff:ffff:ffff:ffff'])
  t.same(c.rangeSetPaths, ['runtimeConfig.ipRanges[0]', 'ipam', 'ipam.ranges[0]', 'ipam.ranges[1]'])
  t.equal(formatIPText(c.rangeSets[1]!.ranges[0]!.gateway), '10.1.2.30')
  t.equal(c.dataDir, '/var/lib/cni/networks', 'default dataDir')
  t.equal(c.resolvConf, undefined)
  t.same(c.routes, [])
  t.equal(c.gcAttachments, undefined)
})

t.test('requested addresses: CNI_ARGS IP, then args.cni.ips, then runtimeConfig.ips; prefix ignored', async t => {
  const c = await load(base({ ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/24' }], [{ subnet: '2001:db8::/64' }]] }, {
    args: { cni: { ips: ['10.1.3.11/24'] } },
    runtimeConfig: { ips: ['2001:db8::1:5/64', '10.1.2.10'] }
  }), 'IP=10.1.2.10/24;IgnoreUnknown=1;K8S_POD_NAME=x')
  t.same(c.requestedIPs.map(r => [formatIPText(r.ip), r.source]),
    [['10.1.2.10', 'CNI_ARGS'], ['10.1.3.11', 'args.cni.ips[0]'], ['2001:db8::1:5', 'runtimeConfig.ips[0]']],
    'the duplicate 10.1.2.10 counted once')
  const bare = await load(base({ subnet: '10.1.2.0/24' }), 'IP=10.1.2.11')
  t.same(bare.requestedIPs.map(r => formatIPText(r.ip)), ['10.1.2.11'], 'CNI_ARGS IP without a prefix')
})

t.test('Go decoding rules: keys in any case, null as absent, unknown keys ignored', async t => {
  const c = await load({
    cniVersion: '0.3.1', NAME: 'ignored-by-us', name: 'mynet',
    IPAM: { TYPE: 'host-local', Ranges: [[{ Subnet: '10.1.2.0/24', RANGESTART: '10.1.2.100' }]], dataDir: null, ResolvConf: null, bogus: 1 },
    runtimeConfig: null
  })
  t.same(sets(c), ['10.1.2.100-10.1.2.254'])
  t.equal(c.dataDir, '/var/lib/cni/networks')
})

t.test('routes, dataDir, resolvConf, GC attachments', async t => {
  const c = await load(base({
    subnet: '10.1.2.0/24', dataDir: '/tmp/x', resolvConf: '/etc/resolv.conf',
    routes: [{ dst: '0.0.0.0/0' }, { dst: '2001:db8:2::0/64', gw: '2001:db8:3::1', priority: 5 }]
  }, {
    'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }],
    'cni.dev/attachments': [{ containerID: 'b', ifname: 'eth1' }]
  }))
  t.same(c.routes, [{ dst: '0.0.0.0/0' }, { dst: '2001:db8:2::/64', gw: '2001:db8:3::1', priority: 5 }])
  t.equal(c.dataDir, '/tmp/x')
  t.equal(c.resolvConf, '/etc/resolv.conf')
  t.same(c.gcAttachments, [{ containerID: 'a', ifname: 'eth0' }, { containerID: 'b', ifname: 'eth1' }])
})

t.test('warnings: gateway outside the subnet, legacy keys without a subnet', async t => {
  const c = await load(base({ rangeStart: '10.0.0.5', ranges: [[{ subnet: '10.1.2.0/24', gateway: '192.168.0.1' }]] }))
  t.same(c.warnings, [
    'ipam: rangeStart, rangeEnd and gateway are ignored without ipam.subnet',
    'ipam.ranges[0][0].gateway: gateway 192.168.0.1 is outside subnet 10.1.2.0/24'
  ])
})

t.test('validation errors: upstream texts, precise codes, the field in details', async t => {
  const cases: Array<{ what: string, config: Conf, args?: string, code: number, msg: string, details?: string | RegExp }> = [
    { what: 'no ipam', config: { cniVersion: '0.3.1', name: 'n' }, code: 7, msg: "IPAM config missing 'ipam' key", details: 'ipam' },
    { what: 'ipam null', config: { cniVersion: '0.3.1', name: 'n', ipam: null }, code: 7, msg: "IPAM config missing 'ipam' key" },
    { what: 'no ranges', config: base({}), code: 7, msg: 'no IP ranges specified', details: 'ipam.ranges' },
    { what: 'empty set', config: base({ ranges: [[]] }), code: 7, msg: 'invalid range set 0: empty range set', details: 'ipam.ranges[0]' },
    { what: 'null set', config: base({ ranges: [null] }), code: 7, msg: 'invalid range set 0: empty range set' },
    { what: 'bad subnet', config: base({ ranges: [[{ subnet: '10.1.2.0/33' }]] }), code: 7, msg: 'invalid CIDR address: 10.1.2.0/33', details: 'ipam.ranges[0][0].subnet' },
    { what: 'too small', config: base({ subnet: '10.1.2.0/31' }), code: 7, msg: 'invalid range set 0: Network 10.1.2.0/31 too small to allocate from', details: 'ipam.subnet' },
    { what: 'host bits', config: base({ ranges: [[{ subnet: '10.1.2.3/24' }]] }), code: 7, msg: 'invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0' },
    { what: 'rangeStart outside', config: base({ ranges: [[{ subnet: '10.1.2.0/24', rangeStart: '10.1.3.1' }]] }), code: 7, msg: 'invalid range set 0: RangeStart 10.1.3.1 not in network 10.1.2.0/24', details: 'ipam.ranges[0][0].rangeStart' },
    { what: 'rangeEnd before rangeStart', config: base({ ranges: [[{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.50', rangeEnd: '10.1.2.10' }]] }), code: 7, msg: 'invalid range set 0: RangeStart 10.1.2.50 not in network 10.1.2.0/24' },
    { what: 'rangeEnd outside', config: base({ ranges: [[{ subnet: '10.1.2.0/24', rangeEnd: '10.1.4.1' }]] }), code: 7, msg: 'invalid range set 0: RangeEnd 10.1.4.1 not in network 10.1.2.0/24', details: 'ipam.ranges[0][0].rangeEnd' },
    { what: 'overlap within a set', config: base({ ranges: [[{ subnet: '10.1.0.0/22' }, { subnet: '10.1.2.0/24' }]] }), code: 7, msg: 'invalid range set 0: subnets 10.1.0.1-10.1.3.254 and 10.1.2.1-10.1.2.254 overlap', details: 'ipam.ranges[0][1]' },
    { what: 'mixed families', config: base({ ranges: [[{ subnet: '10.1.0.0/22' }, { subnet: '2001:db8:5::/64' }]] }), code: 7, msg: 'invalid range set 0: mixed address families' },
    {
      what: 'overlap across sets',
      config: base({ ranges: [[{ subnet: '10.1.2.0/24' }, { subnet: '10.2.2.0/24' }], [{ subnet: '10.1.4.0/24' }, { subnet: '10.1.6.0/24' }, { subnet: '10.1.8.0/24' }, { subnet: '10.1.2.0/24' }]] }),
      code: 7, msg: 'range set 0 overlaps with 1', details: 'ipam.ranges[1]'
    },
    { what: 'legacy overlapping ranges', config: base({ subnet: '10.1.2.0/24', ranges: [[{ subnet: '10.1.2.0/25' }]] }), code: 7, msg: 'range set 0 overlaps with 1' },
    { what: 'two v4 sets with 0.2.0', config: { ...base({ ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '11.1.2.0/24' }]] }), cniVersion: '0.2.0' }, code: 1, msg: 'CNI version 0.2.0 does not support more than 1 address per family' },
    { what: 'bad requested IP in args', config: base({ subnet: '10.1.2.0/24' }, { args: { cni: { ips: ['banana'] } } }), code: 7, msg: 'invalid IP address banana', details: 'args.cni.ips[0]' },
    { what: 'bad requested IP in runtimeConfig', config: base({ subnet: '10.1.2.0/24' }, { runtimeConfig: { ips: ['10.1.2.5', '10.1.2.0/99'] } }), code: 7, msg: 'invalid IP address 10.1.2.0/99', details: 'runtimeConfig.ips[1]' },
    { what: 'requested IP outside every range', config: base({ subnet: '10.1.2.0/24' }, { runtimeConfig: { ips: ['10.1.3.5'] } }), code: 7, msg: 'failed to allocate all requested IPs: 10.1.3.5', details: 'runtimeConfig.ips[0]' },
    { what: 'two requested IPs in one set', config: base({ subnet: '10.1.2.0/24' }, { args: { cni: { ips: ['10.1.2.5', '10.1.2.6'] } } }), code: 7, msg: 'failed to allocate all requested IPs: 10.1.2.6' },
    { what: 'requested gateway', config: base({ subnet: '10.1.2.0/24' }), args: 'IP=10.1.2.1', code: 7, msg: "failed to allocate for range 0: requested ip 10.1.2.1 is subnet's gateway", details: 'CNI_ARGS' },
    { what: 'bad route', config: base({ subnet: '10.1.2.0/24', routes: [{ dst: '300.0.0.0/8' }] }), code: 7, msg: 'ipam.routes[0].dst: invalid CIDR address: 300.0.0.0/8', details: 'ipam.routes[0]' },
    { what: 'unknown CNI_ARGS', config: base({ subnet: '10.1.2.0/24' }), args: 'FOO=bar;ip=10.1.2.5', code: 4, msg: 'ARGS: unknown args ["FOO=bar" "ip=10.1.2.5"]', details: 'CNI_ARGS' },
    { what: 'CNI_ARGS trailing ;', config: base({ subnet: '10.1.2.0/24' }), args: 'IP=10.1.2.5;', code: 4, msg: 'ARGS: invalid pair ""' },
    { what: 'CNI_ARGS bad IP', config: base({ subnet: '10.1.2.0/24' }), args: 'IP=banana', code: 4, msg: 'ARGS: error parsing value of pair "IP=banana": invalid IP address banana' },
    { what: 'CNI_ARGS bad IgnoreUnknown', config: base({ subnet: '10.1.2.0/24' }), args: 'IgnoreUnknown=yes', code: 4, msg: 'ARGS: error parsing value of pair "IgnoreUnknown=yes": boolean unmarshal error: invalid input yes' },
    // Types: the zod schema explains.
    { what: 'dataDir a number', config: base({ subnet: '10.1.2.0/24', dataDir: 5 }), code: 7, msg: 'invalid host-local config', details: /^ipam\.dataDir: expected string, got number 5$/ },
    { what: 'ranges not nested', config: base({ ranges: [{ subnet: '10.1.2.0/24' }] }), code: 7, msg: 'invalid host-local config', details: /^ipam\.ranges\[0\]: expected array/ },
    { what: 'route mtu a string', config: base({ subnet: '10.1.2.0/24', routes: [{ dst: '0.0.0.0/0', mtu: 'big' }] }), code: 7, msg: 'invalid host-local config', details: /^ipam\.routes\[0\]\.mtu: expected number, got string "big"$/ },
    { what: 'ipam a string', config: { cniVersion: '0.3.1', name: 'n', ipam: 'host-local' }, code: 7, msg: 'invalid host-local config', details: /^ipam: expected object/ },
    { what: 'attachments not a list', config: base({ subnet: '10.1.2.0/24' }, { 'cni.dev/valid-attachments': {} }), code: 7, msg: 'invalid host-local config', details: /^cni\.dev\/valid-attachments: expected array/ },
    { what: 'network name escaping dataDir', config: { ...base({ subnet: '10.1.2.0/24' }), name: '..' }, code: 7, msg: 'invalid characters found in network name', details: '..' }
  ]
  for (const c of cases) {
    const err = await loadError(c.config, c.args)
    t.equal(err.code, c.code, `${c.what}: code`)
    t.equal(err.msg, c.msg, `${c.what}: msg`)
    if (c.details instanceof RegExp) t.match(err.details, c.details, `${c.what}: details`)
    else if (c.details !== undefined) t.equal(err.details, c.details, `${c.what}: details`)
  }
})

t.test('0.2.0 accepts one set per family', async t => {
  const c = await load({ ...base({ ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '2001:db8:1::/48' }]] }), cniVersion: '0.2.0' })
  t.equal(c.rangeSets.length, 2)
})

t.test('the fast reader and the zod schema agree on shapes', async t => {
  const good: Conf[] = [
    base({ subnet: '10.1.2.0/24' }),
    base({ ranges: [[{ subnet: '10.1.2.0/24' }]], routes: [{ dst: '0.0.0.0/0', gw: '10.1.2.1', mtu: 1400, table: 0 }] },
      { runtimeConfig: { ips: ['10.1.2.9'], ipRanges: [[{ subnet: '10.9.0.0/16' }]] }, args: { cni: { ips: [] } } })
  ]
  for (const g of good) {
    await t.resolves(load(g), 'fast reader accepts')
    t.doesNotThrow(() => validateWith(g, schema), 'schema accepts')
  }
  const bad: Conf[] = [
    base({ subnet: 7 }), base({ ranges: [[{ subnet: '10.1.2.0/24', gateway: false }]] }), base({ routes: [{ gw: '1.1.1.1' }] }),
    base({ subnet: '10.1.2.0/24' }, { runtimeConfig: { ips: [5] } }), base({ subnet: '10.1.2.0/24' }, { args: { cni: { ips: 'x' } } }),
    base({ subnet: '10.1.2.0/24' }, { 'cni.dev/attachments': [{ containerID: 'a' }] })
  ]
  for (const b of bad) {
    const err = await loadError(b)
    t.equal(err.msg, 'invalid host-local config', `schema reports ${err.details}`)
    t.throws(() => validateWith(b, schema))
  }
})

t.test('parseIPAMArgs', async t => {
  t.equal(parseIPAMArgs(''), undefined)
  t.equal(formatIPText(parseIPAMArgs('IgnoreUnknown=true;K8S_POD_NAMESPACE=ns;IP=2001:db8::5/64')!), '2001:db8::5')
  t.equal(parseIPAMArgs('IgnoreUnknown=1;FOO=bar'), undefined)
  t.throws(() => parseIPAMArgs('IP=1.2.3.4=5'), { message: 'ARGS: invalid pair "IP=1.2.3.4=5"; CNI_ARGS' })
  t.throws(() => parseIPAMArgs('FOO=1;IgnoreUnknown=0'), { msg: 'ARGS: unknown args ["FOO=1"]' })
})

t.test('resolv.conf (dns_test.go)', async t => {
  t.same(parseResolvConf('\n\t\tnameserver 192.0.2.0\n\t\tnameserver 192.0.2.1\n\t\t'), { nameservers: ['192.0.2.0', '192.0.2.1'] })
  t.same(parseResolvConf('\nnameserver 192.0.2.0\n;nameserver 192.0.2.1\n'), { nameservers: ['192.0.2.0'] }, 'comments')
  t.same(parseResolvConf(`
nameserver 192.0.2.0
nameserver 192.0.2.2
domain example.com
;nameserver comment
#nameserver comment
search example.net example.org
search example.gov
options one two three
options four
lonely
domain last.example
`), {
    nameservers: ['192.0.2.0', '192.0.2.2'],
    domain: 'last.example',
    search: ['example.net', 'example.org', 'example.gov'],
    options: ['one', 'two', 'three', 'four']
  }, 'all fields; a one-field line skipped; the last domain wins')
  t.same(parseResolvConf('nameserver 1.1.1.1\r\nsearch a.b\r\n'), { nameservers: ['1.1.1.1'], search: ['a.b'] }, 'CRLF lines')
  const dir = mkdtempSync(join(tmpdir(), 'tscni-resolv-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'r'), 'nameserver 192.0.2.3')
  t.same(readResolvConf(join(dir, 'r')), { nameservers: ['192.0.2.3'] })
  t.throws(() => readResolvConf('/nonexist'), { message: 'open /nonexist: no such file or directory' })
})

// Results: conversion between every pair of versions (reference §1.5, Go's
// pkg/types/{020,040,100}), parsing with the config's version, and the byte
// layout of §1.6; checked against the Debian Go `static` IPAM plugin.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import {
  convertResult, formatResult, parseResult, parsePrevResult, toResult, ipVersionOf,
  type Result, type Result040, type Result020
} from '../../src/cni/result.js'
import { canonicalCIDR, canonicalIP } from '../../src/netlink/addr.js'

const full11: Result = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'cni0', mac: '0a:58:0a:01:02:01' },
    { name: 'eth0', mac: '0a:58:0a:01:02:03', mtu: 1400, sandbox: '/var/run/netns/x', socketPath: '/s', pciID: '0000:00:01.0' }
  ],
  ips: [
    { interface: 1, address: '10.1.2.3/24', gateway: '10.1.2.1' },
    { interface: 1, address: '10.9.9.9/16' },
    { interface: 1, address: '2001:db8::3/64', gateway: '2001:db8::1' },
    { address: '::ffff:192.168.0.5/120' }
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '10.1.2.1', mtu: 1300, advmss: 1200, priority: 5, table: 100, scope: 0 },
    { dst: '2001:db8:ffff::/48' },
    { dst: '::/0', gw: '2001:db8::1' }
  ],
  dns: { nameservers: ['1.1.1.1'], domain: 'example.com', search: ['a.example.com'], options: ['ndots:5'] }
}

t.test('1.1 → 0.3/0.4: version from the address, interface fields of 1.1 dropped, routes whole', async t => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0']) {
    const r = convertResult(full11, v) as Result040
    t.same(r, {
      cniVersion: v,
      interfaces: [{ name: 'cni0', mac: '0a:58:0a:01:02:01' }, { name: 'eth0', mac: '0a:58:0a:01:02:03', sandbox: '/var/run/netns/x' }],
      ips: [
        { version: '4', interface: 1, address: '10.1.2.3/24', gateway: '10.1.2.1' },
        { version: '4', interface: 1, address: '10.9.9.9/16' },
        { version: '6', interface: 1, address: '2001:db8::3/64', gateway: '2001:db8::1' },
        { version: '4', address: '::ffff:192.168.0.5/120' }
      ],
      routes: full11.routes,
      dns: full11.dns
    }, v)
  }
})

t.test('1.x → 0.1/0.2: first IP per family, routes under the family, interfaces dropped', async t => {
  for (const v of ['0.1.0', '0.2.0']) {
    const r = convertResult(full11, v) as Result020
    t.same(r, {
      cniVersion: v,
      ip4: { ip: '10.1.2.3/24', gateway: '10.1.2.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.2.1' }] },
      ip6: { ip: '2001:db8::3/64', gateway: '2001:db8::1', routes: [{ dst: '2001:db8:ffff::/48' }, { dst: '::/0', gw: '2001:db8::1' }] },
      dns: full11.dns
    }, v)
  }
  // "" means 0.1.0
  t.equal(convertResult(full11, '').cniVersion, '0.1.0')
  // routes of a family without an IP are dropped
  const v4only = convertResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/8' }], routes: [{ dst: '::/0' }, { dst: '10.0.0.0/8' }] }, '0.2.0')
  t.same(v4only, { cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/8', routes: [{ dst: '10.0.0.0/8' }] } })
  // no IP at all → error
  t.throws(() => convertResult({ cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }] }, '0.2.0'), { message: 'cannot convert: no valid IP addresses' })
  t.throws(() => convertResult({ cniVersion: '0.4.0', ips: [] }, '0.1.0'), { message: 'cannot convert: no valid IP addresses' })
  // 0.4 → 0.2 goes by the `version` field, as Go does
  t.same(convertResult({ cniVersion: '0.4.0', ips: [{ version: '6', address: '2001:db8::9/64' }, { version: '6', address: '2001:db8::a/64' }] } as Result040, '0.2.0'),
    { cniVersion: '0.2.0', ip6: { ip: '2001:db8::9/64' } })
})

t.test('0.1/0.2 → 0.4 and 1.x', async t => {
  const r020: Result020 = {
    cniVersion: '0.2.0',
    ip4: { ip: '10.1.2.3/24', gateway: '10.1.2.1', routes: [{ dst: '0.0.0.0/0' }, { dst: '10.0.0.0/8', gw: '10.1.2.254', mtu: 1000 }] },
    ip6: { ip: '2001:db8::3/64', routes: [{ dst: '::/0', gw: '2001:db8::1' }] },
    dns: { nameservers: ['8.8.8.8'] }
  }
  t.same(convertResult(r020, '0.4.0'), {
    cniVersion: '0.4.0',
    ips: [{ version: '4', address: '10.1.2.3/24', gateway: '10.1.2.1' }, { version: '6', address: '2001:db8::3/64' }],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '10.0.0.0/8', gw: '10.1.2.254', mtu: 1000 }, { dst: '::/0', gw: '2001:db8::1' }],
    dns: { nameservers: ['8.8.8.8'] }
  })
  for (const v of ['1.0.0', '1.1.0']) {
    t.same(convertResult(r020, v), {
      cniVersion: v,
      ips: [{ address: '10.1.2.3/24', gateway: '10.1.2.1' }, { address: '2001:db8::3/64' }],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '10.0.0.0/8', gw: '10.1.2.254', mtu: 1000 }, { dst: '::/0', gw: '2001:db8::1' }],
      dns: { nameservers: ['8.8.8.8'] }
    })
  }
  t.same(convertResult({ cniVersion: '0.1.0', ip4: { ip: '10.0.0.1/8' } }, '0.2.0'), { cniVersion: '0.2.0', ip4: { ip: '10.0.0.1/8' } })
  t.same(convertResult({ cniVersion: '0.2.0', ip6: { ip: '::1/128' } }, '0.1.0'), { cniVersion: '0.1.0', ip6: { ip: '::1/128' } })
})

t.test('0.3/0.4 among themselves and to 1.x; 1.0 ↔ 1.1', async t => {
  const r040: Result040 = {
    cniVersion: '0.3.0',
    interfaces: [{ name: 'eth0', sandbox: '/n' }],
    ips: [{ version: '4', interface: 0, address: '10.0.0.2/24' }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]
  }
  for (const v of ['0.3.1', '0.4.0']) t.same(convertResult(r040, v), { ...r040, cniVersion: v })
  t.same(convertResult({ ...r040, cniVersion: '0.4.0' }, '0.3.0'), r040)
  t.same(toResult(r040), {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'eth0', sandbox: '/n' }],
    ips: [{ interface: 0, address: '10.0.0.2/24' }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]
  })
  t.same(convertResult(full11, '1.0.0'), { ...full11, cniVersion: '1.0.0' })
  t.same(convertResult({ ...full11, cniVersion: '1.0.0' }, '1.1.0'), full11)
  // same version: the very same object (Go's shortcut)
  t.equal(convertResult(full11, '1.1.0'), full11)
  t.equal(convertResult(r040, '0.3.0'), r040)
  // conversions copy: the source is not shared
  const c = convertResult(full11, '1.0.0') as Result
  c.ips![0]!.address = 'changed'
  t.equal(full11.ips![0]!.address, '10.1.2.3/24')
  t.throws(() => convertResult(full11, '0.5.0'), { message: 'no converter for CNI result version 1.1.0 to 0.5.0' })
  t.throws(() => convertResult({ cniVersion: '9.9.9' } as Result, '1.0.0'), { message: 'no converter for CNI result version 9.9.9 to 1.0.0' })
})

t.test('formatting: 1.x keys sorted at every level, empty dns omitted', async t => {
  const text = formatResult(full11)
  t.notOk(text.endsWith('\n'))
  t.equal(text, JSON.stringify(JSON.parse(text), null, 4), '4-space indent')
  const parsed = JSON.parse(text)
  t.same(Object.keys(parsed), ['cniVersion', 'dns', 'interfaces', 'ips', 'routes'])
  t.same(Object.keys(parsed.dns), ['domain', 'nameservers', 'options', 'search'])
  t.same(Object.keys(parsed.interfaces[1]), ['mac', 'mtu', 'name', 'pciID', 'sandbox', 'socketPath'])
  t.same(Object.keys(parsed.ips[0]), ['address', 'gateway', 'interface'])
  t.same(Object.keys(parsed.routes[0]), ['advmss', 'dst', 'gw', 'mtu', 'priority', 'scope', 'table'])
  t.equal(parsed.routes[0].scope, 0, 'scope 0 kept (pointer in Go)')
  t.equal(formatResult({ cniVersion: '1.0.0', ips: [{ interface: 0, address: '10.0.0.1/8' }], dns: {} }),
    '{\n    "cniVersion": "1.0.0",\n    "ips": [\n        {\n            "address": "10.0.0.1/8",\n            "interface": 0\n        }\n    ]\n}')
  // empty lists and zero ints are omitted
  t.same(JSON.parse(formatResult({ cniVersion: '1.1.0', interfaces: [], ips: [], routes: [{ dst: '0.0.0.0/0', mtu: 0, priority: 0 }], dns: { nameservers: [] } })),
    { cniVersion: '1.1.0', routes: [{ dst: '0.0.0.0/0' }] })
})

t.test('formatting: 0.3/0.4 and 0.1/0.2 in struct order with "dns": {}', async t => {
  const r040 = convertResult(full11, '0.4.0')
  const parsed = JSON.parse(formatResult(r040))
  t.same(Object.keys(parsed), ['cniVersion', 'interfaces', 'ips', 'routes', 'dns'])
  t.same(Object.keys(parsed.interfaces[1]), ['name', 'mac', 'sandbox'])
  t.same(Object.keys(parsed.ips[0]), ['version', 'interface', 'address', 'gateway'])
  t.same(Object.keys(parsed.routes[0]), ['dst', 'gw', 'mtu', 'advmss', 'priority', 'table', 'scope'])
  t.same(Object.keys(parsed.dns), ['nameservers', 'domain', 'search', 'options'])
  t.equal(formatResult({ cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.0.1/8' }] } as Result040),
    '{\n    "cniVersion": "0.3.1",\n    "ips": [\n        {\n            "version": "4",\n            "address": "10.0.0.1/8"\n        }\n    ],\n    "dns": {}\n}')
  t.equal(formatResult({ cniVersion: '0.1.0', ip4: { ip: '127.0.0.1/8' }, ip6: { ip: '::1/128' } }),
    '{\n    "cniVersion": "0.1.0",\n    "ip4": {\n        "ip": "127.0.0.1/8"\n    },\n    "ip6": {\n        "ip": "::1/128"\n    },\n    "dns": {}\n}')
  const r020 = JSON.parse(formatResult(convertResult(full11, '0.2.0')))
  t.same(Object.keys(r020), ['cniVersion', 'ip4', 'ip6', 'dns'])
  t.same(Object.keys(r020.ip4), ['ip', 'gateway', 'routes'])
})

t.test('formatting escapes <, >, & as Go does', async t => {
  const text = formatResult({ cniVersion: '1.0.0', interfaces: [{ name: 'a<b>&c' }] })
  t.match(text, /"a\\u003cb\\u003e\\u0026c"/)
  t.equal(JSON.parse(text).interfaces[0].name, 'a<b>&c')
})

t.test('parsing with the config version', async t => {
  t.same(parseResult({ cniVersion: '0.3.1', IPS: [{ Version: '4', Address: '10.0.0.2/24', Gateway: '10.0.0.1', Interface: 0 }], Dns: {}, extra: 1 }, '0.4.0'),
    { cniVersion: '0.3.1', ips: [{ version: '4', interface: 0, address: '10.0.0.2/24', gateway: '10.0.0.1' }] }, 'keys case-insensitive, unknown ignored')
  t.throws(() => parseResult({ cniVersion: '1.0.0' }, '0.4.0'), { message: 'result type supports [0.3.0 0.3.1 0.4.0] but unmarshalled CNIVersion is "1.0.0"' })
  t.throws(() => parseResult({ cniVersion: '0.4.0' }, '1.1.0'), { message: 'result type supports [1.0.0 1.1.0] but unmarshalled CNIVersion is "0.4.0"' })
  t.throws(() => parseResult({ cniVersion: '1.0.0' }, '0.2.0'), { message: 'result type supports [ 0.1.0 0.2.0] but unmarshalled CNIVersion is "1.0.0"' })
  t.throws(() => parseResult({}, '2.0.0'), { message: 'unsupported CNI result version "2.0.0"' })
  t.same(parseResult({ ip4: { ip: '10.0.0.1/8' } }, '0.2.0'), { cniVersion: '0.1.0', ip4: { ip: '10.0.0.1/8' } }, '"" is 0.1.0 in the 0.2 type')
  // addresses validated and printed as Go prints them
  t.same(parseResult({ cniVersion: '1.0.0', ips: [{ address: 'FD00:0::2/64', gateway: 'fd00:0:0::1' }], routes: [{ dst: '::ffff:10.0.0.0/104' }] }, '1.0.0'),
    { cniVersion: '1.0.0', ips: [{ address: 'fd00::2/64', gateway: 'fd00::1' }], routes: [{ dst: '10.0.0.0/8' }] })
  t.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.300/24' }] }, '1.0.0'), { message: 'ips[0].address: invalid CIDR address: 10.0.0.300/24' })
  t.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.3' }] }, '1.0.0'), { message: 'ips[0].address: invalid CIDR address: 10.0.0.3' })
  t.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.3/8', gateway: 'x' }] }, '1.0.0'), { message: 'ips[0].gateway: invalid IP address: x' })
  t.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.3/8', interface: '0' }] }, '1.0.0'), { message: 'ips[0].interface: expected an integer, got string' })
  t.throws(() => parseResult({ cniVersion: '1.0.0', routes: {} }, '1.0.0'), { message: 'routes: expected an array, got object' })
  t.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{}] }, '1.0.0'), { message: 'ips[0].address: missing' })
  t.throws(() => parseResult([], '1.0.0'), { message: 'cannot parse a result from array: expected an object' })
  // 0.4 parsing drops 1.1-only interface fields (not in the Go struct)
  t.same(parseResult({ cniVersion: '0.4.0', interfaces: [{ name: 'e', mtu: 9000 }] }, '0.4.0'), { cniVersion: '0.4.0', interfaces: [{ name: 'e' }] })
  t.same(parseResult({ cniVersion: '1.1.0', interfaces: [{ name: 'e', mtu: 9000 }] }, '1.1.0'), { cniVersion: '1.1.0', interfaces: [{ name: 'e', mtu: 9000 }] })
})

t.test('prevResult: the config version when it has none; always handed out as 1.1', async t => {
  t.same(parsePrevResult({ ips: [{ version: '4', address: '10.0.0.2/24' }] }, '0.4.0'), { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }] })
  t.same(parsePrevResult({ ip4: { ip: '10.0.0.2/24' } }, '0.2.0'), { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }] })
  t.same(parsePrevResult({}, '1.0.0'), { cniVersion: '1.1.0' }, 'an empty prevResult is fine')
  t.throws(() => parsePrevResult({ cniVersion: '1.0.0' }, '0.3.1'), { message: /^result type supports \[0.3.0 0.3.1 0.4.0\]/ })
})

t.test('address helpers', async t => {
  t.equal(ipVersionOf('10.0.0.1/8'), '4')
  t.equal(ipVersionOf('::ffff:10.0.0.1/104'), '4')
  t.equal(ipVersionOf('fd00::1/64'), '6')
  t.equal(ipVersionOf('fd00::1'), '6')
  t.equal(canonicalCIDR('10.0.0.5/8'), '10.0.0.5/8', 'host bits kept')
  t.equal(canonicalCIDR('10.0.0.5/33'), undefined)
  t.equal(canonicalCIDR('fe80::1%eth0/64'), undefined)
  t.equal(canonicalIP('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1')
  t.equal(canonicalIP('1.2.3.04'), undefined)
})

const STATIC = '/usr/lib/cni/static'
t.test('interop: the Debian Go static plugin prints what we print', { skip: existsSync(STATIC) ? false : `${STATIC} not installed` }, async t => {
  const ipam = {
    type: 'static',
    addresses: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }, { address: '3ffe:ffff:0:01ff::1/64', gateway: '3ffe:ffff:0::1' }],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '10.10.5.1' }, { dst: '3ffe:ffff:0:01ff::1/64' }],
    dns: { nameservers: ['8.8.8.8'], domain: 'example.com', search: ['example.com'] }
  }
  const runStatic = (v: string): string => {
    const r = spawnSync(STATIC, [], {
      input: JSON.stringify({ cniVersion: v, name: 'n', ipam }),
      env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' }
    })
    t.equal(r.status, 0, `static ${v}: ${r.stdout.toString()}`)
    return r.stdout.toString()
  }
  const ref = parseResult(JSON.parse(runStatic('1.0.0')), '1.0.0')
  t.equal(ref.cniVersion, '1.0.0')
  for (const v of ['0.3.0', '0.3.1', '0.4.0']) {
    t.equal(formatResult(convertResult(ref, v)), runStatic(v), `${v}: byte for byte`)
  }
  for (const v of ['0.1.0', '0.2.0']) {
    t.equal(formatResult(convertResult(ref, v)), runStatic(v), `${v}: byte for byte`)
  }
  // deb (lib < 1.2) prints 1.x in struct order; we sort keys: same structure
  t.same(JSON.parse(formatResult(convertResult(ref, '1.0.0'))), JSON.parse(runStatic('1.0.0')))
  // parsing the Go output and printing it again is the identity for 0.x
  const text040 = runStatic('0.4.0')
  t.equal(formatResult(parseResult(JSON.parse(text040), '0.4.0')), text040)
})

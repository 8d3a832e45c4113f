// bin/host-local against the official binary (/usr/lib/cni/host-local, Debian
// 1.1.1: cniVersion <= 1.0.0): the same results, the same error texts, and
// one dataDir shared by both, sequentially and concurrently.
import t from 'tap'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OFFICIAL, OURS, haveOfficial, reservations, run, runAsync, skipWithoutBuild, tempDir } from '../helpers/ipam-exec.js'

const skip = skipWithoutBuild() || (haveOfficial() ? false : `${OFFICIAL} is missing (Debian containernetworking-plugins)`)

/** Results compared structurally: Debian prints an empty "dns": {} that newer versions omit. */
function normalise (r: any): any {
  if (r !== null && typeof r === 'object' && r.dns !== undefined && Object.keys(r.dns).length === 0) {
    const { dns: _dns, ...rest } = r
    return rest
  }
  return r
}

t.test('the same config gives the same result', { skip }, async t => {
  const configs: Array<[string, (dataDir: string) => object, string?]> = [
    ['dual stack, routes, dns', d => ({
      cniVersion: '1.0.0',
      name: 'n1',
      ipam: {
        type: 'host-local',
        dataDir: d,
        resolvConf: join(d, 'resolv.conf'),
        ranges: [[{ subnet: '10.1.2.0/24' }, { subnet: '10.2.2.0/24' }], [{ subnet: '2001:db8:1::0/64' }]],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '2001:db8:2::0/64', gw: '2001:db8:3::1' }]
      }
    })],
    ['legacy subnet, explicit range and gateway', d => ({
      cniVersion: '0.4.0',
      name: 'n2',
      ipam: { type: 'host-local', dataDir: d, subnet: '192.168.10.0/24', rangeStart: '192.168.10.100', rangeEnd: '192.168.10.110', gateway: '192.168.10.100' }
    })],
    ['requested addresses from args, runtimeConfig and CNI_ARGS', d => ({
      cniVersion: '0.3.1',
      name: 'n3',
      ipam: { type: 'host-local', dataDir: d, ranges: [[{ subnet: '10.5.0.0/16' }], [{ subnet: 'fd00:5::/64' }]] },
      args: { cni: { ips: ['fd00:5::77'] } },
      runtimeConfig: { ips: ['10.5.3.3/16'] }
    }), 'IgnoreUnknown=1;K8S_POD_NAME=x'],
    ['0.2.0 dual stack', d => ({
      cniVersion: '0.2.0',
      name: 'n4',
      ipam: { type: 'host-local', dataDir: d, ranges: [[{ subnet: '10.6.0.0/24' }], [{ subnet: 'fd00:6::/120' }]], routes: [{ dst: '0.0.0.0/0', gw: '10.6.0.1' }] }
    })]
  ]
  for (const [what, conf, args] of configs) {
    const ours = tempDir(t)
    const theirs = tempDir(t)
    for (const d of [ours, theirs]) writeFileSync(join(d, 'resolv.conf'), 'nameserver 192.0.2.3\nsearch example.com\noptions ndots:5\n')
    const a = run(OURS, { command: 'ADD', args }, conf(ours))
    const b = run(OFFICIAL, { command: 'ADD', args }, conf(theirs))
    t.equal(a.status, 0, `${what}: ours ${a.stdout}`)
    t.equal(b.status, 0, `${what}: official ${b.stdout}`)
    t.same(normalise(a.json), normalise(b.json), `${what}: same result`)
    const name = (conf(ours) as { name: string }).name
    t.same(reservations(ours, name), reservations(theirs, name), `${what}: same reservation files`)
    const lastFiles = (d: string): Record<string, string> => Object.fromEntries(readdirSync(join(d, name))
      .filter(f => f.startsWith('last_reserved_ip.')).map(f => [f, readFileSync(join(d, name, f), 'latin1')]))
    t.same(lastFiles(ours), lastFiles(theirs), `${what}: same last_reserved_ip files`)
  }
})

t.test('the same error texts as the official plugin', { skip }, async t => {
  const d = tempDir(t)
  const bad: Array<[string, object]> = [
    ['rangeStart outside', { ranges: [[{ subnet: '10.1.2.0/24', rangeStart: '10.1.3.1' }]] }],
    ['host bits', { ranges: [[{ subnet: '10.1.2.3/24' }]] }],
    ['too small', { ranges: [[{ subnet: '10.1.2.0/31' }]] }],
    ['overlap in a set', { ranges: [[{ subnet: '10.1.0.0/22' }, { subnet: '10.1.2.0/24' }]] }],
    ['overlapping sets', { ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.2.0/25' }]] }],
    ['mixed families', { ranges: [[{ subnet: '10.1.0.0/22' }, { subnet: '2001:db8:5::/64' }]] }],
    ['bad CIDR', { ranges: [[{ subnet: '10.1.2.0/40' }]] }],
    ['no ranges', {}]
  ]
  for (const [what, ipam] of bad) {
    const conf = { cniVersion: '1.0.0', name: 'e', ipam: { type: 'host-local', dataDir: d, ...ipam } }
    const a = run(OURS, { command: 'ADD' }, conf)
    const b = run(OFFICIAL, { command: 'ADD' }, conf)
    t.equal(b.json?.code, 999, `${what}: upstream says 999`)
    t.equal(a.json?.code, 7, `${what}: we say 7 (invalid network config)`)
    t.equal(a.json?.msg, b.json?.msg, `${what}: same text "${String(b.json?.msg)}"`)
  }
})

t.test('one dataDir, both plugins, in turns', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = { cniVersion: '1.0.0', name: 'shared', ipam: { type: 'host-local', dataDir, subnet: '10.4.0.0/24' } }
  const addr = (r: { json: any }): string => r.json?.ips?.[0]?.address
  t.equal(addr(run(OFFICIAL, { command: 'ADD', containerId: 'go1' }, conf)), '10.4.0.2/24')
  t.equal(addr(run(OURS, { command: 'ADD', containerId: 'ts1' }, conf)), '10.4.0.3/24', 'ours goes on from the official last_reserved_ip')
  t.equal(addr(run(OFFICIAL, { command: 'ADD', containerId: 'go2' }, conf)), '10.4.0.4/24', 'the official plugin goes on from ours')
  t.match(run(OURS, { command: 'ADD', containerId: 'go1' }, conf).json?.msg, /10\.4\.0\.2 has been allocated to go1, duplicate/, 'ours sees the official reservation')
  t.match(run(OFFICIAL, { command: 'ADD', containerId: 'ts1' }, conf).json?.msg, /10\.4\.0\.3 has been allocated to ts1, duplicate/, 'the official plugin sees ours')
  t.equal(run(OURS, { command: 'CHECK', containerId: 'go2' }, conf).status, 0, 'our CHECK finds an official reservation')
  t.equal(run(OFFICIAL, { command: 'CHECK', containerId: 'ts1' }, conf).status, 0, 'the official CHECK finds ours')
  t.equal(run(OURS, { command: 'DEL', containerId: 'go1' }, conf).status, 0)
  t.equal(run(OFFICIAL, { command: 'DEL', containerId: 'ts1' }, conf).status, 0)
  t.same(reservations(dataDir, 'shared'), { '10.4.0.4': 'go2\r\neth0' }, 'each removed the other’s file')
  // Requested addresses across plugins.
  t.equal(run(OFFICIAL, { command: 'ADD', containerId: 'go3', args: 'IP=10.4.0.50' }, conf).status, 0)
  const taken = run(OURS, { command: 'ADD', containerId: 'ts3', args: 'IP=10.4.0.50' }, conf)
  t.equal(taken.json?.msg, 'failed to allocate for range 0: requested IP address 10.4.0.50 is not available in range set 10.4.0.1-10.4.0.254')
  // Our GC over files written by the official plugin (which has no GC).
  const gc = run(OURS, { command: 'GC', containerId: '', ifname: '', netns: '' },
    { ...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'go3', ifname: 'eth0' }] })
  t.equal(gc.status, 0, gc.stdout)
  t.same(reservations(dataDir, 'shared'), { '10.4.0.50': 'go3\r\neth0' })
  t.equal(run(OFFICIAL, { command: 'DEL', containerId: 'go3' }, conf).status, 0)
  t.same(reservations(dataDir, 'shared'), {})
})

t.test('20 concurrent ADDs from both plugins: 20 distinct addresses; the DELs leave no file', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = { cniVersion: '1.0.0', name: 'race', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.3.0.0/24' }], [{ subnet: 'fd00:3::/64' }]] } }
  // Create the store first, so that the two plugins do not race to create the directory.
  t.equal(run(OFFICIAL, { command: 'DEL', containerId: 'nobody' }, conf).status, 0)
  const ids = Array.from({ length: 20 }, (_, i) => `c${i}`)
  const adds = await Promise.all(ids.map((id, i) => runAsync(i % 2 === 0 ? OURS : OFFICIAL, { command: 'ADD', containerId: id }, conf)))
  for (const [i, r] of adds.entries()) t.equal(r.status, 0, `ADD ${ids[i]!} by ${i % 2 === 0 ? 'ours' : 'official'}: ${r.stdout}`)
  const v4 = adds.map(r => r.json?.ips?.[0]?.address)
  const v6 = adds.map(r => r.json?.ips?.[1]?.address)
  t.equal(new Set(v4).size, 20, 'distinct IPv4 addresses')
  t.equal(new Set(v6).size, 20, 'distinct IPv6 addresses')
  const files = reservations(dataDir, 'race')
  t.equal(Object.keys(files).length, 40, 'one file per address')
  for (const [i, id] of ids.entries()) {
    t.equal(files[v4[i].split('/')[0]], `${id}\r\neth0`, `${id} owns its IPv4 file`)
  }
  const dels = await Promise.all(ids.map((id, i) => runAsync(i % 3 === 0 ? OFFICIAL : OURS, { command: 'DEL', containerId: id }, conf)))
  for (const r of dels) t.equal(r.status, 0, r.stdout)
  t.same(reservations(dataDir, 'race'), {}, 'no address file left')
  t.same(readdirSync(join(dataDir, 'race')).sort(), ['last_reserved_ip.0', 'last_reserved_ip.1', 'lock'])
})

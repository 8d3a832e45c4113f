// bin/host-local exec'd as a runtime execs it, on temp dataDirs: upstream's
// host_local_test.go behaviours for every spec version, plus CHECK, GC and
// STATUS.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OURS, reservations, run, skipWithoutBuild, tempDir } from '../helpers/ipam-exec.js'

const VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']
const skip = skipWithoutBuild()

const routesIn = [
  { dst: '0.0.0.0/0' },
  { dst: '::/0' },
  { dst: '192.168.0.0/16', gw: '1.1.1.1' },
  { dst: '2001:db8:2::0/64', gw: '2001:db8:3::1' }
]

function dualStack (version: string, dataDir: string, name = 'mynet'): object {
  return {
    cniVersion: version,
    name,
    type: 'ipvlan',
    master: 'foo0',
    ipam: {
      type: 'host-local',
      dataDir,
      resolvConf: join(dataDir, 'resolv.conf'),
      ranges: [[{ subnet: '10.1.2.0/24' }, { subnet: '10.2.2.0/24' }], [{ subnet: '2001:db8:1::0/64' }]],
      routes: routesIn
    }
  }
}

function expectedResult (version: string): object {
  const dns = { nameservers: ['192.0.2.3'] }
  const v4 = { address: '10.1.2.2/24', gateway: '10.1.2.1' }
  const v6 = { address: '2001:db8:1::2/64', gateway: '2001:db8:1::1' }
  const routes = [{ dst: '0.0.0.0/0' }, { dst: '::/0' }, { dst: '192.168.0.0/16', gw: '1.1.1.1' }, { dst: '2001:db8:2::/64', gw: '2001:db8:3::1' }]
  if (version === '0.1.0' || version === '0.2.0') {
    return {
      cniVersion: version,
      ip4: { ip: v4.address, gateway: v4.gateway, routes: [routes[0], routes[2]] },
      ip6: { ip: v6.address, gateway: v6.gateway, routes: [routes[1], routes[3]] },
      dns
    }
  }
  if (version.startsWith('0.')) {
    return { cniVersion: version, ips: [{ version: '4', ...v4 }, { version: '6', ...v6 }], routes, dns }
  }
  return { cniVersion: version, ips: [v4, v6], routes, dns }
}

t.test('ADD/DEL, dual stack, every version', { skip }, async t => {
  for (const version of VERSIONS) {
    t.test(version, async t => {
      const dataDir = tempDir(t)
      writeFileSync(join(dataDir, 'resolv.conf'), 'nameserver 192.0.2.3')
      const conf = dualStack(version, dataDir)
      const add = run(OURS, { command: 'ADD' }, conf)
      t.equal(add.status, 0, add.stdout)
      t.equal(add.stderr, '', 'nothing on stderr (no "Error retrieving last reserved ip")')
      t.same(add.json, expectedResult(version))
      t.equal(add.stdout.includes('"version":'), version.startsWith('0.3') || version === '0.4.0', '"version" only in 0.3/0.4')
      const net = join(dataDir, 'mynet')
      t.equal(readFileSync(join(net, '10.1.2.2'), 'latin1'), 'dummy\r\neth0')
      t.equal(readFileSync(join(net, '2001:db8:1::2'), 'latin1'), 'dummy\r\neth0')
      t.equal(readFileSync(join(net, 'last_reserved_ip.0'), 'latin1'), '10.1.2.2')
      t.equal(readFileSync(join(net, 'last_reserved_ip.1'), 'latin1'), '2001:db8:1::2')
      t.equal(statSync(join(net, '10.1.2.2')).mode & 0o777, 0o600)
      if (version === '0.4.0' || version.startsWith('1.')) {
        const check = run(OURS, { command: 'CHECK' }, { ...conf, prevResult: add.json })
        t.equal(check.status, 0, `CHECK: ${check.stdout}`)
      }
      const del = run(OURS, { command: 'DEL' }, conf)
      t.equal(del.status, 0, del.stdout)
      t.equal(del.stdout, '')
      t.notOk(existsSync(join(net, '10.1.2.2')))
      t.notOk(existsSync(join(net, '2001:db8:1::2')))
      t.same(reservations(dataDir, 'mynet'), {})
    })
  }
})

t.test('one container, two interfaces; other containers; duplicates', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = { cniVersion: '1.0.0', name: 'mynet0', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/24' }]] } }
  const a0 = run(OURS, { command: 'ADD', ifname: 'eth0' }, conf)
  const a1 = run(OURS, { command: 'ADD', ifname: 'eth1' }, conf)
  t.equal(a0.json.ips[0].address, '10.1.2.2/24')
  t.equal(a1.json.ips[0].address, '10.1.2.3/24')
  const other = run(OURS, { command: 'ADD', containerId: 'other' }, conf)
  t.equal(other.json.ips[0].address, '10.1.2.4/24', 'another id gets the next address')
  const dup = run(OURS, { command: 'ADD', ifname: 'eth0' }, conf)
  t.equal(dup.status, 1)
  t.same(dup.json, { cniVersion: '1.0.0', code: 999, msg: 'failed to allocate for range 0: 10.1.2.2 has been allocated to dummy, duplicate allocation is not allowed' })
  t.same(reservations(dataDir, 'mynet0'), { '10.1.2.2': 'dummy\r\neth0', '10.1.2.3': 'dummy\r\neth1', '10.1.2.4': 'other\r\neth0' })
  t.equal(readFileSync(join(dataDir, 'mynet0', 'last_reserved_ip.0'), 'latin1'), '10.1.2.4', 'the failed ADD left the round robin where it was')

  t.equal(run(OURS, { command: 'DEL', ifname: 'eth1' }, conf).status, 0)
  t.same(reservations(dataDir, 'mynet0'), { '10.1.2.2': 'dummy\r\neth0', '10.1.2.4': 'other\r\neth0' }, 'each DEL releases its own interface')
  t.equal(run(OURS, { command: 'DEL', ifname: 'eth0' }, conf).status, 0)
  t.same(reservations(dataDir, 'mynet0'), { '10.1.2.4': 'other\r\neth0' })
  const next = run(OURS, { command: 'ADD', containerId: 'third' }, conf)
  t.equal(next.json.ips[0].address, '10.1.2.5/24', 'round robin: released addresses are not reused at once')
})

t.test('legacy files, unknown containers, missing dataDir', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = { cniVersion: '0.3.1', name: 'mynet', ipam: { type: 'host-local', dataDir, subnet: '10.1.2.0/24' } }
  mkdirSync(join(dataDir, 'mynet'))
  writeFileSync(join(dataDir, 'mynet', '10.1.2.2'), 'dummy')
  const dupLegacy = run(OURS, { command: 'ADD' }, conf)
  t.match(dupLegacy.json?.msg, /10\.1\.2\.2 has been allocated to dummy/, 'a legacy file counts for the duplicate check')
  t.equal(run(OURS, { command: 'DEL' }, conf).status, 0)
  t.same(reservations(dataDir, 'mynet'), {}, 'DEL removed the legacy id-only file')
  const unknown = run(OURS, { command: 'DEL', containerId: 'never-seen' }, conf)
  t.equal(unknown.status, 0, 'DEL of an unknown id succeeds')
  const nowhere = join(dataDir, 'does', 'not', 'exist')
  const delNowhere = run(OURS, { command: 'DEL' }, { ...conf, ipam: { ...conf.ipam, dataDir: nowhere } })
  t.equal(delNowhere.status, 0, 'DEL succeeds when the dataDir does not exist')
  t.notOk(existsSync(join(dataDir, 'does')), '…and creates nothing')
  const noNetns = run(OURS, { command: 'DEL', netns: '' }, conf)
  t.equal(noNetns.status, 0, 'DEL without CNI_NETNS')
})

t.test('requested addresses: args.cni.ips, runtimeConfig.ips, CNI_ARGS IP', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = {
    cniVersion: '0.3.1',
    name: 'mynet',
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/24' }], [{ subnet: '2001:db8:1::/64' }]] },
    args: { cni: { ips: ['10.1.2.88', '2001:db8:1::999'] } }
  }
  const add = run(OURS, { command: 'ADD' }, conf)
  t.same(add.json.ips.map((i: { address: string }) => i.address), ['10.1.2.88/24', '10.1.3.2/24', '2001:db8:1::999/64'])
  const rc = { ...conf, args: undefined, runtimeConfig: { ips: ['10.1.3.50/24'] } }
  const add2 = run(OURS, { command: 'ADD', containerId: 'c2', args: 'IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.1.2.77' }, rc)
  t.same(add2.json.ips.map((i: { address: string }) => i.address), ['10.1.2.77/24', '10.1.3.50/24', '2001:db8:1::99a/64'], 'the v6 set goes on after its last reserved ::999')
})

t.test('exhaustion names the range; STATUS 50 on a full /30 (opt-in); GC', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = { cniVersion: '1.1.0', name: 'tiny', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.9.0.0/30' }]] } }
  t.equal(run(OURS, { command: 'STATUS' }, conf).status, 0, 'STATUS before anything exists')
  t.notOk(existsSync(join(dataDir, 'tiny')), 'STATUS creates nothing')
  const first = run(OURS, { command: 'ADD', containerId: 'a' }, conf)
  t.equal(first.json.ips[0].address, '10.9.0.2/30')
  const full = run(OURS, { command: 'ADD', containerId: 'b' }, conf)
  t.same(full.json, { cniVersion: '1.1.0', code: 999, msg: 'failed to allocate for range 0: no IP addresses available in range set: 10.9.0.1-10.9.0.2' })
  t.equal(run(OURS, { command: 'STATUS', containerId: '', ifname: '', netns: '' }, conf).status, 0, 'a full range is ready by default')
  const status = run(OURS, { command: 'STATUS', containerId: '', ifname: '', netns: '' }, { ...conf, ipam: { ...conf.ipam, statusFailsWhenFull: true } })
  t.equal(status.status, 1)
  t.same(status.json, { cniVersion: '1.1.0', code: 50, msg: 'no IP addresses available in range set: 10.9.0.1-10.9.0.2', details: 'range set 0 (ipam.ranges[0]) is exhausted' })

  // GC: a is no longer valid, c is.
  run(OURS, { command: 'DEL', containerId: 'a' }, conf)
  run(OURS, { command: 'ADD', containerId: 'c' }, conf)
  const wide = { ...conf, name: 'wide', ipam: { ...conf.ipam, ranges: [[{ subnet: '10.8.0.0/24' }]] } }
  for (const [id, ifname] of [['keep', 'eth0'], ['keep', 'eth1'], ['stale', 'eth0'], ['stale2', 'eth0']]) {
    t.equal(run(OURS, { command: 'ADD', containerId: id, ifname }, wide).status, 0)
  }
  const gc = run(OURS, { command: 'GC', containerId: '', ifname: '', netns: '' },
    { ...wide, 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }], 'cni.dev/attachments': [{ containerID: 'keep', ifname: 'eth1' }] })
  t.equal(gc.status, 0, gc.stdout)
  t.same(reservations(dataDir, 'wide'), { '10.8.0.2': 'keep\r\neth0', '10.8.0.3': 'keep\r\neth1' })
  t.same(readdirSync(join(dataDir, 'wide')).sort(), ['10.8.0.2', '10.8.0.3', 'last_reserved_ip.0', 'lock'], 'lock and last_reserved_ip kept')
  const gcOld = run(OURS, { command: 'GC' }, { ...wide, cniVersion: '1.0.0', 'cni.dev/valid-attachments': [] })
  t.equal(gcOld.json?.code, 1, 'GC needs a 1.1.0 config')
  const gcNoList = run(OURS, { command: 'GC' }, wide)
  t.same(gcNoList.json, { cniVersion: '1.1.0', code: 7, msg: 'GC needs the list of valid attachments', details: 'cni.dev/valid-attachments' })
  t.equal(Object.keys(reservations(dataDir, 'wide')).length, 2, 'a GC without the list removes nothing')
})

t.test('CHECK', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = { cniVersion: '1.0.0', name: 'mynet', ipam: { type: 'host-local', dataDir, subnet: '10.1.2.0/24' } }
  const missing = run(OURS, { command: 'CHECK' }, conf)
  t.same(missing.json, { cniVersion: '1.0.0', code: 999, msg: 'host-local: Failed to find address added by container dummy' })
  const add = run(OURS, { command: 'ADD' }, conf)
  t.equal(run(OURS, { command: 'CHECK' }, conf).status, 0, 'without prevResult, as upstream')
  t.equal(run(OURS, { command: 'CHECK' }, { ...conf, prevResult: add.json }).status, 0)
  const wrong = run(OURS, { command: 'CHECK' }, { ...conf, prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.1.2.77/24' }] } })
  t.same(wrong.json, { cniVersion: '1.0.0', code: 999, msg: 'host-local: address 10.1.2.77 of prevResult is not reserved for container dummy interface eth0' })
  const elsewhere = run(OURS, { command: 'CHECK' }, { ...conf, prevResult: { cniVersion: '1.0.0', ips: [{ address: '192.168.9.9/24' }, add.json.ips[0]] } })
  t.equal(elsewhere.status, 0, 'addresses outside our ranges (another IPAM in the chain) are not ours to check')
  run(OURS, { command: 'DEL' }, conf)
  t.equal(run(OURS, { command: 'CHECK' }, conf).status, 1, 'fails after DEL')
  t.equal(run(OURS, { command: 'CHECK' }, { ...conf, cniVersion: '0.3.1' }).json?.msg, 'config version does not allow CHECK')
})

t.test('warnings go to stderr, the result to stdout; VERSION', { skip }, async t => {
  const dataDir = tempDir(t)
  const conf = { cniVersion: '1.0.0', name: 'mynet', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/24', gateway: '10.99.0.1' }]] } }
  const add = run(OURS, { command: 'ADD' }, conf)
  t.equal(add.status, 0)
  t.same(add.json.ips, [{ address: '10.1.2.1/24', gateway: '10.99.0.1' }], 'with the gateway elsewhere, .1 is handed out')
  t.match(add.stderr, /warn: ipam\.ranges\[0\]\[0\]\.gateway: gateway 10\.99\.0\.1 is outside subnet 10\.1\.2\.0\/24/)
  const version = run(OURS, { command: 'VERSION' }, '')
  t.same(version.json, { cniVersion: '1.1.0', supportedVersions: VERSIONS })
})

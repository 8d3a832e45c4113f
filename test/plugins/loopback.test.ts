// bin/loopback exec'd as a runtime execs it, in namespaces this test makes;
// kernel state read back with `ip -j` (an independent oracle).
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, run } from '../helpers/ipam-exec.js'
import { rootSkip, withNamespaces } from '../helpers/netns.js'

const LOOPBACK = join(ROOT, 'bin', 'loopback')
const OFFICIAL = '/usr/lib/cni/loopback'
const skip = rootSkip !== false ? rootSkip : existsSync(LOOPBACK) ? false : `${LOOPBACK} is missing: run npm run build first`
const conf = (v?: string): object => v === undefined ? { name: 'lo', type: 'loopback' } : { cniVersion: v, name: 'lo', type: 'loopback' }
const loFlags = (ns: { ipJson: <T>(...a: string[]) => T }): string[] => ns.ipJson<Array<{ flags: string[] }>>('link', 'show', 'lo')[0]!.flags

t.test('ADD brings lo up with 127.0.0.1/8 and ::1; DEL brings it down; CHECK follows', { skip }, async (t) => {
  const [a] = withNamespaces(t, 1)
  const netns = `/var/run/netns/${a!.name}`
  t.notOk(loFlags(a!).includes('UP'), 'lo starts down')
  const add = run(LOOPBACK, { command: 'ADD', netns }, conf('1.0.0'))
  t.equal(add.status, 0, add.stdout + add.stderr)
  t.same(add.json, {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: netns }],
    ips: [{ interface: 0, address: '127.0.0.1/8' }, { interface: 0, address: '::1/128' }]
  })
  t.ok(loFlags(a!).includes('UP'), 'lo is UP (ip -j link)')
  const addrs = a!.ipJson<Array<{ addr_info: Array<{ local: string }> }>>('addr', 'show', 'lo')[0]!.addr_info.map(x => x.local)
  t.same(addrs.sort(), ['127.0.0.1', '::1'])
  t.equal(run(LOOPBACK, { command: 'CHECK', netns }, conf('1.0.0')).status, 0, 'CHECK passes while up')

  const del = run(LOOPBACK, { command: 'DEL', netns }, conf('1.0.0'))
  t.equal(del.status, 0, del.stderr)
  t.equal(del.stdout, '')
  t.notOk(loFlags(a!).includes('UP'), 'lo is down after DEL')
  const check = run(LOOPBACK, { command: 'CHECK', netns }, conf('1.0.0'))
  t.equal(check.status, 1)
  t.match(check.json, { code: 999, msg: 'loopback interface is down' })
})

t.test('results in every version', { skip }, async (t) => {
  const [a] = withNamespaces(t, 1)
  const netns = `/var/run/netns/${a!.name}`
  const v04 = run(LOOPBACK, { command: 'ADD', netns }, conf('0.4.0')).json
  t.same(v04.ips, [{ version: '4', interface: 0, address: '127.0.0.1/8' }, { version: '6', interface: 0, address: '::1/128' }], '0.4.0 carries ip versions')
  t.same(v04.dns, {})
  const v01 = run(LOOPBACK, { command: 'ADD', netns }, conf()).json
  t.same(v01, { cniVersion: '0.1.0', ip4: { ip: '127.0.0.1/8' }, ip6: { ip: '::1/128' }, dns: {} }, 'no cniVersion → 0.1.0')
  const v11 = run(LOOPBACK, { command: 'ADD', netns }, conf('1.1.0'))
  t.equal(v11.json.cniVersion, '1.1.0')
  const prev = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.1.0.2/24', interface: 0 }] }
  const chained = run(LOOPBACK, { command: 'ADD', netns }, { ...conf('1.0.0'), prevResult: prev })
  t.same(chained.json, prev, 'a prevResult is passed on unchanged')
})

t.test('same result structure as the official loopback at 1.0.0', { skip: skip !== false ? skip : existsSync(OFFICIAL) ? false : 'official plugins not installed' }, async (t) => {
  const [a, b] = withNamespaces(t, 2)
  const ours = run(LOOPBACK, { command: 'ADD', netns: `/var/run/netns/${a!.name}` }, conf('1.0.0')).json
  const theirs = run(OFFICIAL, { command: 'ADD', netns: `/var/run/netns/${b!.name}` }, conf('1.0.0')).json
  delete theirs.dns // Go prints an empty dns; we omit it, like plugins >= 1.6
  ours.interfaces[0].sandbox = theirs.interfaces[0].sandbox
  t.same(ours, theirs)
})

t.test('errors and DEL leniency', { skip }, async (t) => {
  const missing = run(LOOPBACK, { command: 'ADD', netns: '/var/run/netns/tscni-no-such-ns' }, conf('1.0.0'))
  t.equal(missing.status, 1)
  t.match(missing.json, { cniVersion: '1.0.0', code: 4, msg: /CNI_NETNS: failed to Statfs "\/var\/run\/netns\/tscni-no-such-ns": no such file or directory/ })
  const notNs = run(LOOPBACK, { command: 'ADD', netns: '/etc/hostname' }, conf('1.0.0'))
  t.match(notNs.json, { code: 4, msg: /unknown FS magic on "\/etc\/hostname"/ })
  t.equal(run(LOOPBACK, { command: 'DEL', netns: '/var/run/netns/tscni-no-such-ns' }, conf('1.0.0')).status, 0, 'DEL of a gone namespace succeeds')
  t.equal(run(LOOPBACK, { command: 'DEL', netns: '' }, conf('1.0.0')).status, 0, 'DEL without a namespace succeeds')
  const [a] = withNamespaces(t, 1)
  a!.ip('link', 'set', 'lo', 'up')
  a!.ip('addr', 'add', '192.0.2.9/24', 'dev', 'lo')
  const bad = run(LOOPBACK, { command: 'ADD', netns: `/var/run/netns/${a!.name}` }, conf('1.0.0'))
  t.match(bad.json, { code: 999, msg: 'loopback interface found with non-loopback address "192.0.2.9"' })
  const ver = run(LOOPBACK, { command: 'VERSION' }, '')
  t.same(ver.json, { cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] })
})

// Bad input to bin/host-local: each case gets its exact code and message,
// and the dataDir must be byte for byte as before (no file, directory,
// reservation or round-robin position changed, nothing created).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OURS, type Invocation, run, skipWithoutBuild, snapshot, tempDir } from '../helpers/ipam-exec.js'

const skip = skipWithoutBuild()

interface Case {
  what: string
  inv?: Partial<Invocation>
  /** The config, or a function of the dataDir giving it; a string is sent as is. */
  stdin: (dataDir: string) => string | object
  code: number
  msg: string | RegExp
  details?: string | RegExp
}

const good = (dataDir: string, extra: object = {}, ipam: object = {}): object => ({
  cniVersion: '1.0.0',
  name: 'mynet',
  ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/24' }]], ...ipam },
  ...extra
})

const cases: Case[] = [
  { what: 'malformed JSON', stdin: () => '{"cniVersion": "1.0.0", "name": ', code: 6, msg: /^error unmarshall network config: / },
  { what: 'empty stdin', stdin: () => '', code: 6, msg: 'error unmarshall network config: unexpected end of JSON input' },
  { what: 'a JSON array', stdin: () => '[]', code: 6, msg: /^error unmarshall network config: / },
  { what: 'missing CNI_CONTAINERID', inv: { env: { CNI_CONTAINERID: undefined } }, stdin: d => good(d), code: 4, msg: 'required env variables [CNI_CONTAINERID] missing' },
  { what: 'missing CNI_IFNAME', inv: { env: { CNI_IFNAME: undefined } }, stdin: d => good(d), code: 4, msg: 'required env variables [CNI_IFNAME] missing' },
  { what: 'missing CNI_NETNS on ADD', inv: { env: { CNI_NETNS: undefined } }, stdin: d => good(d), code: 4, msg: 'required env variables [CNI_NETNS] missing' },
  {
    what: 'several missing, one error',
    inv: { env: { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined, CNI_PATH: undefined } },
    stdin: d => good(d),
    code: 4,
    msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing'
  },
  { what: 'unknown command', inv: { command: 'NOPE' }, stdin: d => good(d), code: 4, msg: 'unknown CNI_COMMAND: NOPE' },
  { what: 'unsupported version', stdin: d => good(d, { cniVersion: '2.0.0' }), code: 1, msg: 'incompatible CNI versions', details: /^config is "2\.0\.0", plugin supports \["0\.1\.0"/ },
  { what: 'CHECK with 0.3.1', inv: { command: 'CHECK' }, stdin: d => good(d, { cniVersion: '0.3.1' }), code: 1, msg: 'config version does not allow CHECK' },
  { what: 'missing network name', stdin: d => good(d, { name: '' }), code: 7, msg: 'missing network name' },
  { what: 'network name ".."', stdin: d => good(d, { name: '..' }), code: 7, msg: 'invalid characters found in network name', details: '..' },
  { what: 'network name with "/"', stdin: d => good(d, { name: 'a/../../etc' }), code: 7, msg: 'invalid characters found in network name' },
  { what: 'container ID escaping', inv: { containerId: '../../etc' }, stdin: d => good(d), code: 4, msg: 'invalid characters in containerID', details: '../../etc' },
  { what: 'container ID with "/"', inv: { containerId: 'a/b' }, stdin: d => good(d), code: 4, msg: 'invalid characters in containerID' },
  { what: 'interface name too long', inv: { ifname: 'eth0123456789abcdef' }, stdin: d => good(d), code: 4, msg: 'interface name is too long' },
  { what: 'no ipam', stdin: () => ({ cniVersion: '1.0.0', name: 'mynet' }), code: 7, msg: "IPAM config missing 'ipam' key", details: 'ipam' },
  { what: 'no ranges', stdin: d => good(d, {}, { ranges: [] }), code: 7, msg: 'no IP ranges specified' },
  { what: 'bad subnet', stdin: d => good(d, {}, { ranges: [[{ subnet: '10.1.2.0/33' }]] }), code: 7, msg: 'invalid CIDR address: 10.1.2.0/33', details: 'ipam.ranges[0][0].subnet' },
  { what: 'subnet too small', stdin: d => good(d, {}, { ranges: [[{ subnet: '10.1.2.0/31' }]] }), code: 7, msg: 'invalid range set 0: Network 10.1.2.0/31 too small to allocate from' },
  { what: 'rangeStart outside the subnet', stdin: d => good(d, {}, { ranges: [[{ subnet: '10.1.2.0/24', rangeStart: '10.1.3.5' }]] }), code: 7, msg: 'invalid range set 0: RangeStart 10.1.3.5 not in network 10.1.2.0/24', details: 'ipam.ranges[0][0].rangeStart' },
  { what: 'rangeEnd before rangeStart', stdin: d => good(d, {}, { ranges: [[{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.50', rangeEnd: '10.1.2.20' }]] }), code: 7, msg: 'invalid range set 0: RangeStart 10.1.2.50 not in network 10.1.2.0/24' },
  { what: 'overlapping ranges in a set', stdin: d => good(d, {}, { ranges: [[{ subnet: '10.1.0.0/22' }, { subnet: '10.1.2.0/24' }]] }), code: 7, msg: 'invalid range set 0: subnets 10.1.0.1-10.1.3.254 and 10.1.2.1-10.1.2.254 overlap' },
  { what: 'overlapping range sets', stdin: d => good(d, {}, { ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.2.128/25' }]] }), code: 7, msg: 'range set 0 overlaps with 1', details: 'ipam.ranges[1]' },
  { what: 'two v4 sets with 0.2.0', stdin: d => good(d, { cniVersion: '0.2.0' }, { ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/24' }]] }), code: 1, msg: 'CNI version 0.2.0 does not support more than 1 address per family' },
  { what: 'requested IP taken', inv: { containerId: 'late' }, stdin: d => good(d, { args: { cni: { ips: ['10.1.2.2'] } } }), code: 999, msg: 'failed to allocate for range 0: requested IP address 10.1.2.2 is not available in range set 10.1.2.1-10.1.2.254' },
  {
    what: 'requested IP taken in a later set (the earlier set’s allocation is undone)',
    inv: { containerId: 'late' },
    stdin: d => good(d, { runtimeConfig: { ips: ['10.1.2.2'] } }, { ranges: [[{ subnet: '10.1.9.0/24' }], [{ subnet: '10.1.2.0/24' }]] }),
    code: 999,
    msg: 'failed to allocate for range 1: requested IP address 10.1.2.2 is not available in range set 10.1.2.1-10.1.2.254'
  },
  { what: 'requested IP outside every range', stdin: d => good(d, { runtimeConfig: { ips: ['192.168.7.7'] } }), code: 7, msg: 'failed to allocate all requested IPs: 192.168.7.7', details: 'runtimeConfig.ips[0]' },
  { what: 'requested IP not an address', stdin: d => good(d, { args: { cni: { ips: ['banana'] } } }), code: 7, msg: 'invalid IP address banana', details: 'args.cni.ips[0]' },
  { what: 'requested gateway', inv: { args: 'IP=10.1.2.1' }, stdin: d => good(d), code: 7, msg: "failed to allocate for range 0: requested ip 10.1.2.1 is subnet's gateway" },
  { what: 'unknown CNI_ARGS key', inv: { args: 'FOO=bar' }, stdin: d => good(d), code: 4, msg: 'ARGS: unknown args ["FOO=bar"]', details: 'CNI_ARGS' },
  { what: 'duplicate ADD', inv: { containerId: 'existing' }, stdin: d => good(d), code: 999, msg: 'failed to allocate for range 0: 10.1.2.2 has been allocated to existing, duplicate allocation is not allowed' },
  { what: 'resolvConf missing', stdin: d => good(d, {}, { resolvConf: join(d, 'nope.conf') }), code: 7, msg: /^open \/.*\/nope\.conf: no such file or directory$/, details: 'ipam.resolvConf' },
  { what: 'dataDir of the wrong type', stdin: () => ({ cniVersion: '1.0.0', name: 'mynet', ipam: { type: 'host-local', dataDir: 42, subnet: '10.1.2.0/24' } }), code: 7, msg: 'invalid host-local config', details: 'ipam.dataDir: expected string, got number 42' },
  { what: 'DEL with a broken config', inv: { command: 'DEL', containerId: 'existing' }, stdin: d => good(d, {}, { ranges: [[{ subnet: 'nope' }]] }), code: 7, msg: 'invalid CIDR address: nope' },
  { what: 'a new network in an existing dataDir, bad range', stdin: d => good(d, { name: 'fresh' }, { ranges: [[{ subnet: '10.7.0.0/16', rangeEnd: '10.8.0.1' }]] }), code: 7, msg: 'invalid range set 0: RangeEnd 10.8.0.1 not in network 10.7.0.0/16' }
]

t.test('bad input: exact errors, dataDir untouched', { skip }, async t => {
  const dataDir = tempDir(t)
  writeFileSync(join(dataDir, 'resolv.conf'), 'nameserver 192.0.2.3\n')
  const setup = run(OURS, { command: 'ADD', containerId: 'existing' }, good(dataDir))
  t.equal(setup.status, 0, setup.stdout)
  t.equal(setup.json.ips[0].address, '10.1.2.2/24')
  t.ok(cases.length >= 20, `${cases.length} cases`)
  for (const c of cases) {
    const before = snapshot(dataDir)
    const r = run(OURS, { command: 'ADD', ...c.inv }, c.stdin(dataDir))
    t.equal(r.status, 1, `${c.what}: exit status`)
    t.equal(r.json?.code, c.code, `${c.what}: code (${r.stdout})`)
    if (typeof c.msg === 'string') t.equal(r.json?.msg, c.msg, `${c.what}: msg`)
    else t.match(r.json?.msg, c.msg, `${c.what}: msg`)
    if (typeof c.details === 'string') t.equal(r.json?.details, c.details, `${c.what}: details`)
    else if (c.details !== undefined) t.match(r.json?.details, c.details, `${c.what}: details`)
    t.same(snapshot(dataDir), before, `${c.what}: dataDir unchanged`)
  }
})

t.test('a dataDir that cannot be written: code 5, nothing created', { skip }, async t => {
  const dataDir = tempDir(t)
  if (spawnSync('chattr', ['+i', dataDir]).status !== 0) {
    t.skip('chattr +i is not supported on this filesystem')
    return
  }
  t.teardown(() => { spawnSync('chattr', ['-i', dataDir]) })
  const before = snapshot(dataDir)
  const r = run(OURS, { command: 'ADD' }, good(dataDir))
  t.equal(r.status, 1)
  t.equal(r.json?.code, 5)
  t.match(r.json?.msg, /^failed to open the host-local store: EPERM: operation not permitted, mkdir /)
  t.equal(r.json?.details, 'ipam.dataDir')
  t.same(snapshot(dataDir), before)
  const del = run(OURS, { command: 'DEL' }, good(dataDir))
  t.equal(del.status, 0, 'DEL of a network never created there still succeeds')
})

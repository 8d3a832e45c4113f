// The skel: dispatch order, codes and texts of the Go skel (cni
// pkg/skel/skel_test.go behaviours, reference §1.3 and §6 "skel"), output
// formatting, the own-netns check before the plugin runs, logging.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runPluginWith, pluginHandler, isOwnNetns, type Plugin, type PluginContext } from '../../src/cni/skel.js'
import { CniError, ErrTryAgainLater } from '../../src/cni/errors.js'
import { SUPPORTED_VERSIONS } from '../../src/cni/version.js'
import { createNamespace } from '../helpers/netns.js'

interface Run { code: number, out: string, err: string, json: any, calls: string[], ctx?: PluginContext }

function fakePlugin (overrides: Partial<Plugin> = {}, calls: string[] = [], seen: { ctx?: PluginContext } = {}): Plugin {
  return {
    name: 'fake',
    async add (ctx) {
      calls.push('add'); seen.ctx = ctx
      return { cniVersion: '1.1.0', interfaces: [{ name: ctx.ifname, sandbox: ctx.netns }], ips: [{ interface: 0, address: '10.1.2.3/24', gateway: '10.1.2.1' }] }
    },
    async del (ctx) { calls.push('del'); seen.ctx = ctx },
    async check (ctx) { calls.push('check'); seen.ctx = ctx },
    async gc (ctx) { calls.push('gc'); seen.ctx = ctx },
    async status (ctx) { calls.push('status'); seen.ctx = ctx },
    ...overrides
  }
}

const BASE_ENV = { CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/nonexistent-test', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' }

async function run (env: Record<string, string | undefined>, stdin: string | (() => Uint8Array), overrides: Partial<Plugin> = {}): Promise<Run> {
  let out = ''; let err = ''
  const calls: string[] = []
  const seen: { ctx?: PluginContext } = {}
  const code = await runPluginWith(fakePlugin(overrides, calls, seen), { env, stdin, stdout: s => { out += s }, stderr: s => { err += s } })
  let json: any
  try { json = out === '' ? undefined : JSON.parse(out) } catch { json = undefined }
  return { code, out, err, json, calls, ctx: seen.ctx }
}

const conf = (v?: string, extra: object = {}): string => JSON.stringify({ ...(v === undefined ? {} : { cniVersion: v }), name: 'net1', type: 'fake', ...extra })

t.test('all missing env variables in one code-4 error, official order', async t => {
  const r = await run({ CNI_COMMAND: 'ADD' }, conf('1.0.0'))
  t.equal(r.code, 1)
  t.same(r.json, { cniVersion: '1.0.0', code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' })
  t.same(r.calls, [])
  const c = await run({ CNI_COMMAND: 'CHECK', CNI_NETNS: '/x' }, conf('1.0.0'))
  t.equal(c.json.msg, 'required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_PATH] missing')
  const g = await run({ CNI_COMMAND: 'GC' }, conf('1.1.0'))
  t.equal(g.json.msg, 'required env variables [CNI_PATH] missing')
})

t.test('DEL is lenient: no CNI_PATH, empty CNI_NETNS', async t => {
  const r = await run({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_NETNS: '' }, conf('1.0.0'))
  t.equal(r.code, 0, r.out)
  t.equal(r.out, '')
  t.same(r.calls, ['del'])
  t.equal(r.ctx?.netns, '')
  t.same(r.ctx?.path, [])
  const missing = await run({ CNI_COMMAND: 'DEL' }, conf('1.0.0'))
  t.equal(missing.json.msg, 'required env variables [CNI_CONTAINERID,CNI_IFNAME] missing')
})

t.test('STATUS needs only CNI_COMMAND (CNI_PATH optional as in the spec)', async t => {
  const r = await run({ CNI_COMMAND: 'STATUS' }, conf('1.1.0'))
  t.equal(r.code, 0, r.out)
  t.same(r.calls, ['status'])
})

t.test('invalid containerID and ifname → 4 with the official texts', async t => {
  const v = { cniVersion: '1.0.0' }
  const cases: Array<[Record<string, string>, object]> = [
    [{ CNI_CONTAINERID: '-bad' }, { ...v, code: 4, msg: 'invalid characters in containerID', details: '-bad' }],
    [{ CNI_CONTAINERID: 'a b' }, { ...v, code: 4, msg: 'invalid characters in containerID', details: 'a b' }],
    [{ CNI_IFNAME: 'abcdefghijklmnop' }, { ...v, code: 4, msg: 'interface name is too long', details: 'interface name should be less than 16 characters' }],
    [{ CNI_IFNAME: '.' }, { ...v, code: 4, msg: 'interface name is . or ..' }],
    [{ CNI_IFNAME: '..' }, { ...v, code: 4, msg: 'interface name is . or ..' }],
    [{ CNI_IFNAME: 'eth/0' }, { ...v, code: 4, msg: 'interface name contains / or : or whitespace characters' }],
    [{ CNI_IFNAME: 'eth:0' }, { ...v, code: 4, msg: 'interface name contains / or : or whitespace characters' }],
    [{ CNI_IFNAME: 'eth 0' }, { ...v, code: 4, msg: 'interface name contains / or : or whitespace characters' }],
    // the containerID is checked first, and before missing variables are reported
    [{ CNI_CONTAINERID: '_x', CNI_IFNAME: 'a/b' }, { ...v, code: 4, msg: 'invalid characters in containerID', details: '_x' }]
  ]
  for (const [env, expected] of cases) {
    for (const cmd of ['ADD', 'CHECK', 'DEL']) {
      const r = await run({ ...BASE_ENV, CNI_COMMAND: cmd, ...env }, conf('1.0.0'))
      t.same(r.json, expected, `${cmd} ${JSON.stringify(env)}`)
      t.same(r.calls, [])
    }
  }
  // a 15-byte name is fine; 15 UTF-8 bytes count, not characters
  t.equal((await run({ ...BASE_ENV, CNI_COMMAND: 'ADD', CNI_IFNAME: 'abcdefghijklmno' }, conf('1.0.0'))).code, 0)
  t.equal((await run({ ...BASE_ENV, CNI_COMMAND: 'ADD', CNI_IFNAME: 'ééééééééé' }, conf('1.0.0'))).json.msg, 'interface name is too long')
  // not validated for GC, where it is not required
  t.equal((await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x', CNI_CONTAINERID: '-bad' }, conf('1.1.0'))).code, 0)
})

t.test('no CNI_COMMAND: the about text on stderr, exit 0, nothing on stdout', async t => {
  const r = await run({}, conf('1.0.0'))
  t.equal(r.code, 0)
  t.equal(r.out, '')
  t.equal(r.err, `CNI fake plugin (tscni)\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`)
  const custom = await run({ CNI_CONTAINERID: '-bad' }, conf('1.0.0'), { about: 'CNI fake plugin v9', versions: ['0.4.0', '1.0.0'] })
  t.equal(custom.err, 'CNI fake plugin v9\nCNI protocol versions supported: 0.4.0, 1.0.0\n')
  t.equal(custom.code, 0)
})

t.test('VERSION: compact JSON + newline, stdin not read', async t => {
  let read = false
  const r = await run({ CNI_COMMAND: 'VERSION' }, () => { read = true; return Buffer.from('not json') })
  t.equal(r.code, 0)
  t.equal(r.out, '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n')
  t.equal(read, false)
  const limited = await run({ CNI_COMMAND: 'VERSION' }, '', { versions: ['0.3.1', '0.4.0'] })
  t.equal(limited.out, '{"cniVersion":"1.1.0","supportedVersions":["0.3.1","0.4.0"]}\n')
})

t.test('unknown command → 4 after the config is read (bad JSON gives 6 first)', async t => {
  const r = await run({ ...BASE_ENV, CNI_COMMAND: 'NOPE' }, conf('1.0.0'))
  t.same(r.json, { cniVersion: '1.0.0', code: 4, msg: 'unknown CNI_COMMAND: NOPE' })
  const bad = await run({ ...BASE_ENV, CNI_COMMAND: 'NOPE' }, '{nope')
  t.equal(bad.json.code, 6)
})

t.test('errors found before the config is validated carry its cniVersion (the checks keep the Go order)', async t => {
  const c11 = conf('1.1.0')
  const cases: Array<[string, Record<string, string | undefined>, string, object]> = [
    ['unknown CNI_COMMAND', { ...BASE_ENV, CNI_COMMAND: 'NOPE' }, c11, { code: 4, msg: 'unknown CNI_COMMAND: NOPE' }],
    ['missing CNI_* variables', { CNI_COMMAND: 'ADD' }, c11, { code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' }],
    ['invalid container ID', { ...BASE_ENV, CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-x' }, c11, { code: 4, msg: 'invalid characters in containerID', details: '-x' }],
    ['interface name too long', { ...BASE_ENV, CNI_COMMAND: 'DEL', CNI_IFNAME: 'a-very-long-ifname' }, c11, { code: 4, msg: 'interface name is too long', details: 'interface name should be less than 16 characters' }],
    ['invalid interface name', { ...BASE_ENV, CNI_COMMAND: 'CHECK', CNI_IFNAME: 'a:b' }, c11, { code: 4, msg: 'interface name contains / or : or whitespace characters' }],
    ['missing network name', { ...BASE_ENV, CNI_COMMAND: 'ADD' }, JSON.stringify({ cniVersion: '1.1.0', type: 'fake' }), { code: 7, msg: 'missing network name' }],
    ['invalid network name', { ...BASE_ENV, CNI_COMMAND: 'ADD' }, JSON.stringify({ cniVersion: '1.1.0', name: 'bad name' }), { code: 7, msg: 'invalid characters found in network name', details: 'bad name' }]
  ]
  for (const [what, env, stdin, expected] of cases) {
    const r = await run(env, stdin)
    t.same(r.json, { cniVersion: '1.1.0', ...expected }, what)
    t.same(r.calls, [], `${what}: the plugin is not called`)
  }
  // Several problems at once: the environment is still judged first (Go's order).
  const both = await run({ CNI_COMMAND: 'ADD' }, JSON.stringify({ cniVersion: '0.4.0', name: 'bad name' }))
  t.same(both.json, { cniVersion: '0.4.0', code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' })
  // A config without cniVersion is 0.1.0, as everywhere else.
  t.equal((await run({ CNI_COMMAND: 'ADD' }, conf(undefined))).json.cniVersion, '0.1.0')
  // No version to give: not JSON, not an object, a version of the wrong type, stdin unreadable.
  for (const stdin of ['{nope', '[]', JSON.stringify({ name: 'n', cniVersion: 1 })]) {
    const r = await run({ CNI_COMMAND: 'ADD' }, stdin)
    t.same(r.json, { code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' }, `stdin ${stdin}`)
  }
  const unreadable = await run({ CNI_COMMAND: 'ADD' }, () => { throw new Error('EIO') })
  t.same(unreadable.json, { code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' }, 'an unreadable stdin: the env error as it is')
  // stdin is read once: a bad environment reads it, nothing reads it twice.
  let reads = 0
  await run({ ...BASE_ENV, CNI_COMMAND: 'NOPE' }, () => { reads++; return Buffer.from(c11) })
  t.equal(reads, 1)
  // A terminal on stdin is not waited for.
  let out = ''
  let read = false
  await runPluginWith(fakePlugin(), { env: { CNI_COMMAND: 'ADD' }, stdin: () => { read = true; return Buffer.from(c11) }, readStdinForErrors: false, stdout: s => { out += s }, stderr: () => {} })
  t.equal(read, false)
  t.same(JSON.parse(out), { code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' })
})

t.test('a stdin read error → 5 error reading from stdin', async t => {
  const r = await run({ ...BASE_ENV, CNI_COMMAND: 'ADD' }, () => { throw new Error('EIO: i/o error, read') })
  t.same(r.json, { code: 5, msg: 'error reading from stdin: EIO: i/o error, read' })
})

t.test('config decoding: 6 for bad JSON / non-object / non-string name; 7 for missing or bad name', async t => {
  const env = { ...BASE_ENV, CNI_COMMAND: 'ADD' }
  const cases: Array<[string, number, string | RegExp, string?]> = [
    ['', 6, 'error unmarshall network config: unexpected end of JSON input'],
    ['{"name":', 6, /^error unmarshall network config: invalid JSON: /],
    ['[]', 6, 'error unmarshall network config: expected a JSON object, got array'],
    ['"x"', 6, 'error unmarshall network config: expected a JSON object, got string'],
    ['{"name":5}', 6, 'error unmarshall network config: field "name" must be a string, got number'],
    ['{"cniVersion":"1.0.0"}', 7, 'missing network name'],
    ['{"name":""}', 7, 'missing network name'],
    ['{"name":null}', 7, 'missing network name'],
    ['null', 7, 'missing network name'],
    ['{"name":"a b"}', 7, 'invalid characters found in network name', 'a b'],
    ['{"name":".net"}', 7, 'invalid characters found in network name', '.net'],
    ['{"name":"n","cniVersion":1}', 6, 'decoding version from network config: field "cniVersion" must be a string, got number']
  ]
  for (const [stdin, code, msg, details] of cases) {
    const r = await run(env, stdin)
    t.equal(r.code, 1)
    t.equal(r.json.code, code, stdin)
    if (typeof msg === 'string') t.equal(r.json.msg, msg, stdin)
    else t.match(r.json.msg, msg, stdin)
    t.equal(r.json.details, details, stdin)
    t.same(r.calls, [])
  }
  // Go matches keys case-insensitively
  const upper = await run(env, '{"NAME":"n","CNIVERSION":"0.4.0"}')
  t.equal(upper.code, 0, upper.out)
  t.equal(upper.json.cniVersion, '0.4.0')
})

t.test('missing cniVersion is 0.1.0', async t => {
  const r = await run({ ...BASE_ENV, CNI_COMMAND: 'ADD' }, conf(undefined))
  t.equal(r.code, 0, r.out)
  t.equal(r.ctx?.cniVersion, '0.1.0')
  t.same(r.json, { cniVersion: '0.1.0', ip4: { ip: '10.1.2.3/24', gateway: '10.1.2.1' }, dns: {} })
  const empty = await run({ ...BASE_ENV, CNI_COMMAND: 'ADD' }, conf(''))
  t.equal(empty.json.cniVersion, '0.1.0')
})

t.test('unsupported version → 1 incompatible CNI versions with the official details', async t => {
  const r = await run({ ...BASE_ENV, CNI_COMMAND: 'ADD' }, conf('0.5.0'))
  t.same(r.json, {
    cniVersion: '0.5.0',
    code: 1,
    msg: 'incompatible CNI versions',
    details: 'config is "0.5.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]'
  })
  const limited = await run({ ...BASE_ENV, CNI_COMMAND: 'DEL' }, conf('1.1.0'), { versions: ['0.1.0', '1.0.0'] })
  t.equal(limited.json.details, 'config is "1.1.0", plugin supports ["0.1.0" "1.0.0"]')
  t.same(limited.calls, [])
})

t.test('CHECK/GC/STATUS gating', async t => {
  const env = { ...BASE_ENV }
  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1']) {
    t.same((await run({ ...env, CNI_COMMAND: 'CHECK' }, conf(v))).json, { cniVersion: v, code: 1, msg: 'config version does not allow CHECK' })
  }
  t.same((await run({ ...env, CNI_COMMAND: 'CHECK' }, conf(undefined))).json, { cniVersion: '0.1.0', code: 1, msg: 'config version does not allow CHECK' })
  for (const v of ['0.4.0', '1.0.0', '1.1.0']) {
    const r = await run({ ...env, CNI_COMMAND: 'CHECK' }, conf(v))
    t.equal(r.code, 0, `CHECK ${v}`)
    t.same(r.calls, ['check'])
  }
  for (const cmd of ['GC', 'STATUS']) {
    for (const v of ['0.4.0', '1.0.0']) {
      t.same((await run({ ...env, CNI_COMMAND: cmd }, conf(v))).json, { cniVersion: v, code: 1, msg: `config version does not allow ${cmd}` })
    }
    const ok = await run({ ...env, CNI_COMMAND: cmd }, conf('1.1.0'))
    t.equal(ok.code, 0)
    t.same(ok.calls, [cmd.toLowerCase()])
    // an unparsable version → 6
    const bad = await run({ ...env, CNI_COMMAND: cmd }, conf('1.x.0'))
    t.same(bad.json, { cniVersion: '1.x.0', code: 6, msg: 'failed to convert minor version part "x": strconv.Atoi: parsing "x": invalid syntax' })
  }
  const badCheck = await run({ ...env, CNI_COMMAND: 'CHECK' }, conf('a.b'))
  t.equal(badCheck.json.code, 6)
  t.equal(badCheck.json.msg, 'failed to convert major version part "a": strconv.Atoi: parsing "a": invalid syntax')
  // newer than anything the plugin supports
  const future = await run({ ...env, CNI_COMMAND: 'CHECK' }, conf('1.0.0'), { versions: ['0.4.0'] })
  t.same(future.json, { cniVersion: '1.0.0', code: 1, msg: 'plugin version does not allow CHECK' })
  // absent optional functions succeed
  const none = await run({ ...env, CNI_COMMAND: 'GC' }, conf('1.1.0'), { gc: undefined, check: undefined })
  t.equal(none.code, 0)
  t.same(none.calls, [])
})

t.test('errors: typed ones pass through, others become 999 with the message', async t => {
  const env = { ...BASE_ENV, CNI_COMMAND: 'ADD' }
  const typed = await run(env, conf('1.0.0'), { async add () { throw new CniError(ErrTryAgainLater, 'busy', 'lock held') } })
  t.same(typed.json, { cniVersion: '1.0.0', code: 11, msg: 'busy', details: 'lock held' })
  const wrapped = await run(env, conf('1.0.0'), { async add () { throw new Error('outer', { cause: new CniError(7, 'inner') }) } })
  t.same(wrapped.json, { cniVersion: '1.0.0', code: 7, msg: 'inner' })
  const plain = await run(env, conf('0.4.0'), { async add () { throw new Error('failed to frob: EPERM') } })
  t.same(plain.json, { cniVersion: '0.4.0', code: 999, msg: 'failed to frob: EPERM' })
  t.equal(plain.code, 1)
  // error JSON layout: 4-space indent, no trailing newline
  t.equal(plain.out, '{\n    "cniVersion": "0.4.0",\n    "code": 999,\n    "msg": "failed to frob: EPERM"\n}')
  const delErr = await run({ ...BASE_ENV, CNI_COMMAND: 'DEL' }, conf('1.0.0'), { async del () { throw new Error('nope') } })
  t.same(delErr.json, { cniVersion: '1.0.0', code: 999, msg: 'nope' })
})

t.test('ADD output: converted to the config version, Go layout', async t => {
  const env = { ...BASE_ENV, CNI_COMMAND: 'ADD' }
  const v1 = await run(env, conf('1.0.0'))
  t.equal(v1.out, [
    '{',
    '    "cniVersion": "1.0.0",',
    '    "interfaces": [',
    '        {',
    '            "name": "eth0",',
    '            "sandbox": "/var/run/netns/nonexistent-test"',
    '        }',
    '    ],',
    '    "ips": [',
    '        {',
    '            "address": "10.1.2.3/24",',
    '            "gateway": "10.1.2.1",',
    '            "interface": 0',
    '        }',
    '    ]',
    '}'
  ].join('\n'))
  const v04 = await run(env, conf('0.4.0'))
  t.same(v04.json, {
    cniVersion: '0.4.0',
    interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/nonexistent-test' }],
    ips: [{ version: '4', interface: 0, address: '10.1.2.3/24', gateway: '10.1.2.1' }],
    dns: {}
  })
  t.same(Object.keys(v04.json), ['cniVersion', 'interfaces', 'ips', 'dns'])
  // an L2-only result cannot be printed as 0.2.0
  const l2 = await run(env, conf('0.2.0'), { async add () { return { cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }] } } })
  t.same(l2.json, { cniVersion: '0.2.0', code: 999, msg: 'cannot convert: no valid IP addresses' })
  // a result without cniVersion is taken as 1.1.0
  const bare = await run(env, conf('1.1.0'), { async add () { return { ips: [{ address: '10.0.0.2/8' }] } as any } })
  t.same(bare.json, { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/8' }] })
})

t.test('context: env, stdin bytes, path, args, config', async t => {
  const stdin = ' ' + conf('1.0.0', { foo: { bar: 1 } }) + '\n'
  const r = await run({ ...BASE_ENV, CNI_COMMAND: 'ADD', CNI_ARGS: 'IgnoreUnknown=1;A=b', CNI_PATH: '/a::/b', OTHER: 'x' }, stdin)
  const ctx = r.ctx!
  t.equal(ctx.command, 'ADD')
  t.equal(ctx.containerId, 'c1')
  t.equal(ctx.ifname, 'eth0')
  t.equal(ctx.cniArgs, 'IgnoreUnknown=1;A=b')
  t.same(ctx.path, ['/a', '/b'])
  t.ok(Buffer.isBuffer(ctx.stdin))
  t.equal(ctx.stdin.toString(), stdin)
  t.same(ctx.config.foo, { bar: 1 })
  t.equal(ctx.name, 'net1')
  t.equal(ctx.env.OTHER, 'x')
  t.equal(ctx.prevResult, undefined)
})

t.test('prevResult: parsed lazily with the config version, converted to 1.1', async t => {
  const prev040 = { cniVersion: '0.4.0', interfaces: [{ name: 'eth0' }], ips: [{ version: '4', interface: 0, address: '10.0.0.5/24' }], dns: {} }
  let got: unknown
  const r = await run({ ...BASE_ENV, CNI_COMMAND: 'ADD' }, conf('0.4.0', { prevResult: prev040 }), {
    async add (ctx) { got = ctx.prevResult; return ctx.prevResult! }
  })
  t.same(got, { cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }], ips: [{ interface: 0, address: '10.0.0.5/24' }] })
  t.same(r.json, prev040, 'passed through, printed in the config version')
  // no cniVersion in prevResult: the config's
  let got2: any
  await run({ ...BASE_ENV, CNI_COMMAND: 'CHECK' }, conf('1.0.0', { prevResult: { ips: [{ address: '10.0.0.6/24' }] } }), {
    async check (ctx) { got2 = ctx.prevResult }
  })
  t.same(got2, { cniVersion: '1.1.0', ips: [{ address: '10.0.0.6/24' }] })
  // a broken prevResult fails only a plugin that reads it
  const broken = conf('1.0.0', { prevResult: { cniVersion: '0.4.0', ips: [] } })
  t.equal((await run({ ...BASE_ENV, CNI_COMMAND: 'DEL' }, broken)).code, 0)
  const read = await run({ ...BASE_ENV, CNI_COMMAND: 'DEL' }, broken, { async del (ctx) { void ctx.prevResult } })
  t.same(read.json, {
    cniVersion: '1.0.0',
    code: 7,
    msg: 'failed to parse prevResult: result type supports [1.0.0 1.1.0] but unmarshalled CNIVersion is "0.4.0"'
  })
})

t.test('own netns refused with 8 before the plugin runs (ADD, DEL), unless overridden', async t => {
  t.equal(isOwnNetns('/proc/self/ns/net'), true)
  t.equal(isOwnNetns('/proc/thread-self/ns/net'), true)
  t.equal(isOwnNetns(''), false)
  t.equal(isOwnNetns('/nonexistent/netns'), false)
  t.equal(isOwnNetns('/etc/hostname'), false)
  for (const cmd of ['ADD', 'DEL']) {
    const r = await run({ ...BASE_ENV, CNI_COMMAND: cmd, CNI_NETNS: '/proc/self/ns/net' }, conf('1.0.0'))
    t.same(r.json, { cniVersion: '1.0.0', code: 8, msg: "plugin's netns and netns from CNI_NETNS should not be the same" }, cmd)
    t.same(r.calls, [], `${cmd}: plugin not called`)
    for (const override of ['1', 'true', 'TRUE', 'True']) {
      const o = await run({ ...BASE_ENV, CNI_COMMAND: cmd, CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: override }, conf('1.0.0'))
      t.equal(o.code, 0, `${cmd} override ${override}`)
    }
    const no = await run({ ...BASE_ENV, CNI_COMMAND: cmd, CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: 'yes' }, conf('1.0.0'))
    t.equal(no.json.code, 8)
  }
  // CHECK is not subject to it (as in Go)
  t.equal((await run({ ...BASE_ENV, CNI_COMMAND: 'CHECK', CNI_NETNS: '/proc/self/ns/net' }, conf('1.0.0'))).code, 0)
})

t.test('own netns check against a different namespace passes', { skip: process.getuid?.() !== 0 ? 'needs root: creates a network namespace' : false }, async t => {
  const { execFileSync } = await import('node:child_process')
  const name = `tscni-skel-${process.pid}`
  createNamespace(name).close()
  t.teardown(() => { execFileSync('ip', ['netns', 'del', name]) })
  const path = `/var/run/netns/${name}`
  t.equal(isOwnNetns(path), false)
  const r = await run({ ...BASE_ENV, CNI_COMMAND: 'ADD', CNI_NETNS: path }, conf('1.0.0'))
  t.equal(r.code, 0, r.out)
  t.same(r.calls, ['add'])
})

t.test('logging: stderr by default (warn and up), a logFile when configured', async t => {
  const env = { ...BASE_ENV, CNI_COMMAND: 'ADD' }
  const logging: Partial<Plugin> = {
    async add (ctx) {
      ctx.log.debug('dbg'); ctx.log.info('inf'); ctx.log.warn('wrn')
      return { cniVersion: '1.1.0', ips: [{ address: '10.0.0.1/8' }] }
    }
  }
  const r = await run(env, conf('1.0.0'), logging)
  t.match(r.err, /fake\[ADD c1\] warn: wrn\n$/)
  t.notMatch(r.err, /inf|dbg/)
  t.notMatch(r.out, /wrn/)
  const debug = await run(env, conf('1.0.0', { logLevel: 'debug' }), logging)
  t.match(debug.err, /debug: dbg\n.*info: inf\n.*warn: wrn\n$/s)

  const dir = mkdtempSync(join(tmpdir(), 'cni-log-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'plugin.log')
  const f = await run(env, conf('1.0.0', { logFile: file, logLevel: 'info' }), logging)
  t.equal(f.err, '')
  t.equal(f.code, 0)
  const text = readFileSync(file, 'utf8')
  t.match(text, /info: inf\n.*warn: wrn\n$/s)
  t.notMatch(text, /dbg/)
  // an error result is logged to the file too
  await run(env, conf('1.0.0', { logFile: file }), { async add () { throw new Error('kaputt') } })
  t.match(readFileSync(file, 'utf8'), /error: 999: kaputt\n$/)
})

t.test('pluginHandler runs the plugin in process like a child would', async t => {
  const handler = pluginHandler(fakePlugin())
  const ok = await handler({ env: { ...BASE_ENV, CNI_COMMAND: 'ADD' }, stdin: Buffer.from(conf('0.3.1')), stderr: () => {} })
  t.equal(ok.exitCode, 0)
  t.equal(JSON.parse(ok.stdout).cniVersion, '0.3.1')
  const bad = await handler({ env: { ...BASE_ENV, CNI_COMMAND: 'ADD' }, stdin: Buffer.from('{}'), stderr: () => {} })
  t.equal(bad.exitCode, 1)
  t.same(JSON.parse(bad.stdout), { cniVersion: '0.1.0', code: 7, msg: 'missing network name' })
})

t.test('trace context: TRACEPARENT/TRACESTATE on every log line, cleaned; none without them', async t => {
  const logging: Partial<Plugin> = { async del (ctx) { ctx.log.warn('one'); ctx.log.error('two') } }
  const env = { ...BASE_ENV, CNI_COMMAND: 'DEL', TRACEPARENT: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', TRACESTATE: 'a=1,\nb=2 ' }
  const r = await run(env, conf('1.1.0'), logging)
  const lines = r.err.trim().split('\n')
  t.equal(lines.length, 2)
  for (const l of lines) t.match(l, / fake\[DEL c1\] traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 tracestate=a=1,b=2 (warn|error): /)
  const plain = await run({ ...BASE_ENV, CNI_COMMAND: 'DEL' }, conf('1.1.0'), logging)
  t.notMatch(plain.err, /trace/)
})

t.test('runStep: duration at debug, the failed step in the details (once), code and msg kept', async t => {
  const { runStep, stepError } = await import('../../src/cni/trace.js')
  const lines: string[] = []
  const log = { debug: (m: string) => { lines.push(m) } }
  t.equal(await runStep(log, 'ADD', 'veth', async () => 5), 5)
  t.match(lines[0], /^step veth: \d+\.\d ms$/)
  await t.rejects(runStep(log, 'ADD', 'ipam', async () => { throw new CniError(ErrTryAgainLater, 'busy', 'lock held') }),
    { code: ErrTryAgainLater, msg: 'busy', details: 'lock held (ADD step "ipam" failed)' })
  t.match(lines[1], /^step ipam failed after \d+\.\d ms: busy; lock held$/)
  await t.rejects(runStep(log, 'DEL', 'interface', async () => { throw new Error('EBUSY') }), { code: 999, msg: 'EBUSY', details: 'DEL step "interface" failed' })
  const once = stepError(stepError(new Error('x'), 'ADD', 'inner'), 'ADD', 'outer')
  t.equal(once.details, 'ADD step "inner" failed', 'a step error is not wrapped again')
})

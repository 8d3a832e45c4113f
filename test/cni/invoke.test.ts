// Delegation (reference §1.10): lookup on CNI_PATH, exec with our env and the
// exact stdin, result and error handling with Go's texts, the "text file
// busy" retry, and the in-process hook keyed on the launcher marker.
import t from 'tap'
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  findInPath, execPlugin, delegateAdd, delegateDel, delegateCheck, delegateGC, delegateStatus, parseDelegateResult,
  registerInProcessPlugin, unregisterInProcessPlugin, readPluginMarker
} from '../../src/cni/invoke.js'
import { CniError } from '../../src/cni/errors.js'
import { runPluginWith, pluginHandler, type Plugin } from '../../src/cni/skel.js'

const dir = mkdtempSync(join(tmpdir(), 'cni-invoke-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const binA = join(dir, 'a'); const binB = join(dir, 'b')
mkdirSync(binA); mkdirSync(binB)

function script (path: string, body: string, marker?: string): string {
  writeFileSync(path, `#!/bin/sh\n${marker === undefined ? '' : `# tscni-plugin: ${marker}\n`}${body}\n`)
  chmodSync(path, 0o755)
  return path
}

const stdinConf = (v?: string): Buffer => Buffer.from(JSON.stringify({ ...(v === undefined ? {} : { cniVersion: v }), name: 'net', ipam: { type: 'fake' } }) + '\n')
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  ({ PATH: process.env.PATH, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_NETNS: '/x', CNI_PATH: `${binA}:${binB}`, ...extra })

async function caught (p: Promise<unknown>): Promise<any> {
  try { await p } catch (e) { return e }
  throw new Error('expected a rejection')
}

t.test('findInPath: first regular file, Go texts', async t => {
  mkdirSync(join(binA, 'dirplugin'))
  script(join(binB, 'dirplugin'), 'exit 0')
  script(join(binB, 'only-b'), 'exit 0')
  symlinkSync(join(binB, 'only-b'), join(binA, 'linked'))
  writeFileSync(join(binA, 'noexec'), 'x')
  t.equal(findInPath('dirplugin', [binA, binB]), join(binB, 'dirplugin'), 'a directory is skipped')
  t.equal(findInPath('linked', [binA, binB]), join(binA, 'linked'), 'symlinks followed')
  t.equal(findInPath('noexec', [binA]), join(binA, 'noexec'), 'no exec-bit check, as Go')
  t.throws(() => findInPath('', [binA]), { message: 'no plugin name provided' })
  t.throws(() => findInPath('../x', [binA]), { message: 'invalid plugin name: ../x' })
  t.throws(() => findInPath('x', []), { message: 'no paths provided' })
  t.throws(() => findInPath('missing', ['/a', '/b']), { message: 'failed to find plugin "missing" in path [/a /b]' })
  // delegation reads CNI_PATH from the env it is given
  const e = await caught(delegateAdd('missing', stdinConf('1.0.0'), env({ CNI_PATH: '/nonexistent1:/nonexistent2' })))
  t.equal(e.message, 'failed to find plugin "missing" in path [/nonexistent1 /nonexistent2]')
  t.notOk(e instanceof CniError, 'a plain error: the skel reports it as 999')
  t.equal((await caught(delegateDel('x', stdinConf('1.0.0'), env({ CNI_PATH: '' })))).message, 'no paths provided')
})

t.test('success: exact stdin, whole env with CNI_COMMAND overridden, stderr copied, result parsed', async t => {
  const seen = join(dir, 'seen')
  script(join(binA, 'okipam'), [
    `cat > ${seen}.stdin`,
    `env > ${seen}.env`,
    'echo "warning from ipam" >&2',
    'printf \'{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.2.2/24","gateway":"10.1.2.1"}],"dns":{"nameservers":["1.1.1.1"]}}\''
  ].join('\n'))
  const stdin = stdinConf('0.4.0')
  let stderr = ''
  const result = await delegateAdd('okipam', stdin, env({ CNI_COMMAND: 'DEL', SOMETHING: 'kept' }), { stderr: s => { stderr += s } })
  t.same(result, { cniVersion: '1.1.0', ips: [{ address: '10.1.2.2/24', gateway: '10.1.2.1' }], dns: { nameservers: ['1.1.1.1'] } })
  t.same(readFileSync(`${seen}.stdin`), stdin, 'the exact bytes')
  const childEnv = readFileSync(`${seen}.env`, 'utf8')
  t.match(childEnv, /^CNI_COMMAND=ADD$/m)
  t.notMatch(childEnv, /^CNI_COMMAND=DEL$/m)
  t.match(childEnv, /^SOMETHING=kept$/m)
  t.match(childEnv, /^CNI_CONTAINERID=c1$/m)
  t.equal(stderr, 'warning from ipam\n')
  for (const [fn, cmd] of [[delegateDel, 'DEL'], [delegateCheck, 'CHECK'], [delegateGC, 'GC'], [delegateStatus, 'STATUS']] as const) {
    await fn('okipam', stdin, env(), { stderr: () => {} })
    t.match(readFileSync(`${seen}.env`, 'utf8'), new RegExp(`^CNI_COMMAND=${cmd}$`, 'm'), cmd)
  }
})

t.test('a result without cniVersion is in the config version', async t => {
  script(join(binA, 'noversion'), 'printf \'{"ip4":{"ip":"10.0.0.2/8"}}\'')
  t.same(await delegateAdd('noversion', stdinConf('0.2.0'), env()), { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/8' }] })
  t.same(await delegateAdd('noversion', stdinConf(undefined), env()), { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/8' }] }, 'config without version: 0.1.0')
  // parsed with the config's version, so a 1.x config does not read ip4
  t.same(await delegateAdd('noversion', stdinConf('1.0.0'), env()), { cniVersion: '1.1.0' })
  t.same(parseDelegateResult(Buffer.from('null'), stdinConf('1.0.0')), { cniVersion: '1.1.0' })
  t.throws(() => parseDelegateResult(Buffer.from(''), stdinConf('1.0.0')), { message: 'failed to unmarshal raw result: unexpected end of JSON input' })
  t.throws(() => parseDelegateResult(Buffer.from('[1]'), stdinConf('1.0.0')), { message: 'failed to unmarshal raw result: expected an object, got array' })
  t.throws(() => parseDelegateResult(Buffer.from('{"cniVersion":"7.0.0"}'), stdinConf('1.0.0')), { message: 'unsupported CNI result version "7.0.0"' })
})

t.test('failures, as Go builds them', async t => {
  script(join(binA, 'errjson'), 'echo \'{"cniVersion":"1.0.0","code":11,"msg":"locked","details":"try later"}\'; echo "oops" >&2; exit 1')
  const e1 = await caught(delegateAdd('errjson', stdinConf('1.0.0'), env(), { stderr: () => {} }))
  t.ok(e1 instanceof CniError)
  t.same([e1.code, e1.msg, e1.details], [11, 'locked', 'try later'], 'returned unchanged')
  script(join(binA, 'stderronly'), 'echo "it \\"broke\\"" >&2; exit 1')
  const e2 = await caught(delegateDel('stderronly', stdinConf('1.0.0'), env(), { stderr: () => {} }))
  t.same([e2.code, e2.msg], [0, 'netplugin failed: "it \\"broke\\"\\n": exit status 1'])
  script(join(binA, 'silent'), 'exit 3')
  t.equal((await caught(delegateDel('silent', stdinConf('1.0.0'), env()))).msg, 'netplugin failed with no error message: exit status 3')
  script(join(binA, 'garbage'), 'echo garbage; exit 1')
  t.match((await caught(delegateDel('garbage', stdinConf('1.0.0'), env()))).msg, /^netplugin failed but error parsing its diagnostic message "garbage\\n": /)
  script(join(binA, 'badcode'), 'echo \'{"code":"x","msg":"m"}\'; exit 1')
  t.match((await caught(delegateDel('badcode', stdinConf('1.0.0'), env()))).msg, /^netplugin failed but error parsing its diagnostic message "\{\\"code\\":\\"x\\",\\"msg\\":\\"m\\"\}\\n": /)
  script(join(binA, 'killed'), 'kill -9 $$')
  t.equal((await caught(delegateDel('killed', stdinConf('1.0.0'), env()))).msg, 'netplugin failed with no error message: signal: killed')
  writeFileSync(join(binA, 'notexec'), 'x')
  chmodSync(join(binA, 'notexec'), 0o644)
  // no exec bit (root too needs one): EACCES, in Go's words
  t.equal((await caught(delegateDel('notexec', stdinConf('1.0.0'), env()))).msg, `netplugin failed with no error message: fork/exec ${join(binA, 'notexec')}: permission denied`)
})

t.test('"text file busy": retried until the writer is done', async t => {
  const path = join(binA, 'busy')
  script(path, 'echo \'{"cniVersion":"1.0.0"}\'')
  const fd = openSync(path, 'r+')
  writeSync(fd, '#')
  const timer = setTimeout(() => closeSync(fd), 120)
  const started = Date.now()
  const out = await execPlugin(path, 'ADD', stdinConf('1.0.0'), env(), { retryDelayMs: 50 })
  clearTimeout(timer)
  t.equal(out.toString().trim(), '{"cniVersion":"1.0.0"}')
  t.ok(Date.now() - started >= 100, 'waited for the writer')
  // still busy after 6 attempts → the error
  const fd2 = openSync(path, 'r+')
  t.teardown(() => closeSync(fd2))
  const e = await caught(execPlugin(path, 'ADD', stdinConf('1.0.0'), env(), { retryDelayMs: 1 }))
  t.equal(e.msg, `netplugin failed with no error message: fork/exec ${path}: text file busy`)
})

t.test('in-process plugins: only files carrying the marker', async t => {
  const marked = script(join(binA, 'fake-ipam'), 'echo "exec must not happen" >&2; exit 99', 'fake-ipam')
  script(join(binB, 'other-ipam'), 'printf \'{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.9/16"}]}\'', undefined)
  t.equal(readPluginMarker(marked), 'fake-ipam')
  t.equal(readPluginMarker(join(binB, 'other-ipam')), undefined)
  t.equal(readPluginMarker('/nonexistent'), undefined)
  const calls: Array<{ env: NodeJS.ProcessEnv, stdin: string }> = []
  registerInProcessPlugin('fake-ipam', async (req) => {
    calls.push({ env: req.env, stdin: Buffer.from(req.stdin).toString() })
    req.stderr('in-process note\n')
    if (req.env.CNI_COMMAND === 'DEL') return { exitCode: 1, stdout: '{"code":7,"msg":"bad","details":"d"}' }
    return { exitCode: 0, stdout: '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.7/24"}]}' }
  })
  // registering under the *name* of the unmarked plugin must not redirect it
  registerInProcessPlugin('other-ipam', async () => { throw new Error('must not be called') })
  t.teardown(() => { unregisterInProcessPlugin('fake-ipam'); unregisterInProcessPlugin('other-ipam') })
  let stderr = ''
  const stdin = stdinConf('1.0.0')
  const r = await delegateAdd('fake-ipam', stdin, env({ CNI_COMMAND: 'CHECK' }), { stderr: s => { stderr += s } })
  t.same(r, { cniVersion: '1.1.0', ips: [{ address: '10.0.0.7/24' }] })
  t.equal(calls.length, 1)
  t.equal(calls[0]!.env.CNI_COMMAND, 'ADD')
  t.equal(calls[0]!.env.CNI_CONTAINERID, 'c1')
  t.equal(calls[0]!.stdin, stdin.toString())
  t.equal(stderr, 'in-process note\n')
  const e = await caught(delegateDel('fake-ipam', stdin, env(), { stderr: () => {} }))
  t.same([e.code, e.msg, e.details], [7, 'bad', 'd'])
  t.same(await delegateAdd('other-ipam', stdin, env()), { cniVersion: '1.1.0', ips: [{ address: '10.9.0.9/16' }] }, 'exec\'d')
  t.throws(() => registerInProcessPlugin('', async () => ({ exitCode: 0, stdout: '' })), TypeError)
})

t.test('in-process with pluginHandler, and the skel passes a delegated error through', async t => {
  const ipam: Plugin = {
    name: 'fake-host-local',
    async add (ctx) {
      if (ctx.containerId === 'full') throw new CniError(11, 'no IP addresses available', 'range set 10.0.0.0/30')
      return { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/30', gateway: '10.0.0.1' }] }
    },
    async del () {}
  }
  script(join(binA, 'fake-host-local'), 'exit 99', 'fake-host-local')
  registerInProcessPlugin('fake-host-local', pluginHandler(ipam))
  t.teardown(() => unregisterInProcessPlugin('fake-host-local'))
  const upper: Plugin = {
    name: 'upper',
    async add (ctx) {
      const r = await delegateAdd('fake-host-local', ctx.stdin, ctx.env, { stderr: ctx.stderr })
      return { ...r, interfaces: [{ name: ctx.ifname }], ips: r.ips!.map(ip => ({ ...ip, interface: 0 })) }
    },
    async del (ctx) { await delegateDel('fake-host-local', ctx.stdin, ctx.env) }
  }
  const run = async (id: string): Promise<{ code: number, json: any }> => {
    let out = ''
    const code = await runPluginWith(upper, {
      env: env({ CNI_CONTAINERID: id, CNI_NETNS: '' + '/var/run/netns/none' }),
      stdin: JSON.stringify({ cniVersion: '0.4.0', name: 'net', ipam: { type: 'fake-host-local' } }),
      stdout: s => { out += s },
      stderr: () => {}
    })
    return { code, json: JSON.parse(out) }
  }
  t.same(await run('ok'), { code: 0, json: { cniVersion: '0.4.0', interfaces: [{ name: 'eth0' }], ips: [{ version: '4', interface: 0, address: '10.0.0.2/30', gateway: '10.0.0.1' }], dns: {} } })
  t.same(await run('full'), { code: 1, json: { cniVersion: '0.4.0', code: 11, msg: 'no IP addresses available', details: 'range set 10.0.0.0/30' } })
})

const STATIC = '/usr/lib/cni/static'
t.test('delegating to the Debian Go static plugin', { skip: existsSync(STATIC) ? false : `${STATIC} not installed` }, async t => {
  const stdin = Buffer.from(JSON.stringify({ cniVersion: '0.3.1', name: 'n', ipam: { type: 'static', addresses: [{ address: '10.5.0.2/24', gateway: '10.5.0.1' }] } }))
  const r = await delegateAdd('static', stdin, env({ CNI_PATH: '/usr/lib/cni' }))
  t.same(r, { cniVersion: '1.1.0', ips: [{ address: '10.5.0.2/24', gateway: '10.5.0.1' }] })
  const bad = Buffer.from(JSON.stringify({ cniVersion: '0.3.1', name: 'n', ipam: { type: 'static', addresses: [{ address: 'nope' }] } }))
  const e = await caught(delegateAdd('static', bad, env({ CNI_PATH: '/usr/lib/cni' })))
  t.equal(e.code, 999)
  t.match(e.msg, /nope/)
})

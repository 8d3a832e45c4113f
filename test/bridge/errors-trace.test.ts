// Issue 12 items 7 and 8, through the built plugin exec'd as a runtime
// execs it: every error complete (cniVersion also for errors found before
// the config is validated; an ipam without type refused), nothing created
// by bad input; the runtime's trace context on every log line, step
// durations at debug, and the failed step named in the error's details.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ipFiles, links, makeTempDir, nodeSnapshot, runPlugin, setupEnv, skipReason } from '../helpers/bridge.js'
import { ADD_STEPS } from '../../src/plugins/bridge/add.js'

const skip = skipReason()
if (skip !== undefined) t.plan(0, skip)

t.test('bad input: the error JSON carries cniVersion, the right code, and nothing is created', async t => {
  const env = setupEnv(t, 'bad')
  const good = env.config({ isGateway: true }, { cniVersion: '1.1.0' })
  const before = nodeSnapshot(env.node)
  const cases: Array<{ what: string, env?: Record<string, string | undefined>, config?: unknown, code: number, msg: string | RegExp }> = [
    { what: 'unknown CNI_COMMAND', env: { CNI_COMMAND: 'NOPE' }, code: 4, msg: 'unknown CNI_COMMAND: NOPE' },
    { what: 'missing CNI_* variables', env: { CNI_CONTAINERID: undefined, CNI_IFNAME: undefined }, code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_IFNAME] missing' },
    { what: 'missing CNI_NETNS', env: { CNI_NETNS: undefined }, code: 4, msg: 'required env variables [CNI_NETNS] missing' },
    { what: 'invalid container ID', env: { CNI_CONTAINERID: '../etc' }, code: 4, msg: 'invalid characters in containerID' },
    { what: 'interface name too long', env: { CNI_IFNAME: 'eth0123456789abc' }, code: 4, msg: 'interface name is too long' },
    { what: 'interface name with a slash', env: { CNI_IFNAME: 'eth/0' }, code: 4, msg: 'interface name contains / or : or whitespace characters' },
    { what: 'bad network name', config: { ...good, name: 'no spaces' }, code: 7, msg: 'invalid characters found in network name' },
    { what: 'missing network name', config: { ...good, name: '' }, code: 7, msg: 'missing network name' },
    { what: 'ipam with keys but no type', config: { ...good, ipam: { subnet: '10.77.0.0/24', dataDir: env.dataDir } }, code: 7, msg: /^ipam has no type/ }
  ]
  for (const c of cases) {
    const base: Record<string, string | undefined> = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ctr1', CNI_NETNS: env.podPath, CNI_IFNAME: 'eth0', ...c.env }
    const r = runPlugin({
      node: env.node,
      command: base.CNI_COMMAND!,
      ...(base.CNI_CONTAINERID !== undefined ? { containerId: base.CNI_CONTAINERID } : {}),
      ...(base.CNI_NETNS !== undefined ? { netns: base.CNI_NETNS } : {}),
      ...(base.CNI_IFNAME !== undefined ? { ifname: base.CNI_IFNAME } : {}),
      config: c.config ?? good
    })
    t.equal(r.code, 1, `${c.what}: exit 1`)
    t.equal(r.json?.cniVersion, '1.1.0', `${c.what}: cniVersion`)
    t.equal(r.json?.code, c.code, `${c.what}: code ${c.code}`)
    if (typeof c.msg === 'string') t.equal(r.json?.msg, c.msg, c.what); else t.match(r.json?.msg, c.msg, c.what)
    if (c.code === 7 && c.what.startsWith('ipam')) t.equal(r.json?.details, 'ipam.type', 'the details name ipam.type')
  }
  t.same(nodeSnapshot(env.node), before, 'no link, address or route created in the node')
  t.same(links(env.pod).map(l => l.ifname), ['lo'], 'nothing in the pod')
  t.same(ipFiles(env.dataDir, 'tnet'), [], 'no reservation')
})

t.test('TRACEPARENT/TRACESTATE on every log line; step durations at debug; the failed step in details', async t => {
  const env = setupEnv(t, 'trace')
  const dir = makeTempDir(t, 'trace-log')
  const logFile = join(dir, 'plugin.log')
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const tracestate = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'
  const conf = env.config({ logLevel: 'debug', logFile, isGateway: true })
  const extraEnv = { TRACEPARENT: traceparent, TRACESTATE: tracestate }
  const add = env.run('ADD', conf, { extraEnv })
  t.equal(add.code, 0, add.stdout)
  const lines = readFileSync(logFile, 'utf8').trim().split('\n')
  t.ok(lines.length >= 8, `${lines.length} log lines`)
  const tag = ` traceparent=${traceparent} tracestate=${tracestate} `
  t.same(lines.filter(l => !l.includes(tag)), [], 'every line carries the trace context')
  const steps = lines.map(l => / debug: step ([a-z A-Z]+): \d+\.\d ms$/.exec(l)?.[1]).filter((s): s is string => s !== undefined)
  const order = ADD_STEPS.map(s => s.name)
  t.same(steps, order.filter(n => steps.includes(n)), 'in the steps\' order, each once')
  for (const must of ['bridge', 'veth', 'host port', 'ipam', 'container', 'gateway', 'port state', 'result']) t.ok(steps.includes(must), `step ${must} logged its duration`)
  t.notOk(steps.includes('ipMasq') || steps.includes('isolate') || steps.includes('macspoofchk'), 'steps that did not run log nothing')

  const del = env.run('DEL', conf, { extraEnv })
  t.equal(del.code, 0)
  const delLines = readFileSync(logFile, 'utf8').trim().split('\n').slice(lines.length)
  t.same(delLines.filter(l => !l.includes(tag)), [], 'DEL lines too')
  const delSteps = delLines.map(l => / debug: step ([a-z ]+): \d+\.\d ms$/.exec(l)?.[1]).filter(Boolean)
  t.equal(delSteps[0], 'interface', 'DEL: the interface first')
  t.equal(delSteps.at(-1), 'ipam', 'IPAM last')

  const fail = env.run('ADD', env.config({ isGateway: true }), { extraEnv: { TSCNI_FAIL_AFTER_STEP: 'host port' } })
  t.equal(fail.code, 1)
  t.equal(fail.json?.code, 999)
  t.equal(fail.json?.details, 'ADD step "host port" failed', 'the details name the step')
  const ipamFail = env.run('ADD', { ...env.config(), ipam: { type: 'no-such-ipam' } })
  t.equal(ipamFail.code, 1)
  t.match(ipamFail.json?.details, /ADD step "ipam" failed$/)
  const noTrace = env.run('ADD', env.config({ logLevel: 'debug' }), { containerId: 'ctr9', ifname: 'eth9' })
  t.equal(noTrace.code, 0)
  t.notMatch(noTrace.stderr, /traceparent/, 'no trace context in the environment: none in the log')
  t.match(noTrace.stderr, /bridge\[ADD ctr9\] debug: step bridge: /)
})

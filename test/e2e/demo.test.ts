// `npm run demo` as a newcomer runs it: the compiled demo as a child process.
// It must report success, leave no namespace, temporary directory or root
// namespace link behind, and clean up the same way when interrupted.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PLUGIN_DIR, ROOT, pluginSkipReason } from '../helpers/runtime.js'

const MAIN = join(ROOT, 'dist', 'demo', 'main.js')
const SUCCESS_LINE = 'demo passed: every pod reached every other pod and its gateway'
const skip = pluginSkipReason() ?? (existsSync(MAIN) ? undefined : `${MAIN} missing: run npm run build first`)

interface DemoRun { code: number | null, signal: NodeJS.Signals | null, out: string, pid: number }

/** Runs the demo; `interrupt` sends a signal once the output contains a marker. */
function runDemo (interrupt?: { when: string, signal: NodeJS.Signals }): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, '--plugin-dir', PLUGIN_DIR], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let sent = false
    const collect = (d: Buffer): void => {
      out += d.toString()
      if (interrupt !== undefined && !sent && out.includes(interrupt.when)) {
        sent = true
        child.kill(interrupt.signal)
      }
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', reject)
    child.on('close', (code, signal) => { resolve({ code, signal, out, pid: child.pid ?? -1 }) })
  })
}

/** Everything of one demo run that could outlive it. */
function leftovers (pid: number): { namespaces: string[], tempDirs: string[] } {
  const prefix = `tscni-demo-${pid}-`
  const namespaces = existsSync('/var/run/netns') ? readdirSync('/var/run/netns').filter(n => n.startsWith(prefix)) : []
  const tempDirs = readdirSync(tmpdir()).filter(n => n.startsWith(prefix))
  return { namespaces, tempDirs }
}

/** Links and routes of the root namespace that the demo's would look like (read only). */
function rootNamespaceTraces (): string[] {
  const links = JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]') as Array<{ ifname: string }>
  const routes = JSON.parse(spawnSync('ip', ['-j', '-4', 'route', 'show'], { encoding: 'utf8' }).stdout || '[]') as Array<{ dst: string }>
  return [
    ...links.map(l => l.ifname).filter(n => n === 'cni0' || n === 'wire0'),
    ...routes.map(r => r.dst).filter(d => d.startsWith('10.244.') || d.startsWith('10.99.0.'))
  ]
}

t.test('the demo succeeds and removes everything it made', { skip }, async t => {
  const before = rootNamespaceTraces()
  const run = await runDemo()
  t.equal(run.code, 0, 'exit code 0')
  t.match(run.out, SUCCESS_LINE)
  t.match(run.out, /16\/16 probes succeeded/)
  t.match(run.out, /ADD node1\/pod1: 10\.244\.1\.\d+\/24/)
  t.match(run.out, /DEL node1\/pod1/)
  if (/the plugins are the native client/.test(run.out)) {
    t.match(run.out, /ADD node1\/pod1: .*through the agent/, 'ADDs go through the agent')
    t.match(run.out, /ADD node2\/pod4: .*exec path, no agent/, 'one pod takes the exec path')
    t.match(run.out, /the agent served: loopback ADD×3 CHECK×3 DEL×3, bridge ADD×3 CHECK×3 DEL×3/, 'the agent counted them')
    t.match(run.out, /stopped the tscni agent/)
  }
  t.notMatch(run.out, /✗/, 'no failure marks')
  t.same(leftovers(run.pid), { namespaces: [], tempDirs: [] }, 'no namespace or temporary directory left')
  t.same(rootNamespaceTraces(), before, 'the root namespace has no cni0, wire0 or demo route')
})

t.test('interrupted with SIGINT during ADD: cleans up and exits 130', { skip }, async t => {
  const run = await runDemo({ when: 'ADD node1/pod1', signal: 'SIGINT' })
  t.equal(run.code, 130, 'exit code 130')
  t.match(run.out, /demo interrupted by SIGINT; cleaned up/)
  t.match(run.out, /DEL node1\/pod1/, 'the pod that was added is deleted again')
  t.notMatch(run.out, SUCCESS_LINE)
  t.same(leftovers(run.pid), { namespaces: [], tempDirs: [] }, 'nothing left')
})

t.test('interrupted with SIGTERM while probing: cleans up and exits 143', { skip }, async t => {
  const run = await runDemo({ when: '[6/7]', signal: 'SIGTERM' })
  t.equal(run.code, 143, 'exit code 143')
  t.match(run.out, /DEL node2\/pod4[\s\S]*DEL node1\/pod1/, 'every pod deleted, in reverse order')
  t.same(leftovers(run.pid), { namespaces: [], tempDirs: [] }, 'nothing left')
})

t.test('without plugins the demo says how to build them', { skip: existsSync(MAIN) ? undefined : `${MAIN} missing: run npm run build first` }, async t => {
  const r = spawnSync(process.execPath, [MAIN, '--plugin-dir', '/nonexistent-plugin-dir'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  t.equal(r.status, 1)
  t.match(r.stdout, /npm run build/)
  t.notMatch(r.stdout, /\[2\/7\]/, 'stops before making anything')
})

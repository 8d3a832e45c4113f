// install-cni: the installed plugins must work when exec'd with an empty
// environment from `/`, from a copy of the install directory whose original
// (and so every path baked in at install time) is gone.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { AGENT_UNIT, PLUGIN_MARKER, installCni, launcher, listPlugins } from '../../src/demo/install-cni.js'
import { readPluginMarker } from '../../src/cni/invoke.js'
import { ROOT, isRoot, links, makeNamespace, makeTempDir, nsPath } from '../helpers/runtime.js'

const EXPECTED = ['bridge', 'host-local', 'loopback']
const built = listPlugins(ROOT)
const skip = EXPECTED.every(p => built.includes(p)) ? undefined : `plugin bundles missing in ${join(ROOT, 'build')} (have: ${built.join(', ') || 'none'}): run npm run build first`

/** Runs an installed plugin as a runtime with a minimal environment would. */
function execMinimal (file: string, vars: Record<string, string>, stdin = ''): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync('/usr/bin/env', ['-i', 'PATH=/usr/bin:/bin', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), file], {
    cwd: '/',
    input: stdin,
    encoding: 'utf8'
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('the launcher script', async t => {
  const text = launcher('host-local', '0.1.0-abc', '/opt/cni/bin', '/usr/bin/node')
  t.ok(text.startsWith('#!/bin/sh\n'))
  t.ok(Buffer.from(text).subarray(0, 256).toString().includes(`${PLUGIN_MARKER}host-local\n`), 'marker in the first 256 bytes')
  t.match(text, /exec \/usr\/bin\/node "\$here\/\.tscni\/0\.1\.0-abc\/run\.cjs" host-local "\$@"/, 'node on the code-cache loader, plugin by name')
  t.match(text, /here=\/opt\/cni\/bin/, 'install-time fallback')
  t.match(launcher('x', 'v', '/dir with space', '/n'), /here='\/dir with space'/, 'paths are shell-quoted')
})

t.test('install, copy elsewhere, delete the original, exec with env -i from /', { skip }, async t => {
  const tmp = makeTempDir(t, 'install')
  const first = join(tmp, 'first')
  const report = installCni({ dir: first })
  t.same(report.plugins, EXPECTED)
  t.ok(report.copied)
  t.match(report.version, /^\d+\.\d+\.\d+-[0-9a-f]{12}$/)
  for (const name of EXPECTED) {
    const file = join(first, name)
    t.ok((statSync(file).mode & 0o111) === 0o111, `${name} is executable`)
    t.equal(readPluginMarker(file), name, `${name} carries its marker (${report.client ? 'the native client' : 'a launcher'})`)
    if (report.client) t.equal(readFileSync(file).subarray(0, 4).toString('latin1'), '\x7fELF', `${name} is the native client`)
    t.ok(existsSync(join(report.runtimeDir, `${name}.cjs`)), `${name} bundle copied`)
  }
  t.same(readdirSync(join(report.runtimeDir, 'native')).sort(), ['koffi.node', 'netlink.node'], 'both native addons copied')
  t.ok(existsSync(join(report.runtimeDir, 'run.cjs')), 'the code-cache loader copied')

  const again = installCni({ dir: first })
  t.equal(again.version, report.version, 'same content, same version')
  t.notOk(again.copied, 'an identical copy is not rewritten')

  // The install dir moves: copy it, remove the original.
  const moved = join(tmp, 'moved')
  cpSync(first, moved, { recursive: true })
  rmSync(first, { recursive: true, force: true })

  const version = execMinimal(join(moved, 'loopback'), { CNI_COMMAND: 'VERSION' })
  t.equal(version.status, 0, `VERSION exits 0 ${version.stderr}`)
  const info = JSON.parse(version.stdout) as { supportedVersions: string[] }
  t.ok(info.supportedVersions.includes('1.0.0'), 'VERSION lists 1.0.0')

  const hl = execMinimal(join(moved, 'host-local'), { CNI_COMMAND: 'VERSION' })
  t.equal(hl.status, 0, 'host-local runs too')
  const br = execMinimal(join(moved, 'bridge'), { CNI_COMMAND: 'VERSION' })
  t.equal(br.status, 0, 'bridge runs too')

  if (!isRoot) {
    t.comment('not root: the loopback ADD in a namespace is left out')
    return
  }
  const ns = makeNamespace(t, 'lo')
  const vars = { CNI_CONTAINERID: 'install-test', CNI_NETNS: nsPath(ns), CNI_IFNAME: 'eth0', CNI_PATH: moved }
  const config = JSON.stringify({ cniVersion: '1.0.0', name: 'lo-net', type: 'loopback' })
  const add = execMinimal(join(moved, 'loopback'), { ...vars, CNI_COMMAND: 'ADD' }, config)
  t.equal(add.status, 0, `loopback ADD exits 0 ${add.stdout} ${add.stderr}`)
  const result = JSON.parse(add.stdout) as { interfaces: Array<{ name: string }>, ips: Array<{ address: string }> }
  t.equal(result.interfaces[0]?.name, 'lo')
  t.ok(result.ips.some(ip => ip.address === '127.0.0.1/8'))
  t.ok(links(ns).find(l => l.ifname === 'lo')?.flags.includes('UP'), 'lo is UP in the namespace')
  const del = execMinimal(join(moved, 'loopback'), { ...vars, CNI_COMMAND: 'DEL' }, config)
  t.equal(del.status, 0, 'loopback DEL exits 0')
  t.notOk(links(ns).find(l => l.ifname === 'lo')?.flags.includes('UP'), 'lo is down again')
})

t.test('a launcher reached through a symlink falls back to the install directory', { skip }, async t => {
  const tmp = makeTempDir(t, 'symlink')
  const dir = join(tmp, 'cni')
  installCni({ dir, plugins: ['loopback'] })
  mkdirSync(join(tmp, 'elsewhere'))
  symlinkSync(join(dir, 'loopback'), join(tmp, 'elsewhere', 'loopback'))
  const r = execMinimal(join(tmp, 'elsewhere', 'loopback'), { CNI_COMMAND: 'VERSION' })
  t.equal(r.status, 0, `VERSION through the symlink ${r.stderr}`)
})

const CLI = join(ROOT, 'dist', 'demo', 'install-cni.js')
t.test('npm run install-cni -- DIR (the compiled CLI)', { skip: skip ?? (existsSync(CLI) ? undefined : `${CLI} missing: run npm run build`) }, async t => {
  const cli = CLI
  const dir = join(makeTempDir(t, 'cli'), 'bin')
  const r = spawnSync(process.execPath, [cli, dir], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /installed bridge, host-local, loopback into /)
  t.ok(existsSync(join(dir, 'bridge')))
  t.notOk(existsSync(join(dir, 'tscni')), 'the CLI is not installed as a plugin')
  const bad = spawnSync(process.execPath, [cli, 'a', 'b'], { encoding: 'utf8' })
  t.equal(bad.status, 2, 'two directories: usage error')
  // --agent: the systemd unit runs the copy's CLI.
  const units = join(dir, '..', 'units')
  const withAgent = spawnSync(process.execPath, [cli, dir, '--agent', '--unit-dir', units], { encoding: 'utf8' })
  t.equal(withAgent.status, 0, withAgent.stderr)
  const unit = readFileSync(join(units, AGENT_UNIT), 'utf8')
  t.match(unit, new RegExp(`ExecStart=${join(dir, '.tscni', 'tscni')} agent --socket /run/tscni/agent\\.sock\n`))
  t.match(unit, /Restart=always/)
  t.notMatch(unit, /Private|Protect/, 'host namespaces')
  const status = spawnSync(join(dir, '.tscni', 'tscni'), ['agent', 'status', '--socket', join(dir, 'none.sock')], { encoding: 'utf8' })
  t.equal(status.status, 1)
  t.match(status.stderr, /no agent on .*none\.sock/, 'the installed CLI runs')
})

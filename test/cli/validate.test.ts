// Issue 12 item 6: the JSON Schemas shipped in schemas/ and `tscni validate`.
// Good configs pass; every field of every plugin schema given a wrong type
// is reported at its path (the field list comes from the shipped JSON
// Schema); semantic problems are reported with the same message the plugin
// itself gives on ADD (the built plugin, exec'd in a throwaway namespace, is
// the oracle); exit codes; the shipped schemas are what the build generates.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateText, type Problem } from '../../src/cli/validate.js'
import { jsonSchemas } from '../../src/cli/schemas.js'
import { ROOT, isRoot, links, makeNamespace, makeTempDir, nsPath, runPlugin } from '../helpers/bridge.js'

const TSCNI = join(ROOT, 'bin', 'tscni')
const schemaFile = (name: string): any => JSON.parse(readFileSync(join(ROOT, 'schemas', `${name}.json`), 'utf8'))

const bridgeConf = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  cniVersion: '1.1.0',
  name: 'mynet',
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] },
  ...extra
})

const problems = async (value: unknown, file = 'x.conf'): Promise<Problem[]> => (await validateText(file, JSON.stringify(value))).filter(p => p.warning !== true)

t.test('the shipped schemas are the ones the build generates from the zod schemas', async t => {
  const generated = jsonSchemas()
  t.same(Object.keys(generated).sort(), ['bridge', 'conflist', 'host-local', 'loopback'])
  for (const [name, json] of Object.entries(generated)) {
    t.equal(readFileSync(join(ROOT, 'schemas', `${name}.json`), 'utf8'), JSON.stringify(json, null, 2) + '\n', `schemas/${name}.json is current (npm run build)`)
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  t.equal(pkg.exports['./schemas/*.json'], './schemas/*.json', 'exported by the package')
  const bridge = schemaFile('bridge')
  t.match(bridge.properties.mtu, { anyOf: [{ type: 'integer', minimum: 0 }, { const: 'auto' }] })
  t.match(bridge.properties.groupFwdMask, { type: 'integer', minimum: 0, maximum: 65535 })
  t.same(bridge.required.sort(), ['name', 'type'])
  t.notOk('additionalProperties' in bridge && bridge.additionalProperties === false, 'unknown keys allowed, as Go ignores them')
})

t.test('good configs: no problem; another vendor\'s plugin gets a note, not a problem', async t => {
  t.same(await problems(bridgeConf()), [])
  t.same(await problems(bridgeConf({ mtu: 'auto', groupFwdMask: 16384, isolate: true, enableSlaac: false, MTU: 1400 })), [], 'keys are matched case-insensitively, as the plugin reads them')
  t.same(await problems({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' }), [])
  const list = { cniVersion: '1.0.0', name: 'mynet', plugins: [bridgeConf({ name: undefined, cniVersion: undefined }), { type: 'portmap', capabilities: { portMappings: true } }] }
  const all = await validateText('x.conflist', JSON.stringify(list))
  t.same(all.filter(p => p.warning !== true), [])
  t.match(all, [{ path: '$.plugins[1].type', warning: true, message: /"portmap" is not a tscni plugin/ }])
})

/** A value of a JSON type the property does not accept. */
function wrongValue (prop: any): unknown {
  const types = new Set<string>()
  const collect = (p: any): void => {
    if (p.anyOf !== undefined) { for (const a of p.anyOf) collect(a); return }
    if (p.const !== undefined) types.add(typeof p.const)
    if (p.type !== undefined) types.add(p.type)
  }
  collect(prop)
  if (!types.has('boolean')) return true
  if (!types.has('string')) return 'wrong'
  if (!types.has('array')) return ['wrong']
  return 12.5
}

t.test('every field of every plugin schema, given a wrong type, is reported at its path', async t => {
  const cases: Array<{ plugin: string, base: Record<string, unknown>, at: string[] }> = [
    { plugin: 'bridge', base: bridgeConf(), at: [] },
    { plugin: 'host-local', base: { cniVersion: '1.0.0', name: 'n', type: 'bridge', ipam: { type: 'host-local', subnet: '10.1.0.0/24' } }, at: [] },
    { plugin: 'host-local', base: { cniVersion: '1.0.0', name: 'n', type: 'bridge', ipam: { type: 'host-local', subnet: '10.1.0.0/24' } }, at: ['ipam'] },
    { plugin: 'loopback', base: { cniVersion: '1.0.0', name: 'n', type: 'loopback' }, at: [] }
  ]
  let checked = 0
  for (const c of cases) {
    let props = schemaFile(c.plugin).properties
    for (const k of c.at) props = props[k].properties
    for (const key of Object.keys(props)) {
      if (key === 'name' || key === 'cniVersion' || key === 'type') continue // the skel's own checks, below
      const config = structuredClone(c.base)
      let target: any = config
      for (const k of c.at) target = target[k]
      // host-local is an IPAM plugin: its schema is checked when it is the type.
      if (c.plugin === 'host-local') config.type = 'host-local'
      target[key] = wrongValue(props[key])
      const path = ['$', ...c.at, key].join('.')
      const got = await problems(config)
      t.ok(got.some(p => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`)), `${c.plugin} ${path} = ${JSON.stringify(target[key])}: reported${got.length === 0 ? ' (nothing was)' : `: ${got.map(p => `${p.path} ${p.message}`).join('; ')}`}`)
      checked++
    }
  }
  t.ok(checked >= 40, `${checked} fields checked`)
  t.match(await problems({ cniVersion: 1, name: 5, type: 'loopback' }), [{ path: '$.name' }, { path: '$.cniVersion' }], 'name and cniVersion: the skel\'s codes')
  t.match(await problems({ cniVersion: '1.0.0', name: 'n' }), [{ path: '$.type', message: 'missing plugin type' }])
})

t.test('conflists: the list\'s fields, each plugin at its index, several problems at once', async t => {
  const list = {
    cniVersion: '2.0.0',
    name: 'bad name',
    disableCheck: 'no',
    plugins: [
      { type: 'bridge', mtu: 'big', vlan: 5000 },
      { type: 'bridge', groupFwdMask: 3, ipam: { subnet: '10.1.0.0/24' } },
      { type: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.128/25' }]] } }
    ]
  }
  const got = await problems(list, 'x.conflist')
  t.same(got.map(p => p.path), [
    '$.disableCheck', '$.name', '$.cniVersion',
    '$.plugins[0].mtu', '$.plugins[0].vlan',
    '$.plugins[1].groupFwdMask', '$.plugins[1].ipam.type',
    '$.plugins[2].ipam.ranges[1]'
  ])
  t.match(got.find(p => p.path === '$.plugins[2].ipam.ranges[1]')?.message, /range set 0 overlaps with 1/)
  t.same(await problems({ cniVersion: '1.0.0', name: 'n', plugins: [] }, 'x.conflist'), [{ file: 'x.conflist', path: '$.plugins', message: 'no plugins in the list', code: 7 }])
})

t.test('semantic problems: the same message the plugin gives on ADD (the built plugin as oracle)', { skip: isRoot && existsSync(join(ROOT, 'bin', 'bridge')) ? false : 'needs root and npm run build: runs bin/bridge in a throwaway namespace' }, async t => {
  // A real pod namespace: host-local's checks run only once the veth exists (a failed ADD rolls it back).
  const node = makeNamespace(t, 'val-node')
  const pod = makeNamespace(t, 'val-pod')
  const dataDir = makeTempDir(t, 'val')
  const bad: Array<Record<string, unknown>> = [
    { vlan: 4095 },
    { mtu: -5 },
    { groupFwdMask: 0x4001 },
    { bridge: 'a-bridge-name-too-long' },
    { hairpinMode: true, promiscMode: true },
    { ipMasq: true, ipMasqBackend: 'pf' },
    { disableContainerInterface: true },
    { runtimeConfig: { mac: 'not-a-mac' } },
    { vlanTrunk: [{ minID: 5 }] },
    { ipam: { subnet: '10.1.0.0/24' } },
    { ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.0.0/24', gateway: '10.2.0.1', rangeStart: '10.3.0.1' }]] } },
    { ipam: { type: 'host-local', dataDir, subnet: '10.1.0.0/24', routes: [{ dst: 'nowhere' }] } }
  ]
  for (const extra of bad) {
    const conf = bridgeConf({ ipam: { type: 'host-local', dataDir, subnet: '10.9.0.0/24' }, ...extra })
    const r = runPlugin({ node, command: 'ADD', containerId: 'c1', netns: nsPath(pod), ifname: 'eth0', config: conf })
    t.equal(r.code, 1, `${JSON.stringify(extra)}: the plugin refuses it`)
    const got = await problems(conf)
    t.ok(got.some(p => p.message.startsWith(r.json?.msg) || p.message.includes(r.json?.msg)), `${JSON.stringify(extra)}: validate says "${r.json?.msg as string}" too (${got.map(p => `${p.path}: ${p.message}`).join('; ')})`)
  }
  t.same(links(pod).map(l => l.ifname), ['lo'], 'every ADD failed and left nothing in the pod')
})

t.test('bin/tscni validate: output, --json, exit codes', { skip: existsSync(TSCNI) ? false : 'bin/tscni is missing: npm run build' }, async t => {
  const dir = makeTempDir(t, 'validate')
  const good = join(dir, 'good.conflist')
  const bad = join(dir, 'bad.conf')
  writeFileSync(good, JSON.stringify({ cniVersion: '1.0.0', name: 'mynet', plugins: [bridgeConf({ name: undefined })] }))
  writeFileSync(bad, JSON.stringify(bridgeConf({ isGateway: 'yes', groupFwdMask: 1 })))
  const ok = spawnSync(TSCNI, ['validate', good], { encoding: 'utf8' })
  t.equal(ok.status, 0)
  t.equal(ok.stdout, `${good}: ok\n`)
  const r = spawnSync(TSCNI, ['validate', good, bad], { encoding: 'utf8' })
  t.equal(r.status, 1, 'non-zero when any file has a problem')
  t.same(r.stdout.trim().split('\n'), [`${bad}: $.isGateway: expected boolean, got string "yes"`], 'types first: the semantic checks wait for a well-typed config')
  const j = spawnSync(TSCNI, ['validate', '--json', bad], { encoding: 'utf8' })
  t.equal(j.status, 1)
  t.same(JSON.parse(j.stdout), [{ file: bad, path: '$.isGateway', message: 'expected boolean, got string "yes"', code: 7 }])
  writeFileSync(bad, JSON.stringify(bridgeConf({ groupFwdMask: 1 })))
  const sem = spawnSync(TSCNI, ['validate', bad], { encoding: 'utf8' })
  t.match(sem.stdout, /\$\.groupFwdMask: groupFwdMask 0x1 sets bit the kernel never forwards: 0 \(01:80:C2:00:00:00, STP\)/)
  t.equal(spawnSync(TSCNI, ['validate'], { encoding: 'utf8' }).status, 2, 'no file: usage, exit 2')
  const missing = spawnSync(TSCNI, ['validate', join(dir, 'nope.conf')], { encoding: 'utf8' })
  t.equal(missing.status, 1)
  t.match(missing.stderr, /nope\.conf: ENOENT/)
  writeFileSync(bad, '{"name": ')
  t.match(spawnSync(TSCNI, ['validate', bad], { encoding: 'utf8' }).stdout, /bad\.conf: \$: not JSON: /)
})

// Every field of every plugin's config schema, given a wrong JSON type, is
// refused by both readers: the zod schema (what `tscni validate` and the
// schemas/*.json use) and the plugin run's fast reader (the exec path, no
// zod), the run answering with the spec's error JSON (code 6 for name and
// cniVersion as the Go skel, else 7) that names the field. The fields are
// found by walking the zod schemas, so a field added to a config's shape is
// covered without touching this test. Runs the plugins in process; every run
// stops at the config (CNI_NETNS does not exist).
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PLUGIN_SCHEMAS } from '../../src/cli/schemas.js'
import { formatPath, validateWith, type SchemaLike } from '../../src/cni/config.js'
import { CniError } from '../../src/cni/errors.js'
import { runPluginWith, type Plugin } from '../../src/cni/skel.js'
import { bridge } from '../../src/plugins/bridge/index.js'
import { hostLocal } from '../../src/plugins/host-local/index.js'
import { loopback } from '../../src/plugins/loopback/index.js'

interface Def {
  type: string
  shape?: Record<string, Node>
  element?: Node
  innerType?: Node
  valueType?: Node
  options?: Node[]
}
interface Node { _zod: { def: Def } }

type Path = Array<string | number>

/** Every path to a field in the schema (object keys, array items as [0], record values as .k). */
function fieldPaths (node: Node, path: Path = []): Array<{ path: Path, node: Node }> {
  const def = node._zod.def
  switch (def.type) {
    case 'optional': case 'nullable': return fieldPaths(def.innerType!, path)
    case 'object': {
      const out: Array<{ path: Path, node: Node }> = path.length > 0 ? [{ path, node }] : []
      for (const [k, v] of Object.entries(def.shape!)) out.push(...fieldPaths(v, [...path, k]))
      return out
    }
    case 'array': return [{ path, node }, ...fieldPaths(def.element!, [...path, 0])]
    case 'record': return [{ path, node }, ...fieldPaths(def.valueType!, [...path, 'k'])]
    default: return [{ path, node }]
  }
}

/** A JSON value that the schema node does not take (never null: null is an absent field). */
function wrongValue (node: Node): unknown {
  const def = node._zod.def
  switch (def.type) {
    case 'optional': case 'nullable': return wrongValue(def.innerType!)
    case 'string': case 'literal': return 5
    case 'number': case 'int': case 'boolean': return 'wrong'
    case 'union': return true
    default: return 'wrong' // object, array, record
  }
}

/** The smallest value of the right type (required fields filled). */
function validValue (node: Node): unknown {
  const def = node._zod.def
  switch (def.type) {
    case 'optional': case 'nullable': return validValue(def.innerType!)
    case 'string': return 'x'
    case 'int': case 'number': return 1
    case 'boolean': return false
    case 'array': return []
    case 'record': return {}
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(def.shape!)) if (v._zod.def.type !== 'optional') out[k] = validValue(v)
      return out
    }
    default: throw new Error(`no valid sample for ${def.type}`)
  }
}

/** `base` with the value at path set to `value`, the containers on the way made valid. */
function withValueAt (node: Node, base: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value
  const def = node._zod.def
  if (def.type === 'optional' || def.type === 'nullable') return withValueAt(def.innerType!, base, path, value)
  const [head, ...rest] = path
  if (def.type === 'array') {
    const list = Array.isArray(base) && base.length > 0 ? [...base] : [validValue(def.element!)]
    list[0] = withValueAt(def.element!, list[0], rest, value)
    return list
  }
  const container = typeof base === 'object' && base !== null && !Array.isArray(base) ? { ...base as Record<string, unknown> } : validValue(node) as Record<string, unknown>
  const child = def.type === 'record' ? def.valueType! : def.shape![head as string]!
  container[head as string] = withValueAt(child, container[head as string], rest, value)
  return container
}

const dataDir = mkdtempSync(join(tmpdir(), 'tscni-shapes-'))
t.teardown(() => { rmSync(dataDir, { recursive: true, force: true }) })

const PLUGINS: Array<{ name: string, plugin: Plugin, base: Record<string, unknown> }> = [
  { name: 'bridge', plugin: bridge, base: { cniVersion: '1.0.0', name: 'shapes', type: 'bridge', bridge: 'tscnishape0' } },
  { name: 'host-local', plugin: hostLocal, base: { cniVersion: '1.0.0', name: 'shapes', type: 'host-local', ipam: { type: 'host-local', subnet: '10.99.0.0/24', dataDir } } },
  { name: 'loopback', plugin: loopback, base: { cniVersion: '1.0.0', name: 'shapes', type: 'loopback' } }
]

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'shapes', CNI_NETNS: '/var/run/netns/tscni-shapes-none', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent' }

for (const { name, plugin, base } of PLUGINS) {
  t.test(`${name}: every field with a wrong type is refused by the schema and by the run`, async t => {
    const schema = PLUGIN_SCHEMAS[name] as unknown as Node
    const fields = fieldPaths(schema)
    t.ok(fields.length >= (name === 'loopback' ? 9 : 20), `${fields.length} fields found`)
    for (const { path, node } of fields) {
      const where = formatPath(path)
      const config = withValueAt(schema, base, path, wrongValue(node)) as Record<string, unknown>
      const text = JSON.stringify(config)
      // The schema.
      t.throws(() => validateWith(config, schema as unknown as SchemaLike<unknown>), CniError, `schema refuses ${where}: ${text}`)
      // The run's fast reader, through the skel.
      let out = ''
      const code = await runPluginWith(plugin, { env: ENV, stdin: text, stdout: s => { out += s }, stderr: () => {} })
      t.equal(code, 1, `run refuses ${where}`)
      const e = JSON.parse(out) as { cniVersion?: string, code: number, msg: string, details?: string }
      const want = path[0] === 'name' || path[0] === 'cniVersion' ? 6 : 7
      t.equal(e.code, want, `${where}: code ${want} (${out.replace(/\s+/g, ' ')})`)
      t.type(e.msg, 'string')
      const named = want === 6 ? e.msg.includes(`"${String(path[0])}"`) : `${e.msg} ${e.details ?? ''}`.includes(where)
      t.ok(named, `${where}: the error names the field`)
    }
  })
}

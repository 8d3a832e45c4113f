// The network configuration on stdin: the base fields every plugin shares
// (checked by the skel, with the Go skel's codes and texts) and the
// validation of plugin-specific fields with zod schemas.
//
// Start-up cost: this module must not load zod (importing it costs ~50 ms,
// twice a whole plugin run). Only `import type` from zod here; a plugin keeps
// its schema in its own module and passes a loader, e.g.
//   const conf = await validateWithSchema(ctx.config, () => import('./schema.js'))
// so zod is reached only through a dynamic import, which a bundler can put in
// its own chunk or a V8 startup snapshot can preload.
import { CniError, ErrDecodingFailure, ErrInvalidNetworkConfig } from './errors.js'
import { VALID_NAME } from './env.js'
import { DEFAULT_CONFIG_VERSION } from './version.js'
import { ShapeMismatch, describeValue, fieldCI, isObject, jsonTypeName, readShape, shape as s, type JSONObject } from './json.js'

/** The stdin config after the base checks. */
export interface NetworkConfig {
  /** The whole parsed JSON object (plugin fields included, unchanged). */
  config: JSONObject
  /** The network name (`name`), valid per the CNI name rule. */
  name: string
  /** `cniVersion`, or "0.1.0" when absent or empty. */
  cniVersion: string
}

/**
 * Parses stdin bytes and checks the base fields, in the Go skel's order:
 * JSON → an object with a string `name` (6 `error unmarshall network config: …`),
 * name present (7 `missing network name`), name valid (7 `invalid characters
 * found in network name`, details = the name), then `cniVersion` a string
 * (6 `decoding version from network config: …`). Keys match
 * case-insensitively and `null` counts as absent, as in Go. Whether the
 * version is supported is checked by the caller (version.ts).
 */
export function parseNetworkConfig (stdin: Uint8Array | string): NetworkConfig {
  const config = parseConfigJSON(stdin)
  const name = checkNetworkName(config)
  return { config, name, cniVersion: configVersion(config) }
}

/** The config's `name`: a string (else 6), present (else 7), valid (else 7 with the name as details). */
export function checkNetworkName (config: JSONObject): string {
  const name = fieldCI(config, 'name')
  if (name !== undefined && typeof name !== 'string') {
    throw new CniError(ErrDecodingFailure, `error unmarshall network config: field "name" must be a string, got ${jsonTypeName(name)}`)
  }
  if (name === undefined || name === '') throw new CniError(ErrInvalidNetworkConfig, 'missing network name')
  if (!VALID_NAME.test(name)) throw new CniError(ErrInvalidNetworkConfig, 'invalid characters found in network name', name)
  return name
}

/** The bytes as a JSON object, else code 6 naming the problem. */
export function parseConfigJSON (stdin: Uint8Array | string): JSONObject {
  const text = typeof stdin === 'string' ? stdin : Buffer.from(stdin.buffer, stdin.byteOffset, stdin.byteLength).toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // Go's text for the most common case; otherwise V8's, which names the position.
    const why = text.trim() === '' ? 'unexpected end of JSON input' : `invalid JSON: ${(err as Error).message}`
    throw new CniError(ErrDecodingFailure, `error unmarshall network config: ${why}`)
  }
  // Go decodes `null` into the empty struct: no error, but no name either.
  if (value === null) throw new CniError(ErrInvalidNetworkConfig, 'missing network name')
  if (!isObject(value)) {
    throw new CniError(ErrDecodingFailure, `error unmarshall network config: expected a JSON object, got ${jsonTypeName(value)}`)
  }
  return value
}

/** The config's cniVersion ("0.1.0" when absent, null or ""); a non-string → 6. */
export function configVersion (config: JSONObject): string {
  const v = fieldCI(config, 'cniVersion')
  if (v === undefined || v === '') return DEFAULT_CONFIG_VERSION
  if (typeof v !== 'string') {
    throw new CniError(ErrDecodingFailure, `decoding version from network config: field "cniVersion" must be a string, got ${jsonTypeName(v)}`)
  }
  return v
}

/**
 * The fields every network config shares (libcni's NetConf and our logging
 * keys), described once: the skel reads them with it (checkBaseFields), the
 * config schemas start from it (src/cli/schemas.ts). `type` is optional here:
 * a plugin does not need it (the runtime does; the schemas require it).
 */
export const baseShape = s.looseObject({
  cniVersion: s.optional(s.string()),
  name: s.string(),
  type: s.optional(s.string()),
  capabilities: s.optional(s.record(s.bool())),
  prevResult: s.optional(s.nullable(s.looseObject({}))),
  runtimeConfig: s.optional(s.looseObject({})),
  args: s.optional(s.looseObject({})),
  logFile: s.optional(s.string()),
  logLevel: s.optional(s.string())
})

/**
 * The base fields' JSON types, as a Go plugin's NetConf decoding checks them
 * (after name and cniVersion, which have their own codes): a wrong type is
 * code 7 naming the field, e.g. `type: expected string, got number 5`.
 */
export function checkBaseFields (config: JSONObject): void {
  try {
    readShape(config, baseShape)
  } catch (err) {
    if (err instanceof ShapeMismatch) throw new CniError(ErrInvalidNetworkConfig, 'invalid network config', err.message)
    throw err
  }
}

// ---- plugin-specific validation (zod, loaded lazily by the caller) --------

/** What we need of a zod schema (classic or mini): safeParse and its def. */
export interface SchemaLike<T> {
  safeParse (data: unknown): { success: true, data: T } | { success: false, error: { issues: readonly SchemaIssue[] } }
  _zod?: { def: SchemaDef }
}

/** The subset of a zod issue we read. */
export interface SchemaIssue {
  code: string
  path: readonly PropertyKey[]
  message: string
  expected?: string
  minimum?: number | bigint
  maximum?: number | bigint
  inclusive?: boolean
  origin?: string
  values?: readonly unknown[]
  keys?: readonly string[]
  format?: string
  errors?: ReadonlyArray<readonly SchemaIssue[]>
}

interface SchemaDef {
  type: string
  shape?: Record<string, SchemaLike<unknown>>
  element?: SchemaLike<unknown>
  innerType?: SchemaLike<unknown>
  options?: ReadonlyArray<SchemaLike<unknown>>
  valueType?: SchemaLike<unknown>
  items?: ReadonlyArray<SchemaLike<unknown>>
  in?: SchemaLike<unknown>
  getter?: () => SchemaLike<unknown>
}

/** A schema, or a loader returning it or a module exporting it as `schema` or `default`. */
export type SchemaSource<T> =
  | SchemaLike<T>
  | (() => SchemaLike<T> | Promise<SchemaLike<T> | { schema: SchemaLike<T> } | { default: SchemaLike<T> }>)

export interface ValidateOptions {
  /** The error's msg (code 7); the details list the fields. Default `invalid network config`. */
  msg?: string
  /** Match keys case-insensitively and drop nulls first (normalizeKeys). Default true. */
  normalize?: boolean
}

/**
 * Validates a config (or part of it) against a zod schema, loading the schema
 * lazily: keys are first normalised the Go way (normalizeKeys), then a
 * failure becomes CniError 7 whose details name every bad field with its
 * path and what was expected, e.g. `mtu: expected int, got string "big"`.
 */
export async function validateWithSchema<T> (raw: unknown, source: SchemaSource<T>, options: ValidateOptions = {}): Promise<T> {
  return validateWith(raw, await loadSchema(source), options)
}

/** validateWithSchema for a schema already loaded. */
export function validateWith<T> (raw: unknown, schema: SchemaLike<T>, options: ValidateOptions = {}): T {
  const input = options.normalize === false ? raw : normalizeKeys(raw, schema)
  const r = schema.safeParse(input)
  if (r.success) return r.data
  const details = r.error.issues.map(i => describeIssue(i, input)).join('; ')
  throw new CniError(ErrInvalidNetworkConfig, options.msg ?? 'invalid network config', details)
}

async function loadSchema<T> (source: SchemaSource<T>): Promise<SchemaLike<T>> {
  if (typeof source !== 'function') return source
  const loaded = await source()
  if (typeof (loaded as SchemaLike<T>).safeParse === 'function') return loaded as SchemaLike<T>
  const mod = loaded as { schema?: SchemaLike<T>, default?: SchemaLike<T> }
  const s = mod.schema ?? mod.default
  if (s === undefined || typeof s.safeParse !== 'function') throw new TypeError('schema loader returned no schema (export it as `schema` or `default`)')
  return s
}

/**
 * Go's JSON decoding rules applied to a plain value before schema
 * validation: an object key matching a schema key case-insensitively is
 * renamed to it (`"MTU"` → `mtu`; when several match, the last wins), a
 * `null` for a schema key is dropped (Go leaves the default), and unknown
 * keys are kept (the schema decides: z.object strips them, like Go). Walks
 * nested objects, arrays, records, optionals, defaults, nullables, unions
 * (the option whose keys fit the value best), pipes and lazies. Returns a new value;
 * the input is not modified.
 */
export function normalizeKeys (value: unknown, schema: SchemaLike<unknown> | undefined): unknown {
  const def = unwrap(schema, value)
  if (def === undefined) return value
  if (Array.isArray(value)) {
    if (def.type === 'array' && def.element !== undefined) return value.map(v => normalizeKeys(v, def.element))
    if (def.type === 'tuple' && def.items !== undefined) return value.map((v, i) => normalizeKeys(v, def.items![i]))
    return value
  }
  if (!isObject(value)) return value
  if (def.type === 'record' && def.valueType !== undefined) {
    const out: JSONObject = {}
    for (const k in value) out[k] = normalizeKeys(value[k], def.valueType)
    return out
  }
  if (def.type !== 'object' || def.shape === undefined) return value
  const shape = def.shape
  const known = new Map<string, string>()
  for (const k of Object.keys(shape)) known.set(k.toLowerCase(), k)
  const out: JSONObject = {}
  for (const k in value) {
    const target = known.get(k.toLowerCase())
    if (target === undefined) {
      if (!(k in out)) out[k] = value[k]
      continue
    }
    const v = value[k]
    if (v === null) {
      delete out[target]
      continue
    }
    // Re-insert so that the last matching key wins, as in Go.
    delete out[target]
    out[target] = normalizeKeys(v, shape[target])
  }
  return out
}

// Sees through wrappers to the schema that decides the value's shape.
function unwrap (schema: SchemaLike<unknown> | undefined, value: unknown): SchemaDef | undefined {
  let s = schema
  for (let depth = 0; s !== undefined && depth < 32; depth++) {
    const def = s._zod?.def
    if (def === undefined) return undefined
    switch (def.type) {
      case 'optional': case 'nullable': case 'default': case 'prefault': case 'catch':
      case 'readonly': case 'nonoptional': case 'success':
        s = def.innerType
        continue
      case 'pipe':
        s = def.in
        continue
      case 'lazy':
        s = def.getter?.()
        continue
      case 'union': {
        const option = bestOption(def.options ?? [], value)
        if (option === undefined) return def
        s = option
        continue
      }
      default:
        return def
    }
  }
  return undefined
}

// The union option that fits the value's shape: for an object, the object
// option sharing the most keys with it (case-insensitively), the first on a tie.
function bestOption (options: ReadonlyArray<SchemaLike<unknown>>, value: unknown): SchemaLike<unknown> | undefined {
  let best: SchemaLike<unknown> | undefined
  let bestScore = -1
  for (const o of options) {
    const d = unwrap(o, value)
    if (d === undefined) continue
    let score = -1
    if (Array.isArray(value)) score = d.type === 'array' || d.type === 'tuple' ? 0 : -1
    else if (isObject(value)) {
      if (d.type === 'record') score = 0
      else if (d.type === 'object' && d.shape !== undefined) {
        const keys = new Set(Object.keys(d.shape).map(k => k.toLowerCase()))
        score = 0
        for (const k in value) if (keys.has(k.toLowerCase())) score++
      }
    }
    if (score > bestScore) { best = o; bestScore = score }
  }
  return best
}

/** "ipam.ranges[0][1].subnet"; "(root)" for the top. */
export function formatPath (path: readonly PropertyKey[]): string {
  let s = ''
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`
    else s += (s === '' ? '' : '.') + String(p)
  }
  return s === '' ? '(root)' : s
}

function valueAt (root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[p]
  }
  return v
}


/** One issue as `path: what was expected, got what`. */
export function describeIssue (issue: SchemaIssue, input: unknown): string {
  const where = formatPath(issue.path)
  const got = valueAt(input, issue.path)
  switch (issue.code) {
    case 'invalid_type':
      if (got === undefined) return `${where}: required (expected ${issue.expected ?? 'a value'})`
      return `${where}: expected ${issue.expected ?? 'another type'}, got ${describeValue(got)}`
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum
      const op = issue.code === 'too_small' ? (issue.inclusive === false ? '>' : '>=') : (issue.inclusive === false ? '<' : '<=')
      const what = issue.origin === 'array' || issue.origin === 'set' ? 'length' : issue.origin === 'string' ? 'length' : 'value'
      return `${where}: ${what} must be ${op} ${String(bound)}, got ${describeValue(got)}`
    }
    case 'invalid_value':
      return `${where}: expected one of ${(issue.values ?? []).map(v => JSON.stringify(v)).join(', ')}, got ${describeValue(got)}`
    case 'invalid_union': {
      const types = new Set<string>()
      for (const branch of issue.errors ?? []) {
        for (const i of branch) {
          if (i.path.length !== 0) continue
          if (i.code === 'invalid_type' && i.expected !== undefined) types.add(i.expected)
          // A literal option: `expected int or "auto"`.
          if (i.code === 'invalid_value') for (const v of i.values ?? []) types.add(JSON.stringify(v))
        }
      }
      if (types.size > 0) return `${where}: expected ${[...types].join(' or ')}, got ${describeValue(got)}`
      return `${where}: ${issue.message}, got ${describeValue(got)}`
    }
    case 'unrecognized_keys':
      return `${where}: unknown keys ${(issue.keys ?? []).map(k => JSON.stringify(k)).join(', ')}`
    default:
      return `${where}: ${issue.message}`
  }
}

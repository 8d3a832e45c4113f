// `tscni validate FILE…`: checks network configs (.conf) and configuration
// lists (.conflist) the way our plugins will, before a runtime runs them:
// every problem with its JSON path, exit 1 when any is found.
//
// The checks are the plugins' own: the skel's (name, cniVersion), the
// plugin's schema (every mistyped field at once), then its semantic checks
// (VLAN range, groupFwdMask bits, ipam without type, option conflicts…) and,
// for a bridge with host-local IPAM, host-local's (ranges, overlaps, routes).
// A plugin that is not ours is checked for the shared fields only, with a
// note. Nothing is created and no socket is opened.
import { readFileSync } from 'node:fs'
import { CniError, ErrInvalidNetworkConfig } from '../cni/errors.js'
import { checkNetworkName, configVersion, describeIssue, formatPath, normalizeKeys, type SchemaLike } from '../cni/config.js'
import { fieldCI, isObject, jsonTypeName, type JSONObject } from '../cni/json.js'
import { checkVersionSupported } from '../cni/version.js'
import { bridgeConfigProblems } from '../plugins/bridge/config.js'
import { loadIPAMConfig } from '../ipam/config.js'
import { CONFLIST_SCHEMA, PLUGIN_SCHEMAS } from './schemas.js'

export const usage = 'validate [--json] FILE...   check .conf/.conflist files as the plugins will (exit 1 when a problem is found)'

export interface Problem {
  file: string
  /** JSONPath of the field, e.g. `$.plugins[0].ipam.ranges[0][0].subnet`; `$` for the whole file. */
  path: string
  message: string
  /** The CNI error code a plugin run would give (7 mostly), when known. */
  code?: number
  /** A note, not a problem: does not change the exit code. */
  warning?: boolean
}

/** `$` + a dotted/bracketed path relative to it ("" = the root). */
function join (prefix: string, rel: string): string {
  if (rel === '' || rel === '(root)') return prefix
  return rel.startsWith('[') ? `${prefix}${rel}` : `${prefix}.${rel}`
}

/** A CniError as problems: its details are a path, or "path: message" items joined by "; ", or free text. */
function fromCniError (file: string, prefix: string, e: CniError, fallbackPath = ''): Problem[] {
  const items = e.details === '' ? [] : e.details.split('; ')
  const pathOnly = /^[\w./\-[\]]+$/
  const withPath = /^([\w./\-[\]]+): (.+)$/s
  if (items.length > 0 && items.every(i => withPath.test(i) && !pathOnly.test(i))) {
    return items.map(i => {
      const m = withPath.exec(i)!
      return { file, path: join(prefix, m[1]!), message: m[2]!, code: e.code }
    })
  }
  if (items.length === 1 && pathOnly.test(items[0]!)) return [{ file, path: join(prefix, items[0]!), message: e.msg, code: e.code }]
  return [{ file, path: join(prefix, fallbackPath), message: e.details === '' ? e.msg : `${e.msg}: ${e.details}`, code: e.code }]
}

const RANGE_ISSUES = new Set(['too_small', 'too_big'])

/**
 * Every type problem of a value against a zod schema, with Go's key rules
 * (case-insensitive, null = absent). The schemas' ranges (vlan, mtu,
 * groupFwdMask) are the plugins' semantic checks too, which word them as a
 * plugin run does: range issues are reported from here only when type
 * problems keep those checks from running (`withRanges`).
 */
function typeProblems (file: string, prefix: string, value: unknown, schema: SchemaLike<unknown>, withRanges = true): Problem[] {
  const input = normalizeKeys(value, schema)
  const r = schema.safeParse(input)
  if (r.success) return []
  const types = r.error.issues.filter(i => !RANGE_ISSUES.has(i.code))
  const issues = types.length > 0 || withRanges ? r.error.issues : types
  return issues.map(i => {
    const text = describeIssue(i, input)
    const where = formatPath(i.path)
    return { file, path: join(prefix, where === '(root)' ? '' : where), message: text.slice(where.length + 2), code: ErrInvalidNetworkConfig }
  })
}

/** The skel's checks of a plugin's stdin config: name, cniVersion (decodable, supported). */
function baseProblems (file: string, prefix: string, config: JSONObject): Problem[] {
  const out: Problem[] = []
  try {
    checkNetworkName(config)
  } catch (err) {
    out.push(...fromCniError(file, prefix, err as CniError, 'name').map(p => ({ ...p, path: join(prefix, 'name') })))
  }
  try {
    checkVersionSupported(configVersion(config))
  } catch (err) {
    if (!(err instanceof CniError)) throw err
    out.push({ file, path: join(prefix, 'cniVersion'), message: err.details === '' ? err.msg : `${err.msg}: ${err.details}`, code: err.code })
  }
  return out
}

/** host-local's checks of the ipam section (as the plugin loads it on ADD). */
async function hostLocalProblems (file: string, prefix: string, config: JSONObject): Promise<Problem[]> {
  const name = fieldCI(config, 'name')
  try {
    await loadIPAMConfig(config, { name: typeof name === 'string' ? name : '', cniVersion: configVersion(config), cniArgs: '' })
    return []
  } catch (err) {
    if (err instanceof CniError) return fromCniError(file, prefix, err, 'ipam')
    return [{ file, path: join(prefix, 'ipam'), message: (err as Error).message }]
  }
}

/** One plugin's stdin config (a .conf, or a list entry with the list's name and cniVersion in it). */
async function configProblems (file: string, prefix: string, config: JSONObject): Promise<Problem[]> {
  const out = baseProblems(file, prefix, config)
  const type = fieldCI(config, 'type')
  if (typeof type !== 'string' || type === '') {
    out.push({ file, path: join(prefix, 'type'), message: type === undefined || type === null || type === '' ? 'missing plugin type' : `expected string, got ${jsonTypeName(type)}`, code: ErrInvalidNetworkConfig })
    return out
  }
  const schema = PLUGIN_SCHEMAS[type] as SchemaLike<unknown> | undefined
  if (schema === undefined) {
    out.push({ file, path: join(prefix, 'type'), message: `"${type}" is not a tscni plugin: only the shared fields were checked`, warning: true })
    return out
  }
  // Ranges too, unless the plugin's own checks below will word them.
  const types = typeProblems(file, prefix, config, schema, type !== 'bridge')
  out.push(...types)
  if (type === 'bridge') {
    // Its own types were just reported: only the checks beyond them.
    if (types.length === 0) {
      for (const p of await bridgeConfigProblems(config)) {
        const d = p.error.details
        const extra = d.startsWith(`${p.path}: `) ? d.slice(p.path.length + 2) : d
        out.push({ file, path: join(prefix, p.path), message: d === '' || d === p.path ? p.error.msg : `${p.error.msg} (${extra})`, code: p.error.code })
      }
    }
    const ipam = fieldCI(config, 'ipam')
    const ipamType = isObject(ipam) ? fieldCI(ipam, 'type') : undefined
    if (ipamType === 'host-local' && types.length === 0) out.push(...await hostLocalProblems(file, prefix, config))
    else if (typeof ipamType === 'string' && ipamType !== '' && ipamType !== 'host-local') {
      out.push({ file, path: join(prefix, 'ipam.type'), message: `"${ipamType}" is not a tscni plugin: its section was not checked`, warning: true })
    }
  } else if (type === 'host-local' && types.length === 0) {
    out.push(...await hostLocalProblems(file, prefix, config))
  }
  return out
}

/** A conflist: its own fields, then each plugin as libcni hands it over (name and cniVersion injected). */
async function listProblems (file: string, list: JSONObject): Promise<Problem[]> {
  const out = typeProblems(file, '$', list, CONFLIST_SCHEMA as unknown as SchemaLike<unknown>)
  const name = fieldCI(list, 'name')
  if (typeof name === 'string') {
    try {
      checkNetworkName(list)
    } catch (err) {
      out.push({ file, path: '$.name', message: (err as CniError).msg, code: (err as CniError).code })
    }
  }
  const version = fieldCI(list, 'cniVersion')
  const versions = fieldCI(list, 'cniVersions')
  for (const [path, v] of [['$.cniVersion', version], ...(Array.isArray(versions) ? versions.map((v, i) => [`$.cniVersions[${i}]`, v]) : [])] as Array<[string, unknown]>) {
    if (typeof v !== 'string' || v === '') continue
    try {
      checkVersionSupported(v)
    } catch (err) {
      out.push({ file, path, message: `${(err as CniError).msg}: ${(err as CniError).details}`, code: (err as CniError).code })
    }
  }
  const plugins = fieldCI(list, 'plugins')
  if (!Array.isArray(plugins)) return out
  if (plugins.length === 0) out.push({ file, path: '$.plugins', message: 'no plugins in the list', code: ErrInvalidNetworkConfig })
  for (const [i, p] of plugins.entries()) {
    if (!isObject(p)) continue
    // libcni's buildOneConfig: the list's name and cniVersion replace the plugin's.
    const one: JSONObject = { ...p, name: typeof name === 'string' ? name : '', cniVersion: typeof version === 'string' ? version : '' }
    const problems = await configProblems(file, `$.plugins[${i}]`, one)
    // Problems with the injected fields are the list's, already reported.
    out.push(...problems.filter(q => q.path !== `$.plugins[${i}].name` && q.path !== `$.plugins[${i}].cniVersion`))
  }
  return out
}

/** Every problem (and note) of one file's text. */
export async function validateText (file: string, text: string): Promise<Problem[]> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return [{ file, path: '$', message: `not JSON: ${(err as Error).message}`, code: 6 }]
  }
  if (!isObject(value)) return [{ file, path: '$', message: `expected a JSON object, got ${jsonTypeName(value)}`, code: 6 }]
  const isList = file.endsWith('.conflist') || fieldCI(value, 'plugins') !== undefined
  return isList ? await listProblems(file, value) : await configProblems(file, '$', value)
}

export function formatProblem (p: Problem): string {
  return `${p.file}: ${p.path}: ${p.warning === true ? 'note: ' : ''}${p.message}`
}

export async function run (args: string[]): Promise<number> {
  const json = args.includes('--json')
  const files = args.filter(a => a !== '--json')
  if (files.length === 0 || files.some(f => f === '-h' || f === '--help')) {
    process.stderr.write(`usage: tscni ${usage}\n`)
    return files.length === 0 ? 2 : 0
  }
  const all: Problem[] = []
  let unreadable = false
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      process.stderr.write(`tscni validate: ${file}: ${(err as Error).message}\n`)
      unreadable = true
      continue
    }
    all.push(...await validateText(file, text))
  }
  const problems = all.filter(p => p.warning !== true)
  if (json) {
    process.stdout.write(JSON.stringify(all, null, 2) + '\n')
  } else {
    for (const p of all) process.stdout.write(formatProblem(p) + '\n')
    if (problems.length === 0 && !unreadable) process.stdout.write(`${files.length === 1 ? files[0]! : `${files.length} files`}: ok\n`)
  }
  return problems.length > 0 || unreadable ? 1 : 0
}

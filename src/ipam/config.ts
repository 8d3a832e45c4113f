// The host-local IPAM config, read as the official LoadIPAMConfig reads it
// (backend/allocator/config.go): the range sets from runtimeConfig.ipRanges,
// then the legacy ipam.subnet/rangeStart/rangeEnd/gateway, then ipam.ranges;
// routes, dataDir, resolvConf; requested addresses from CNI_ARGS `IP`,
// args.cni.ips and runtimeConfig.ips, in that order. The error texts are
// upstream's; the codes are precise (7 for the config, with details naming
// the field; 4 for CNI_ARGS) where upstream says 999 for everything.
//
// Keys match case-insensitively and null means absent, as in Go. Types are
// checked here by hand, so that a valid config never loads zod; on the first
// field of the wrong type the zod schema (config-schema.ts) is loaded to
// report every bad field.
import { CniError, ErrIncompatibleCNIVersion, ErrInvalidNetworkConfig } from '../cni/errors.js'
import { parseCniArgs } from '../cni/args.js'
import type { GCAttachment } from '../cni/gc.js'
import { validateWithSchema } from '../cni/config.js'
import { ShapeMismatch, readShape, shape as s, type Infer, type JSONObject } from '../cni/json.js'
import { parseRoute, type Route } from '../cni/result.js'
import { versionAtLeast } from '../cni/version.js'
import { type IP, formatIPText, parseCIDRText, parseIPText } from '../netlink/addr.js'
import { InvalidRangeError, type RangeSpec } from './range.js'
import { type RangeSet, parseRangeSet } from './range-set.js'
import { DEFAULT_DATA_DIR, isSafePathComponent } from './store.js'

/** A requested address and the config path (or `CNI_ARGS`) it came from. */
export interface RequestedIP {
  ip: IP
  source: string
}

export type { GCAttachment }

export interface IPAMConfig {
  /** The network name: the store directory under dataDir. */
  name: string
  cniVersion: string
  /** In allocation order; the index is the N of last_reserved_ip.N. */
  rangeSets: RangeSet[]
  /** Where each set came from, e.g. `runtimeConfig.ipRanges[0]`, `ipam` (legacy), `ipam.ranges[1]`. */
  rangeSetPaths: string[]
  /** ipam.routes, as given (canonical text). */
  routes: Route[]
  dataDir: string
  resolvConf: string | undefined
  /** In upstream's order, duplicates removed. */
  requestedIPs: RequestedIP[]
  /** `cni.dev/valid-attachments` plus the legacy `cni.dev/attachments`; undefined when neither is given. */
  gcAttachments: GCAttachment[] | undefined
  /** Things accepted but probably wrong (a gateway outside its subnet…), for the log. */
  warnings: string[]
  /** ipam.reclaimAfterReboot (default true): release reservations made under an earlier boot on the first ADD or GC of a new one. */
  reclaimAfterReboot: boolean
  /** ipam.statusFailsWhenFull (default false): STATUS answers 50 when a range set has no free address. */
  statusFailsWhenFull: boolean
}

export interface LoadOptions {
  /** The network name, already checked by the skel. */
  name: string
  /** The config's cniVersion ("0.1.0" when absent). */
  cniVersion: string
  /** CNI_ARGS, raw. */
  cniArgs: string
}

const SCHEMA_MESSAGE = 'invalid host-local config'

function invalid (msg: string, details: string): CniError {
  return new CniError(ErrInvalidNetworkConfig, msg, details)
}

// --- the shape, once: the fast reader here and the zod schema (config-schema.ts) come from it ---

const rangeShape = s.object({
  subnet: s.optional(s.string()),
  rangeStart: s.optional(s.string()),
  rangeEnd: s.optional(s.string()),
  gateway: s.optional(s.string())
})

// Go decodes a null set as an empty one.
const rangeSetsShape = s.array(s.nullable(s.array(rangeShape)))

const routeShape = s.object({
  dst: s.string(),
  gw: s.optional(s.string()),
  mtu: s.optional(s.int()),
  advmss: s.optional(s.int()),
  priority: s.optional(s.int()),
  table: s.optional(s.int()),
  scope: s.optional(s.int())
})

const attachmentShape = s.object({ containerID: s.string(), ifname: s.string() })

export const ipamShape = s.object({
  type: s.optional(s.string()),
  // The legacy single range at the top of ipam.
  subnet: s.optional(s.string()),
  rangeStart: s.optional(s.string()),
  rangeEnd: s.optional(s.string()),
  gateway: s.optional(s.string()),
  ranges: s.optional(rangeSetsShape),
  routes: s.optional(s.array(routeShape)),
  dataDir: s.optional(s.string()),
  resolvConf: s.optional(s.string()),
  reclaimAfterReboot: s.optional(s.bool()),
  statusFailsWhenFull: s.optional(s.bool())
})

export const hostLocalShape = s.object({
  name: s.string(),
  cniVersion: s.optional(s.string()),
  ipam: s.optional(ipamShape),
  runtimeConfig: s.optional(s.object({
    ipRanges: s.optional(rangeSetsShape),
    ips: s.optional(s.array(s.string()))
  })),
  args: s.optional(s.object({
    cni: s.optional(s.object({
      ips: s.optional(s.array(s.string()))
    }))
  })),
  'cni.dev/valid-attachments': s.optional(s.array(attachmentShape)),
  'cni.dev/attachments': s.optional(s.array(attachmentShape))
})

/** A host-local network config as given (keys as described, nulls dropped). */
export type HostLocalNetConf = Infer<typeof hostLocalShape>
type RangeSets = NonNullable<Infer<typeof rangeSetsShape>>

function rangeSetSpecs (sets: RangeSets | undefined, path: string): Array<{ specs: RangeSpec[], path: string }> {
  return (sets ?? []).map((set, i) => {
    const p = `${path}[${i}]`
    return { specs: (set ?? []).map((r, j) => ({ ...r, path: `${p}[${j}]` })), path: p }
  })
}

/** pkg/ip.ParseIP: an address, or an address with a prefix (ignored). */
function parseRequested (text: string): IP | undefined {
  if (text.includes('/')) return parseCIDRText(text)?.ip
  return parseIPText(text)
}

// --- CNI_ARGS --------------------------------------------------------------

/**
 * CNI_ARGS as upstream's types.LoadArgs into IPAMEnvArgs (the CNI layer's
 * parser): `IP` (pkg/ip.IP, a prefix allowed and ignored) and IgnoreUnknown
 * known. Returns the `IP` address, if any. Errors are code 4 with upstream's
 * texts, details `CNI_ARGS`.
 */
export function parseIPAMArgs (cniArgs: string): IP | undefined {
  try {
    return parseCniArgs(cniArgs, {
      IP: (value: string): IP => {
        const ip = parseRequested(value)
        if (ip === undefined) throw new Error(`invalid IP address ${value}`)
        return ip
      }
    }).IP
  } catch (err) {
    if (err instanceof CniError) throw new CniError(err.code, err.msg, 'CNI_ARGS', { cause: err })
    throw err
  }
}

// --- loading ---------------------------------------------------------------

/**
 * The IPAM config of a network config (the whole stdin object), validated.
 * Throws CniError: 7 for config problems (details = the field), 4 for
 * CNI_ARGS, 1 for more than one set of a family with a pre-0.3.0 config.
 */
export async function loadIPAMConfig (config: JSONObject, options: LoadOptions): Promise<IPAMConfig> {
  try {
    return readIPAMConfig(config, options)
  } catch (err) {
    if (!(err instanceof ShapeMismatch)) throw err
    // Let the schema name every bad field; should it accept what the
    // fast reader refused, report the reader's finding.
    await validateWithSchema(config, () => import('./config-schema.js'), { msg: SCHEMA_MESSAGE })
    throw invalid(SCHEMA_MESSAGE, err.message)
  }
}

function readIPAMConfig (config: JSONObject, options: LoadOptions): IPAMConfig {
  const { name, cniVersion } = options
  if (!isSafePathComponent(name)) throw invalid('invalid characters found in network name', name)
  // Shape first (Go decodes the whole config before checking anything).
  const n = readShape(config, hostLocalShape)
  const ipam = n.ipam
  const validAttachments = n['cni.dev/valid-attachments']
  const legacyAttachments = n['cni.dev/attachments']
  const argIPTexts = n.args?.cni?.ips ?? []
  const runtimeIPTexts = n.runtimeConfig?.ips ?? []
  const runtimeSets = rangeSetSpecs(n.runtimeConfig?.ipRanges, 'runtimeConfig.ipRanges')
  const legacy: RangeSpec = ipam === undefined
    ? { path: 'ipam' }
    : { subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway, path: 'ipam' }
  const ipamSets = rangeSetSpecs(ipam?.ranges, 'ipam.ranges')
  const routes = ipam?.routes ?? []
  const dataDir = ipam?.dataDir
  const resolvConf = ipam?.resolvConf
  const reclaimAfterReboot = ipam?.reclaimAfterReboot
  const statusFailsWhenFull = ipam?.statusFailsWhenFull

  // Then the values, in upstream's order.
  if (ipam === undefined) throw invalid("IPAM config missing 'ipam' key", 'ipam')
  const requested = new Map<string, RequestedIP>()
  const envIP = parseIPAMArgs(options.cniArgs)
  if (envIP !== undefined) requested.set(formatIPText(envIP), { ip: envIP, source: 'CNI_ARGS' })
  for (const [texts, path] of [[argIPTexts, 'args.cni.ips'], [runtimeIPTexts, 'runtimeConfig.ips']] as const) {
    texts.forEach((text, i) => {
      const ip = parseRequested(text)
      if (ip === undefined) throw invalid(`invalid IP address ${text}`, `${path}[${i}]`)
      const key = formatIPText(ip)
      if (!requested.has(key)) requested.set(key, { ip, source: `${path}[${i}]` })
    })
  }

  const setSpecs = [...runtimeSets]
  if (legacy.subnet !== undefined) setSpecs.push({ specs: [legacy], path: 'ipam' })
  setSpecs.push(...ipamSets)
  if (setSpecs.length === 0) throw invalid('no IP ranges specified', 'ipam.ranges')

  const warnings: string[] = []
  // Upstream ignores them silently.
  if (legacy.subnet === undefined && (legacy.rangeStart !== undefined || legacy.rangeEnd !== undefined || legacy.gateway !== undefined)) {
    warnings.push('ipam: rangeStart, rangeEnd and gateway are ignored without ipam.subnet')
  }
  const rangeSets: RangeSet[] = []
  let v4 = 0
  let v6 = 0
  setSpecs.forEach(({ specs, path }, i) => {
    let set: RangeSet
    try {
      set = parseRangeSet(specs, path, warnings)
    } catch (err) {
      if (err instanceof InvalidRangeError) throw invalid(err.decoding ? err.message : `invalid range set ${i}: ${err.message}`, err.field)
      throw err
    }
    if (set.family === 4) v4++
    else v6++
    rangeSets.push(set)
  })
  // Pre-0.3.0 results hold one address per family.
  if ((v4 > 1 || v6 > 1) && !versionAtLeastSafe(cniVersion, '0.3.0')) {
    throw new CniError(ErrIncompatibleCNIVersion, `CNI version ${cniVersion} does not support more than 1 address per family`, 'ipam.ranges')
  }
  for (let i = 0; i < rangeSets.length - 1; i++) {
    for (let j = i + 1; j < rangeSets.length; j++) {
      if (rangeSets[i]!.overlaps(rangeSets[j]!)) throw invalid(`range set ${i} overlaps with ${j}`, setSpecs[j]!.path)
    }
  }

  const parsedRoutes = routes.map((r, i) => {
    try {
      return parseRoute(r, `ipam.routes[${i}]`)
    } catch (err) {
      throw invalid((err as Error).message, `ipam.routes[${i}]`)
    }
  })

  const conf: IPAMConfig = {
    name,
    cniVersion,
    rangeSets,
    rangeSetPaths: setSpecs.map(s => s.path),
    routes: parsedRoutes,
    dataDir: dataDir === undefined || dataDir === '' ? DEFAULT_DATA_DIR : dataDir,
    resolvConf: resolvConf === '' ? undefined : resolvConf,
    requestedIPs: [...requested.values()],
    gcAttachments: validAttachments === undefined && legacyAttachments === undefined
      ? undefined
      : [...(validAttachments ?? []), ...(legacyAttachments ?? [])],
    warnings,
    reclaimAfterReboot: reclaimAfterReboot ?? true,
    statusFailsWhenFull: statusFailsWhenFull ?? false
  }
  checkRequestedIPs(conf)
  return conf
}

function versionAtLeastSafe (a: string, b: string): boolean {
  try {
    return versionAtLeast(a, b)
  } catch {
    return false
  }
}

/**
 * Upstream finds out only while allocating (after other sets may already have
 * been allocated and released) that a requested address fits no set, is a
 * gateway, or shares its set with another requested address. All of that is
 * known from the config: report it before the store is touched, with
 * upstream's texts.
 */
function checkRequestedIPs (conf: IPAMConfig): void {
  const pending = new Map(conf.requestedIPs.map(r => [formatIPText(r.ip), r]))
  conf.rangeSets.forEach((set, i) => {
    for (const [key, req] of pending) {
      const r = set.rangeFor(req.ip)
      if (r === undefined) continue
      pending.delete(key)
      if (r.gateway.value === req.ip.value && r.gateway.family === req.ip.family) {
        throw invalid(`failed to allocate for range ${i}: requested ip ${key} is subnet's gateway`, req.source)
      }
      break
    }
  })
  if (pending.size > 0) {
    const left = [...pending.values()]
    throw invalid(`failed to allocate all requested IPs: ${[...pending.keys()].join(' ')}`, left.map(r => r.source).join(', '))
  }
}

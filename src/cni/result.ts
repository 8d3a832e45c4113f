// CNI results in the three shapes of the spec's history (0.1/0.2, 0.3/0.4,
// 1.0/1.1): parsing with the config's version, conversion between any two
// versions exactly as the Go library converts, and the byte layout Go prints.
import { canonicalCIDR, canonicalIP, isIPv4Text } from '../netlink/addr.js'
import { CURRENT_VERSION } from './version.js'
import { fieldCI, goQuote, isObject, jsonTypeName, marshalIndent, typedField, type JSONObject } from './json.js'

// ---- types -----------------------------------------------------------------

export interface DNS {
  nameservers?: string[]
  domain?: string
  search?: string[]
  options?: string[]
}

/** A route; mtu, advmss, priority, table and scope are spec 1.1 (the Go type carries them in every version). */
export interface Route {
  /** CIDR */
  dst: string
  gw?: string
  mtu?: number
  advmss?: number
  priority?: number
  table?: number
  scope?: number
}

/** 1.0/1.1 interface; mtu, socketPath and pciID are 1.1. */
export interface Interface {
  name: string
  mac?: string
  mtu?: number
  sandbox?: string
  socketPath?: string
  pciID?: string
}

/** 1.0/1.1 IP configuration. */
export interface IPConfig {
  /** Index into `interfaces`. */
  interface?: number
  /** CIDR: the address with its subnet's prefix length, e.g. "10.1.2.2/24". */
  address: string
  gateway?: string
}

/** A 1.0.0 or 1.1.0 result: the shape plugins work with. */
export interface Result {
  cniVersion: string
  interfaces?: Interface[]
  ips?: IPConfig[]
  routes?: Route[]
  dns?: DNS
}

export interface Interface040 {
  name: string
  mac?: string
  sandbox?: string
}

export interface IPConfig040 {
  /** "4" or "6", always printed. */
  version: string
  interface?: number
  address: string
  gateway?: string
}

/** A 0.3.0, 0.3.1 or 0.4.0 result. */
export interface Result040 {
  cniVersion: string
  interfaces?: Interface040[]
  ips?: IPConfig040[]
  routes?: Route[]
  dns?: DNS
}

export interface IPConfig020 {
  ip: string
  gateway?: string
  routes?: Route[]
}

/** A 0.1.0 or 0.2.0 result. */
export interface Result020 {
  cniVersion: string
  ip4?: IPConfig020
  ip6?: IPConfig020
  dns?: DNS
}

export type AnyResult = Result | Result040 | Result020

/** Which Go result type covers a version: '020' ("", 0.1.0, 0.2.0), '040' (0.3.x, 0.4.0), '100' (1.0.0, 1.1.0). */
export type ResultFamily = '020' | '040' | '100'

const FAMILY_VERSIONS: Record<ResultFamily, readonly string[]> = {
  '020': ['', '0.1.0', '0.2.0'],
  '040': ['0.3.0', '0.3.1', '0.4.0'],
  '100': ['1.0.0', '1.1.0']
}

export function resultFamily (version: string): ResultFamily | undefined {
  switch (version) {
    case '': case '0.1.0': case '0.2.0': return '020'
    case '0.3.0': case '0.3.1': case '0.4.0': return '040'
    case '1.0.0': case '1.1.0': return '100'
    default: return undefined
  }
}

export function isResult020 (r: AnyResult): r is Result020 { return resultFamily(r.cniVersion) === '020' }
export function isResult040 (r: AnyResult): r is Result040 { return resultFamily(r.cniVersion) === '040' }
export function isResult100 (r: AnyResult): r is Result { return resultFamily(r.cniVersion ?? CURRENT_VERSION) === '100' }

// ---- parsing ---------------------------------------------------------------

/** A result that does not parse: the text says which field and why. */
export class ResultParseError extends Error {
  override name = 'ResultParseError'
}

/**
 * Parses a result as Go's `create.Create(version, json)` does: the Go type is
 * chosen by `version` (the config's), the result's own cniVersion must belong
 * to that type (`result type supports [0.3.0 0.3.1 0.4.0] but unmarshalled
 * CNIVersion is "1.0.0"`); an unknown version → `unsupported CNI result version "x"`.
 * Addresses are validated and printed the Go way (`fd00:0::2/64` → `fd00::2/64`).
 * Keys match case-insensitively and unknown keys are ignored, as in Go.
 */
export function parseResult (raw: unknown, version: string): AnyResult {
  const family = resultFamily(version)
  if (family === undefined) throw new ResultParseError(`unsupported CNI result version ${goQuote(version)}`)
  if (!isObject(raw)) throw new ResultParseError(`cannot parse a result from ${jsonTypeName(raw)}: expected an object`)
  const v = optString(raw, 'cniVersion', 'cniVersion') ?? ''
  if (!FAMILY_VERSIONS[family].includes(v)) {
    throw new ResultParseError(`result type supports [${FAMILY_VERSIONS[family].join(' ')}] but unmarshalled CNIVersion is ${goQuote(v)}`)
  }
  const dns = parseDNS(fieldCI(raw, 'dns'))
  if (family === '020') {
    const r: Result020 = { cniVersion: v === '' ? '0.1.0' : v }
    const ip4 = fieldCI(raw, 'ip4')
    if (ip4 !== undefined) r.ip4 = parseIPConfig020(ip4, 'ip4')
    const ip6 = fieldCI(raw, 'ip6')
    if (ip6 !== undefined) r.ip6 = parseIPConfig020(ip6, 'ip6')
    if (dns !== undefined) r.dns = dns
    return r
  }
  const r: Result | Result040 = { cniVersion: v }
  const interfaces = optArray(raw, 'interfaces', 'interfaces')
  if (interfaces !== undefined && interfaces.length > 0) {
    r.interfaces = interfaces.map((x, i) => parseInterface(x, `interfaces[${i}]`, family === '100'))
  }
  const ips = optArray(raw, 'ips', 'ips')
  if (ips !== undefined && ips.length > 0) {
    r.ips = ips.map((x, i) => parseIPConfig(x, `ips[${i}]`, family === '040')) as IPConfig[] | IPConfig040[]
  }
  const routes = optArray(raw, 'routes', 'routes')
  if (routes !== undefined && routes.length > 0) r.routes = routes.map((x, i) => parseRoute(x, `routes[${i}]`))
  if (dns !== undefined) r.dns = dns
  return r
}

/**
 * A config's prevResult, as the Go library's ParsePrevResult: a missing (or
 * empty) cniVersion becomes the config's, then it is parsed with the config's
 * version and converted to 1.1.0 for the plugin.
 */
export function parsePrevResult (raw: unknown, configVersion: string): Result {
  if (isObject(raw)) {
    const v = fieldCI(raw, 'cniVersion')
    if (v === undefined || v === '') raw = { ...raw, cniVersion: configVersion }
  }
  return toResult(parseResult(raw, configVersion))
}

function optString (o: JSONObject, key: string, path: string): string | undefined {
  return typedField(o, key, 'string', v => new ResultParseError(`${path}: expected a string, got ${jsonTypeName(v)}`))
}

function optInt (o: JSONObject, key: string, path: string): number | undefined {
  return typedField(o, key, 'int', v => new ResultParseError(`${path}: expected an integer, got ${typeof v === 'number' ? String(v) : jsonTypeName(v)}`))
}

function optArray (o: JSONObject, key: string, path: string): unknown[] | undefined {
  return typedField(o, key, 'array', v => new ResultParseError(`${path}: expected an array, got ${jsonTypeName(v)}`))
}

function optStringArray (o: JSONObject, key: string, path: string): string[] | undefined {
  const a = optArray(o, key, path)
  if (a === undefined || a.length === 0) return undefined
  return a.map((x, i) => {
    if (typeof x !== 'string') throw new ResultParseError(`${path}[${i}]: expected a string, got ${jsonTypeName(x)}`)
    return x
  })
}

function object (v: unknown, path: string): JSONObject {
  if (!isObject(v)) throw new ResultParseError(`${path}: expected an object, got ${jsonTypeName(v)}`)
  return v
}

function parseDNS (v: unknown): DNS | undefined {
  if (v === undefined) return undefined
  const o = object(v, 'dns')
  const dns: DNS = {}
  const nameservers = optStringArray(o, 'nameservers', 'dns.nameservers')
  if (nameservers !== undefined) dns.nameservers = nameservers
  const domain = optString(o, 'domain', 'dns.domain')
  if (domain !== undefined && domain !== '') dns.domain = domain
  const search = optStringArray(o, 'search', 'dns.search')
  if (search !== undefined) dns.search = search
  const options = optStringArray(o, 'options', 'dns.options')
  if (options !== undefined) dns.options = options
  return isEmptyDNS(dns) ? undefined : dns
}

function isEmptyDNS (d: DNS): boolean {
  return d.nameservers === undefined && d.domain === undefined && d.search === undefined && d.options === undefined
}

function parseInterface (v: unknown, path: string, v1: boolean): Interface {
  const o = object(v, path)
  const intf: Interface = { name: optString(o, 'name', `${path}.name`) ?? '' }
  const mac = optString(o, 'mac', `${path}.mac`)
  if (mac !== undefined && mac !== '') intf.mac = mac
  if (v1) {
    const mtu = optInt(o, 'mtu', `${path}.mtu`)
    if (mtu !== undefined && mtu !== 0) intf.mtu = mtu
  }
  const sandbox = optString(o, 'sandbox', `${path}.sandbox`)
  if (sandbox !== undefined && sandbox !== '') intf.sandbox = sandbox
  if (v1) {
    const socketPath = optString(o, 'socketPath', `${path}.socketPath`)
    if (socketPath !== undefined && socketPath !== '') intf.socketPath = socketPath
    const pciID = optString(o, 'pciID', `${path}.pciID`)
    if (pciID !== undefined && pciID !== '') intf.pciID = pciID
  }
  return intf
}

function parseIPConfig (v: unknown, path: string, withVersion: boolean): IPConfig | IPConfig040 {
  const o = object(v, path)
  const out: Partial<IPConfig040> = {}
  if (withVersion) out.version = optString(o, 'version', `${path}.version`) ?? ''
  const index = optInt(o, 'interface', `${path}.interface`)
  if (index !== undefined) out.interface = index
  out.address = parseCIDRText(fieldCI(o, 'address'), `${path}.address`)
  const gw = optIP(o, 'gateway', `${path}.gateway`)
  if (gw !== undefined) out.gateway = gw
  return out as IPConfig040
}

function parseIPConfig020 (v: unknown, path: string): IPConfig020 {
  const o = object(v, path)
  const out: IPConfig020 = { ip: parseCIDRText(fieldCI(o, 'ip'), `${path}.ip`) }
  const gw = optIP(o, 'gateway', `${path}.gateway`)
  if (gw !== undefined) out.gateway = gw
  const routes = optArray(o, 'routes', `${path}.routes`)
  if (routes !== undefined && routes.length > 0) out.routes = routes.map((x, i) => parseRoute(x, `${path}.routes[${i}]`))
  return out
}

/** A route in any version (the Go type is shared). */
export function parseRoute (v: unknown, path = 'route'): Route {
  const o = object(v, path)
  const r: Route = { dst: parseCIDRText(fieldCI(o, 'dst'), `${path}.dst`) }
  const gw = optIP(o, 'gw', `${path}.gw`)
  if (gw !== undefined) r.gw = gw
  const mtu = optInt(o, 'mtu', `${path}.mtu`)
  if (mtu !== undefined && mtu !== 0) r.mtu = mtu
  const advmss = optInt(o, 'advmss', `${path}.advmss`)
  if (advmss !== undefined && advmss !== 0) r.advmss = advmss
  const priority = optInt(o, 'priority', `${path}.priority`)
  if (priority !== undefined && priority !== 0) r.priority = priority
  const table = optInt(o, 'table', `${path}.table`)
  if (table !== undefined) r.table = table
  const scope = optInt(o, 'scope', `${path}.scope`)
  if (scope !== undefined) r.scope = scope
  return r
}

function optIP (o: JSONObject, key: string, path: string): string | undefined {
  const v = optString(o, key, path)
  if (v === undefined || v === '') return undefined
  const ip = canonicalIP(v)
  if (ip === undefined) throw new ResultParseError(`${path}: invalid IP address: ${v}`)
  return ip
}

function parseCIDRText (v: unknown, path: string): string {
  if (v === undefined) throw new ResultParseError(`${path}: missing`)
  if (typeof v !== 'string') throw new ResultParseError(`${path}: expected a CIDR string, got ${jsonTypeName(v)}`)
  const c = canonicalCIDR(v)
  if (c === undefined) throw new ResultParseError(`${path}: invalid CIDR address: ${v}`)
  return c
}

/** "4" when the address (CIDR or bare, IPv4-mapped included) is IPv4, else "6" (Go's `IP.To4() != nil`). */
export function ipVersionOf (address: string): '4' | '6' {
  return isIPv4Text(address) ? '4' : '6'
}

// ---- conversion ------------------------------------------------------------

/**
 * Converts to `toVersion` ("" = 0.1.0) along the Go library's converters:
 * the same version is returned as is; 0.x → 1.x goes through 0.4.0; 1.x →
 * 0.3/0.4 sets `version` from the address; → 0.1/0.2 keeps the first IP of
 * each family (by `version`) and the routes of families that have one, and
 * fails with `cannot convert: no valid IP addresses` without any IP. A result
 * without cniVersion is taken as 1.1.0 (what our plugins build).
 */
export function convertResult (from: AnyResult, toVersion: string): AnyResult {
  const to = toVersion === '' ? '0.1.0' : toVersion
  const fromVersion = from.cniVersion === undefined || from.cniVersion === '' ? CURRENT_VERSION : from.cniVersion
  if (fromVersion === to) return from.cniVersion === fromVersion ? from : { ...from, cniVersion: to }
  const f = resultFamily(fromVersion)
  const t = resultFamily(to)
  const noConverter = (): Error => new Error(`no converter for CNI result version ${fromVersion} to ${to}`)
  if (f === undefined || t === undefined || to === '') throw noConverter()
  if (f === '020') {
    const r = from as Result020
    if (t === '020') return copy020(r, to)
    const r040 = from020To040(r, t === '040' ? to : '0.4.0')
    return t === '040' ? r040 : from040To100(r040, to)
  }
  if (f === '040') {
    const r = from as Result040
    if (t === '040') return copy040(r, to)
    if (t === '020') return from040To020(r, to)
    return from040To100(r, to)
  }
  const r = from as Result
  if (t === '100') return copy100(r, to)
  const r040 = from100To040(r, t === '040' ? to : '0.4.0')
  return t === '040' ? r040 : from040To020(r040, to)
}

/** Any result as a 1.1.0 result (never fails for a valid result). */
export function toResult (from: AnyResult): Result {
  return convertResult(from, CURRENT_VERSION) as Result
}

function copyDNS (d: DNS | undefined): DNS | undefined {
  if (d === undefined) return undefined
  const out: DNS = {}
  if (d.nameservers !== undefined && d.nameservers.length > 0) out.nameservers = [...d.nameservers]
  if (d.domain !== undefined && d.domain !== '') out.domain = d.domain
  if (d.search !== undefined && d.search.length > 0) out.search = [...d.search]
  if (d.options !== undefined && d.options.length > 0) out.options = [...d.options]
  return isEmptyDNS(out) ? undefined : out
}

function withDNS<T extends { dns?: DNS }> (r: T, d: DNS | undefined): T {
  const dns = copyDNS(d)
  if (dns !== undefined) r.dns = dns
  return r
}

function copyRoute (r: Route): Route { return { ...r } }
function copyRoutes (rs: Route[] | undefined): Route[] | undefined {
  return rs === undefined || rs.length === 0 ? undefined : rs.map(copyRoute)
}

function setIf<T extends object, K extends keyof T> (o: T, k: K, v: T[K] | undefined): void {
  if (v !== undefined) o[k] = v
}

function copy020 (r: Result020, to: string): Result020 {
  const out: Result020 = { cniVersion: to }
  if (r.ip4 !== undefined) out.ip4 = copyIP020(r.ip4)
  if (r.ip6 !== undefined) out.ip6 = copyIP020(r.ip6)
  return withDNS(out, r.dns)
}

function copyIP020 (c: IPConfig020): IPConfig020 {
  const out: IPConfig020 = { ip: c.ip }
  setIf(out, 'gateway', c.gateway)
  setIf(out, 'routes', copyRoutes(c.routes))
  return out
}

function copy040 (r: Result040, to: string): Result040 {
  const out: Result040 = { cniVersion: to }
  if (r.interfaces !== undefined && r.interfaces.length > 0) out.interfaces = r.interfaces.map(i => ({ ...i }))
  if (r.ips !== undefined && r.ips.length > 0) out.ips = r.ips.map(ip => ({ ...ip }))
  setIf(out, 'routes', copyRoutes(r.routes))
  return withDNS(out, r.dns)
}

function copy100 (r: Result, to: string): Result {
  const out: Result = { cniVersion: to }
  if (r.interfaces !== undefined && r.interfaces.length > 0) out.interfaces = r.interfaces.map(i => ({ ...i }))
  if (r.ips !== undefined && r.ips.length > 0) out.ips = r.ips.map(ip => ({ ...ip }))
  setIf(out, 'routes', copyRoutes(r.routes))
  return withDNS(out, r.dns)
}

function from020To040 (r: Result020, to: string): Result040 {
  const out: Result040 = { cniVersion: to }
  const ips: IPConfig040[] = []
  const routes: Route[] = []
  for (const [c, version] of [[r.ip4, '4'], [r.ip6, '6']] as const) {
    if (c === undefined) continue
    const ip: IPConfig040 = { version, address: c.ip }
    setIf(ip, 'gateway', c.gateway)
    ips.push(ip)
    if (c.routes !== undefined) for (const rt of c.routes) routes.push(copyRoute(rt))
  }
  if (ips.length > 0) out.ips = ips
  if (routes.length > 0) out.routes = routes
  return withDNS(out, r.dns)
}

function from040To020 (r: Result040, to: string): Result020 {
  const out: Result020 = { cniVersion: to }
  for (const ip of r.ips ?? []) {
    // Only the first address of each family: 0.2.0 cannot carry more.
    if (ip.version === '4' && out.ip4 === undefined) {
      out.ip4 = { ip: ip.address }
      setIf(out.ip4, 'gateway', ip.gateway)
    } else if (ip.version === '6' && out.ip6 === undefined) {
      out.ip6 = { ip: ip.address }
      setIf(out.ip6, 'gateway', ip.gateway)
    }
    if (out.ip4 !== undefined && out.ip6 !== undefined) break
  }
  for (const rt of r.routes ?? []) {
    const target = ipVersionOf(rt.dst) === '4' ? out.ip4 : out.ip6
    if (target === undefined) continue
    const route: Route = { dst: rt.dst }
    setIf(route, 'gw', rt.gw)
    ;(target.routes ??= []).push(route)
  }
  if (out.ip4 === undefined && out.ip6 === undefined) throw new Error('cannot convert: no valid IP addresses')
  return withDNS(out, r.dns)
}

/** The fields every result version since 0.3.0 gives an interface: name, mac, sandbox. */
function commonInterface (i: Interface040): Interface040 {
  const x: Interface040 = { name: i.name }
  setIf(x, 'mac', i.mac)
  setIf(x, 'sandbox', i.sandbox)
  return x
}

function from040To100 (r: Result040, to: string): Result {
  const out: Result = { cniVersion: to }
  if (r.interfaces !== undefined && r.interfaces.length > 0) {
    out.interfaces = r.interfaces.map(commonInterface)
  }
  if (r.ips !== undefined && r.ips.length > 0) {
    out.ips = r.ips.map(ip => {
      const x: IPConfig = { address: ip.address }
      setIf(x, 'interface', ip.interface)
      setIf(x, 'gateway', ip.gateway)
      return x
    })
  }
  setIf(out, 'routes', copyRoutes(r.routes))
  return withDNS(out, r.dns)
}

function from100To040 (r: Result, to: string): Result040 {
  const out: Result040 = { cniVersion: to }
  if (r.interfaces !== undefined && r.interfaces.length > 0) {
    // mtu, socketPath and pciID do not exist before 1.1.
    out.interfaces = r.interfaces.map(commonInterface)
  }
  if (r.ips !== undefined && r.ips.length > 0) {
    out.ips = r.ips.map(ip => {
      const x: IPConfig040 = { version: ipVersionOf(ip.address), address: ip.address }
      setIf(x, 'interface', ip.interface)
      setIf(x, 'gateway', ip.gateway)
      return x
    })
  }
  setIf(out, 'routes', copyRoutes(r.routes))
  return withDNS(out, r.dns)
}

// ---- output ----------------------------------------------------------------

/**
 * The result as the Go plugins print it: json.MarshalIndent with 4 spaces,
 * no trailing newline. 1.x: keys sorted at every level and an empty dns
 * omitted (plugins >= 1.6.0). 0.3/0.4 and 0.1/0.2: Go struct order with
 * `"dns": {}` always present. Empty lists and unset optional fields are omitted.
 */
export function formatResult (r: AnyResult): string {
  return marshalIndent(resultToJSON(r))
}

/** The plain JSON object formatResult prints (keys in the printed order). */
export function resultToJSON (r: AnyResult): JSONObject {
  const version = r.cniVersion ?? ''
  const family = resultFamily(version) ?? '100'
  if (family === '020') {
    const x = r as Result020
    const out: JSONObject = {}
    if (version !== '') out.cniVersion = version
    if (x.ip4 !== undefined) out.ip4 = ip020JSON(x.ip4)
    if (x.ip6 !== undefined) out.ip6 = ip020JSON(x.ip6)
    out.dns = dnsJSON(x.dns)
    return out
  }
  if (family === '040') {
    const x = r as Result040
    const out: JSONObject = {}
    if (version !== '') out.cniVersion = version
    if (x.interfaces !== undefined && x.interfaces.length > 0) {
      out.interfaces = x.interfaces.map(i => omitEmpty({ name: i.name ?? '', mac: i.mac, sandbox: i.sandbox }, 'name'))
    }
    if (x.ips !== undefined && x.ips.length > 0) {
      out.ips = x.ips.map(ip => omitEmpty({ version: ip.version ?? '', interface: ip.interface, address: ip.address, gateway: ip.gateway }, 'version', 'address'))
    }
    if (x.routes !== undefined && x.routes.length > 0) out.routes = x.routes.map(routeJSON)
    out.dns = dnsJSON(x.dns)
    return out
  }
  const x = r as Result
  const out: JSONObject = {}
  if (version !== '') out.cniVersion = version
  const dns = dnsJSON(x.dns)
  if (Object.keys(dns).length > 0) out.dns = dns
  if (x.interfaces !== undefined && x.interfaces.length > 0) {
    out.interfaces = x.interfaces.map(i => omitEmpty({ name: i.name ?? '', mac: i.mac, mtu: i.mtu === 0 ? undefined : i.mtu, sandbox: i.sandbox, socketPath: i.socketPath, pciID: i.pciID }, 'name'))
  }
  if (x.ips !== undefined && x.ips.length > 0) {
    out.ips = x.ips.map(ip => omitEmpty({ interface: ip.interface, address: ip.address, gateway: ip.gateway }, 'address'))
  }
  if (x.routes !== undefined && x.routes.length > 0) out.routes = x.routes.map(routeJSON)
  return sortKeysDeep(out) as JSONObject
}

function ip020JSON (c: IPConfig020): JSONObject {
  const out: JSONObject = { ip: c.ip }
  if (c.gateway !== undefined && c.gateway !== '') out.gateway = c.gateway
  if (c.routes !== undefined && c.routes.length > 0) out.routes = c.routes.map(routeJSON)
  return out
}

// Go's route struct order; mtu/advmss/priority are omitempty ints, table/scope pointers.
function routeJSON (r: Route): JSONObject {
  const out: JSONObject = { dst: r.dst }
  if (r.gw !== undefined && r.gw !== '') out.gw = r.gw
  if (r.mtu !== undefined && r.mtu !== 0) out.mtu = r.mtu
  if (r.advmss !== undefined && r.advmss !== 0) out.advmss = r.advmss
  if (r.priority !== undefined && r.priority !== 0) out.priority = r.priority
  if (r.table !== undefined) out.table = r.table
  if (r.scope !== undefined) out.scope = r.scope
  return out
}

function dnsJSON (d: DNS | undefined): JSONObject {
  const out: JSONObject = {}
  if (d === undefined) return out
  if (d.nameservers !== undefined && d.nameservers.length > 0) out.nameservers = d.nameservers
  if (d.domain !== undefined && d.domain !== '') out.domain = d.domain
  if (d.search !== undefined && d.search.length > 0) out.search = d.search
  if (d.options !== undefined && d.options.length > 0) out.options = d.options
  return out
}

/** Drops undefined and "" fields except the ones Go always prints. */
function omitEmpty (o: JSONObject, ...always: string[]): JSONObject {
  const out: JSONObject = {}
  for (const k in o) {
    const v = o[k]
    if (always.includes(k)) out[k] = v ?? ''
    else if (v !== undefined && v !== '') out[k] = v
  }
  return out
}

function sortKeysDeep (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep)
  if (!isObject(v)) return v
  const out: JSONObject = {}
  for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep(v[k])
  return out
}

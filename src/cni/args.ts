// Per-invocation arguments: CNI_ARGS ("K=V;K=V", lib types.LoadArgs) and the
// config's `args.cni` and `runtimeConfig` (capabilities) sections.
import { CniError, ErrInvalidEnvironmentVariables, ErrInvalidNetworkConfig } from './errors.js'
import { goQuote, goQuoteList, isObject, jsonTypeName, typedField, type JSONObject } from './json.js'
import { canonicalIP } from '../netlink/addr.js'

/** Turns one CNI_ARGS value into a typed one; throws an Error whose message explains (Go's UnmarshalText). */
export type ArgParser<T> = (value: string) => T

/** The keys a plugin knows (case-sensitive, Go field names) and how to read each. */
export type ArgsSpec = Record<string, ArgParser<unknown>>

export type ParsedArgs<S extends ArgsSpec> = { [K in keyof S]?: ReturnType<S[K]> } & { IgnoreUnknown?: boolean }

/** Value readers matching the Go types the plugins use. */
export const argParsers = {
  /** types.UnmarshallableString: anything. */
  string: (value: string): string => value,
  /** types.UnmarshallableBool: 1/true/0/false in any case. */
  bool: (value: string): boolean => {
    const s = value.toLowerCase()
    if (s === '1' || s === 'true') return true
    if (s === '0' || s === 'false') return false
    throw new Error(`boolean unmarshal error: invalid input ${s}`)
  },
  /** net.IP: an address in Go's text form; "" is no address. */
  ip: (value: string): string | undefined => {
    if (value === '') return undefined
    const ip = canonicalIP(value)
    if (ip === undefined) throw new Error(`invalid IP address: ${value}`)
    return ip
  }
} as const

/**
 * Parses CNI_ARGS as the Go library does: "" → nothing; split on ';', each
 * pair on '=' into exactly two parts (else `ARGS: invalid pair "<pair>"`, so a
 * trailing ';' or a value holding '=' fails); keys are case-sensitive; a
 * known key's value goes through its parser (`ARGS: error parsing value of
 * pair "K=V": <why>`); unknown pairs fail together (`ARGS: unknown args
 * ["A=1" "B=2"]`) unless IgnoreUnknown ends up true (its last value counts).
 * Errors are CniError code 4 (the Go plugins use 999); msg is Go's text.
 */
export function parseCniArgs<S extends ArgsSpec> (raw: string, spec: S): ParsedArgs<S> {
  const out: Record<string, unknown> = {}
  if (raw === '') return out as ParsedArgs<S>
  const unknown: string[] = []
  let ignoreUnknown = false
  for (const pair of raw.split(';')) {
    const kv = pair.split('=')
    if (kv.length !== 2) throw argsError(`ARGS: invalid pair ${goQuote(pair)}`)
    const [key, value] = kv as [string, string]
    const parser = key === 'IgnoreUnknown' ? argParsers.bool : Object.hasOwn(spec, key) ? spec[key] : undefined
    if (parser === undefined) {
      unknown.push(pair)
      continue
    }
    let parsed: unknown
    try {
      parsed = parser(value)
    } catch (err) {
      throw argsError(`ARGS: error parsing value of pair ${goQuote(pair)}: ${(err as Error).message}`)
    }
    if (key === 'IgnoreUnknown') ignoreUnknown = parsed as boolean
    out[key] = parsed
  }
  if (unknown.length > 0 && !ignoreUnknown) throw argsError(`ARGS: unknown args ${goQuoteList(unknown)}`)
  return out as ParsedArgs<S>
}

function argsError (msg: string): CniError {
  return new CniError(ErrInvalidEnvironmentVariables, msg)
}

// ---- args.cni and runtimeConfig -------------------------------------------

/** The config's `runtimeConfig` object (capabilities the runtime filled in), or undefined. */
export function runtimeConfig (config: JSONObject): JSONObject | undefined {
  return section(config, 'runtimeConfig', 'runtimeConfig')
}

/** The config's `args.cni` object, or undefined. */
export function argsCni (config: JSONObject): JSONObject | undefined {
  const args = section(config, 'args', 'args')
  return args === undefined ? undefined : section(args, 'cni', 'args.cni')
}

/** `runtimeConfig.ips` (capability "ips"): requested addresses, "ip" or "ip/len". */
export function capabilityIPs (config: JSONObject): string[] | undefined {
  const rc = runtimeConfig(config)
  return rc === undefined ? undefined : stringList(rc, 'ips', 'runtimeConfig.ips')
}

/** `runtimeConfig.mac` (capability "mac"). */
export function capabilityMAC (config: JSONObject): string | undefined {
  const rc = runtimeConfig(config)
  return rc === undefined ? undefined : optString(rc, 'mac', 'runtimeConfig.mac')
}

/** `runtimeConfig.ipRanges` (capability "ipRanges"): range sets as given (the IPAM plugin validates them). */
export function capabilityIPRanges (config: JSONObject): unknown[] | undefined {
  const rc = runtimeConfig(config)
  if (rc === undefined) return undefined
  return typedField(rc, 'ipRanges', 'array', v => wrongType('runtimeConfig.ipRanges', 'an array of range sets', v))
}

/** `args.cni.ips`. */
export function argsCniIPs (config: JSONObject): string[] | undefined {
  const a = argsCni(config)
  return a === undefined ? undefined : stringList(a, 'ips', 'args.cni.ips')
}

/** `args.cni.mac`. */
export function argsCniMAC (config: JSONObject): string | undefined {
  const a = argsCni(config)
  return a === undefined ? undefined : optString(a, 'mac', 'args.cni.mac')
}

function section (o: JSONObject, key: string, path: string): JSONObject | undefined {
  return typedField(o, key, 'object', v => wrongType(path, 'an object', v))
}

/** A string option; "" is no value (upstream tests `!= ""`). */
function optString (o: JSONObject, key: string, path: string): string | undefined {
  const v = typedField(o, key, 'string', got => wrongType(path, 'a string', got))
  return v === '' ? undefined : v
}

function stringList (o: JSONObject, key: string, path: string): string[] | undefined {
  return typedField(o, key, 'strings', v => wrongType(path, 'an array of strings', v))
}

function wrongType (path: string, expected: string, got: unknown): CniError {
  return new CniError(ErrInvalidNetworkConfig, 'invalid network config', `${path}: expected ${expected}, got ${jsonTypeName(got)}`)
}

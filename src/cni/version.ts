// CNI spec versions: the supported list, parsing and comparison as the Go
// library's pkg/version does, and the per-command gating of the skel.
import { CniError, ErrDecodingFailure, ErrIncompatibleCNIVersion } from './errors.js'
import { goQuote, goQuoteList } from './json.js'

/** Every version this implementation speaks, oldest first (lib `version.All`). */
export const SUPPORTED_VERSIONS: readonly string[] = Object.freeze(['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])
/** The spec version we implement (reported by VERSION, used for new results). */
export const CURRENT_VERSION = '1.1.0'
/** A config without cniVersion (or with "") is this version. */
export const DEFAULT_CONFIG_VERSION = '0.1.0'

export type ParsedVersion = readonly [major: number, minor: number, micro: number]

/**
 * "1.0.0" → [1, 0, 0]. "" is 0.1.0; missing parts are 0 ("1" = 1.0.0).
 * Errors carry the Go texts (`failed to convert minor version part "x": …`).
 */
export function parseVersion (version: string): ParsedVersion {
  if (version === '') return [0, 1, 0]
  const parts = version.split('.')
  if (parts.length >= 4) throw new Error(`invalid version ${goQuote(version)}: too many parts`)
  const names = ['major', 'minor', 'micro']
  const out = [0, 0, 0]
  for (let i = 0; i < parts.length; i++) {
    const n = atoi(parts[i]!)
    if (n === undefined) {
      throw new Error(`failed to convert ${names[i]!} version part ${goQuote(parts[i]!)}: strconv.Atoi: parsing ${goQuote(parts[i]!)}: invalid syntax`)
    }
    out[i] = n
  }
  return [out[0]!, out[1]!, out[2]!]
}

// Go's strconv.Atoi: optional sign, decimal digits only.
function atoi (s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined
  return Number(s)
}

/** <0, 0, >0 as a is older than, equal to, newer than b. Throws on unparsable versions. */
export function compareVersions (a: string, b: string): number {
  const x = parseVersion(a)
  const y = parseVersion(b)
  return (x[0] - y[0]) || (x[1] - y[1]) || (x[2] - y[2])
}

/** a >= b (lib `version.GreaterThanOrEqualTo`). */
export function versionAtLeast (a: string, b: string): boolean {
  return compareVersions(a, b) >= 0
}

/**
 * The skel's reconcile step: exact string match with the supported list,
 * else code 1 `incompatible CNI versions` with the Go details text.
 */
export function checkVersionSupported (configVersion: string, supported: readonly string[] = SUPPORTED_VERSIONS): void {
  if (supported.includes(configVersion)) return
  throw new CniError(ErrIncompatibleCNIVersion, 'incompatible CNI versions',
    `config is ${goQuote(configVersion)}, plugin supports ${goQuoteList(supported)}`)
}

/** The oldest config version each command exists in; ADD and DEL exist in all. */
const MIN_VERSION: Record<string, string> = { CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' }

/**
 * Gating of CHECK (>= 0.4.0), GC and STATUS (>= 1.1.0) as the Go skel does
 * it, before the reconcile: an unparsable version → 6, too old a config →
 * 1 `config version does not allow X`, no supported version at least as new
 * → 1 `plugin version does not allow X`. Other commands pass.
 */
export function checkCommandAllowed (command: string, configVersion: string, supported: readonly string[] = SUPPORTED_VERSIONS): void {
  const min = MIN_VERSION[command]
  if (min === undefined) return
  let ok: boolean
  try {
    ok = versionAtLeast(configVersion, min)
  } catch (err) {
    throw new CniError(ErrDecodingFailure, (err as Error).message)
  }
  if (!ok) throw new CniError(ErrIncompatibleCNIVersion, `config version does not allow ${command}`)
  for (const v of supported) {
    let newer: boolean
    try {
      newer = versionAtLeast(v, configVersion)
    } catch (err) {
      throw new CniError(ErrDecodingFailure, (err as Error).message)
    }
    if (newer) return
  }
  throw new CniError(ErrIncompatibleCNIVersion, `plugin version does not allow ${command}`)
}

/** The VERSION command's stdout: compact JSON and a newline (Go's json.Encoder). */
export function versionOutput (supported: readonly string[] = SUPPORTED_VERSIONS): string {
  return JSON.stringify({ cniVersion: CURRENT_VERSION, supportedVersions: supported }) + '\n'
}

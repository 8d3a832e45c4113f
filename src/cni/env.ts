// The CNI_* environment of a plugin invocation: which variables each command
// needs and how they are validated, with the Go skel's messages and order.
import { CniError, ErrInvalidEnvironmentVariables } from './errors.js'

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS'
export const CNI_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS']

export interface CniEnv {
  /** As given; may be a command we do not know (the skel rejects it after reading the config, as Go does). */
  command: string
  containerId: string
  /** "" when absent (allowed for DEL, GC, STATUS). */
  netns: string
  ifname: string
  /** CNI_ARGS, raw. */
  args: string
  /** CNI_PATH, raw. */
  path: string
  /** CNI_PATH split on ':' without empty entries. */
  paths: string[]
  /** CNI_NETNS_OVERRIDE is "1" or "true" (any case): skip the own-netns check. */
  netnsOverride: boolean
}

/**
 * Which variables each command requires, in the official order (the order
 * of the "missing" list). Differences from the Go skel, where the spec is
 * more lenient: DEL and STATUS do not need CNI_PATH (a DEL without it can
 * still clean up; a plugin that must find an IPAM binary fails later, in
 * delegation). As in Go, DEL does not need CNI_NETNS.
 */
const VARIABLES: ReadonlyArray<{ name: string, requiredFor: readonly string[], validate?: (v: string) => void }> = [
  { name: 'CNI_COMMAND', requiredFor: CNI_COMMANDS },
  { name: 'CNI_CONTAINERID', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateContainerId },
  { name: 'CNI_NETNS', requiredFor: ['ADD', 'CHECK'] },
  { name: 'CNI_IFNAME', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateInterfaceName },
  { name: 'CNI_ARGS', requiredFor: [] },
  { name: 'CNI_PATH', requiredFor: ['ADD', 'CHECK', 'GC'] },
  { name: 'CNI_NETNS_OVERRIDE', requiredFor: [] }
]

/**
 * Reads and checks the CNI_* variables. Missing required ones give ONE
 * code-4 error listing all of them (`required env variables
 * [CNI_CONTAINERID,CNI_IFNAME] missing`); CNI_COMMAND itself is always
 * required. A required variable that is set is validated in table order,
 * the first invalid one failing at once (containerID, then ifname).
 */
export function readCniEnv (env: NodeJS.ProcessEnv): CniEnv {
  const command = env.CNI_COMMAND ?? ''
  const missing: string[] = []
  for (const v of VARIABLES) {
    const value = env[v.name] ?? ''
    const required = v.requiredFor.includes(command) || v.name === 'CNI_COMMAND'
    if (value === '') {
      if (required) missing.push(v.name)
    } else if (required && v.validate !== undefined) {
      v.validate(value)
    }
  }
  if (missing.length > 0) {
    throw new CniError(ErrInvalidEnvironmentVariables, `required env variables [${missing.join(',')}] missing`)
  }
  const path = env.CNI_PATH ?? ''
  const override = env.CNI_NETNS_OVERRIDE ?? ''
  return {
    command,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
    args: env.CNI_ARGS ?? '',
    path,
    paths: splitPath(path),
    netnsOverride: override === '1' || override.toUpperCase() === 'TRUE'
  }
}

/** CNI_PATH entries; empty ones are dropped. */
export function splitPath (path: string): string[] {
  return path === '' ? [] : path.split(':').filter(p => p !== '')
}

/** The name rule of container IDs and network names (lib `cniValidNameChars`). */
export const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

export function validateContainerId (id: string): void {
  if (!VALID_NAME.test(id)) throw new CniError(ErrInvalidEnvironmentVariables, 'invalid characters in containerID', id)
}

/** IFNAMSIZ - 1. */
export const MAX_INTERFACE_NAME_LENGTH = 15
// Go's unicode.IsSpace, plus '/' and ':'.
const BAD_IFNAME_CHAR = /[/:\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/

/** The kernel's dev_valid_name rules, with the Go library's messages (all code 4). */
export function validateInterfaceName (name: string): void {
  if (name.length === 0) throw new CniError(ErrInvalidEnvironmentVariables, 'interface name is empty')
  if (Buffer.byteLength(name) > MAX_INTERFACE_NAME_LENGTH) {
    throw new CniError(ErrInvalidEnvironmentVariables, 'interface name is too long',
      `interface name should be less than ${MAX_INTERFACE_NAME_LENGTH + 1} characters`)
  }
  if (name === '.' || name === '..') throw new CniError(ErrInvalidEnvironmentVariables, 'interface name is . or ..')
  if (BAD_IFNAME_CHAR.test(name)) {
    throw new CniError(ErrInvalidEnvironmentVariables, 'interface name contains / or : or whitespace characters')
  }
}

// The bridge plugin's options (official names and defaults), read from the
// network config the way Go's encoding/json reads them: keys match
// case-insensitively (the last match wins), null leaves the default, unknown
// keys are ignored.
//
// The shape is written once (bridgeShape): the fast reader here reads it
// without zod (readShape, src/cni/json.ts); only when a field has the wrong type is the
// zod schema made from it (schema.ts) loaded, through the CNI layer's
// validateWithSchema, to name every bad field in the error.
import { CniError, ErrInvalidNetworkConfig } from '../../cni/errors.js'
import { ShapeMismatch, readShape, shape as s, type Infer, type JSONObject } from '../../cni/json.js'
import { validateWithSchema } from '../../cni/config.js'
import { validateInterfaceName } from '../../cni/env.js'
import type { DNS } from '../../cni/result.js'
import { parseMAC } from '../../netlink/addr.js'

export const DEFAULT_BRIDGE_NAME = 'cni0'

export interface BridgeConfig {
  /** Bridge name (`bridge`, default cni0). */
  bridge: string
  /** isGateway, forced on by isDefaultGateway. */
  isGateway: boolean
  isDefaultGateway: boolean
  forceAddress: boolean
  ipMasq: boolean
  ipMasqBackend?: string
  /** 0 = kernel default (or, with mtuAuto, not yet resolved). */
  mtu: number
  /** `"mtu": "auto"`: the MTU of the host interface that carries the default route, resolved at ADD/CHECK. */
  mtuAuto: boolean
  hairpinMode: boolean
  promiscMode: boolean
  /** Access VLAN (pvid, untagged) of the host port; 0 = none. */
  vlan: number
  /** vlanTrunk was given (even empty): a new bridge then gets vlan_filtering, as upstream. */
  vlanTrunkGiven: boolean
  /** The trunk VLAN ids, de-duplicated and sorted. */
  trunkVlans: number[]
  preserveDefaultVlan: boolean
  macspoofchk: boolean
  enabledad: boolean
  disableContainerInterface: boolean
  portIsolation: boolean
  /** IFLA_BR_GROUP_FWD_MASK for the bridge; 0 = leave it as it is (upstream PR #1254). */
  groupFwdMask: number
  /** IPv6 router advertisements and SLAAC stay on in the container (upstream PR #910); off by default. */
  enableSlaac: boolean
  /** Drop forwarded traffic between this bridge and every other isolated bridge (our nf_tables table). */
  isolate: boolean
  /** ipam.type; "" = L2 only. */
  ipamType: string
  /** The config's dns when any field of it is set (it then replaces the IPAM's). */
  dns?: DNS
  /** Container MAC: runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC. */
  mac?: string
}

// The config's shape, once: the fast reader below and the zod schema
// (schema.ts, toZod) both come from it.
const vlanTrunkShape = s.object({ id: s.optional(s.int()), minID: s.optional(s.int()), maxID: s.optional(s.int()) })

export const bridgeShape = s.object({
  bridge: s.optional(s.string()),
  isGateway: s.optional(s.bool()),
  isDefaultGateway: s.optional(s.bool()),
  forceAddress: s.optional(s.bool()),
  ipMasq: s.optional(s.bool()),
  ipMasqBackend: s.optional(s.string()),
  mtu: s.optional(s.union(s.int({ min: 0 }), s.literal('auto'))),
  hairpinMode: s.optional(s.bool()),
  promiscMode: s.optional(s.bool()),
  vlan: s.optional(s.int({ min: 0, max: 4094 })),
  vlanTrunk: s.optional(s.array(s.nullable(vlanTrunkShape))),
  preserveDefaultVlan: s.optional(s.bool()),
  macspoofchk: s.optional(s.bool()),
  enabledad: s.optional(s.bool()),
  disableContainerInterface: s.optional(s.bool()),
  portIsolation: s.optional(s.bool()),
  groupFwdMask: s.optional(s.int({ min: 0, max: 65535 })),
  enableSlaac: s.optional(s.bool()),
  isolate: s.optional(s.bool()),
  ipam: s.optional(s.looseObject({ type: s.optional(s.string()) })),
  dns: s.optional(s.object({
    nameservers: s.optional(s.array(s.string())),
    domain: s.optional(s.string()),
    search: s.optional(s.array(s.string())),
    options: s.optional(s.array(s.string()))
  })),
  args: s.optional(s.object({ cni: s.optional(s.object({ mac: s.optional(s.string()) })) })),
  runtimeConfig: s.optional(s.object({ mac: s.optional(s.string()) }))
})

/** The bridge fields of a network config as given (keys as described, nulls dropped). */
export type BridgeNetConf = Infer<typeof bridgeShape>
export type VlanTrunk = Infer<typeof vlanTrunkShape>

/**
 * Reads and checks the bridge options. `envMac` is CNI_ARGS `MAC` (already
 * parsed by the CNI layer). Errors: code 7 with the official texts for the
 * VLAN and trunk rules and the option conflicts; a wrong JSON type → code 7
 * naming every bad field (through the zod schema, loaded only then).
 */
export async function loadBridgeConfig (config: JSONObject, envMac?: string): Promise<BridgeConfig> {
  try {
    return parseBridgeConfig(config, envMac)
  } catch (err) {
    if (!(err instanceof ShapeMismatch)) throw err
    await validateWithSchema(config, () => import('./schema.js'), { msg: 'failed to load netconf' })
    // The schema found nothing (it cannot: it is made from the same shape): report what the fast check saw.
    throw new CniError(ErrInvalidNetworkConfig, 'failed to load netconf', err.message)
  }
}

/** The synchronous part of loadBridgeConfig; throws ShapeMismatch for a mistyped field. */
function parseBridgeConfig (config: JSONObject, envMac?: string): BridgeConfig {
  const { conf, problems } = readBridgeConfig(config, envMac)
  if (problems.length > 0) throw problems[0]!.error
  return conf
}

/**
 * The options and every problem of a well-typed config; throws ShapeMismatch
 * for a mistyped field, and the trunk checks' error.
 */
function readBridgeConfig (config: JSONObject, envMac?: string): { conf: BridgeConfig, problems: ConfigProblem[] } {
  const n = readShape(config, bridgeShape)
  const c: BridgeConfig = {
    bridge: n.bridge === undefined || n.bridge === '' ? DEFAULT_BRIDGE_NAME : n.bridge,
    isGateway: n.isGateway ?? false,
    isDefaultGateway: n.isDefaultGateway ?? false,
    forceAddress: n.forceAddress ?? false,
    ipMasq: n.ipMasq ?? false,
    // An int, or "auto" (the default-route interface's MTU).
    mtu: typeof n.mtu === 'number' ? n.mtu : 0,
    mtuAuto: n.mtu === 'auto',
    hairpinMode: n.hairpinMode ?? false,
    promiscMode: n.promiscMode ?? false,
    vlan: n.vlan ?? 0,
    vlanTrunkGiven: false,
    trunkVlans: [],
    preserveDefaultVlan: n.preserveDefaultVlan ?? false,
    macspoofchk: n.macspoofchk ?? false,
    enabledad: n.enabledad ?? false,
    disableContainerInterface: n.disableContainerInterface ?? false,
    portIsolation: n.portIsolation ?? false,
    groupFwdMask: n.groupFwdMask ?? 0,
    enableSlaac: n.enableSlaac ?? false,
    isolate: n.isolate ?? false,
    ipamType: n.ipam?.type ?? ''
  }
  if (n.ipMasqBackend !== undefined) c.ipMasqBackend = n.ipMasqBackend
  if (c.isDefaultGateway) c.isGateway = true
  // Keys but no type: upstream silently makes an unaddressed veth; a config mistake here.
  const ipamWithoutType = n.ipam !== undefined && c.ipamType === '' && Object.keys(n.ipam).some(k => k !== 'type')

  if (n.dns !== undefined) {
    // Go's dnsConfSet: a list that is present (even empty) counts as set.
    const { nameservers, search, options, domain = '' } = n.dns
    const d: DNS = {}
    if (nameservers !== undefined) d.nameservers = nameservers
    if (search !== undefined) d.search = search
    if (options !== undefined) d.options = options
    if (domain !== '') d.domain = domain
    if (nameservers !== undefined || search !== undefined || options !== undefined || domain !== '') c.dns = d
  }

  if (n.vlanTrunk !== undefined) {
    c.vlanTrunkGiven = true
    c.trunkVlans = collectVlanTrunk(n.vlanTrunk)
  }

  // Precedence (upstream, test-verified): runtimeConfig > args.cni > CNI_ARGS.
  let mac = envMac !== undefined && envMac !== '' ? envMac : undefined
  let macPath = 'CNI_ARGS MAC'
  const argsMac = n.args?.cni?.mac
  if (argsMac !== undefined && argsMac !== '') { mac = argsMac; macPath = 'args.cni.mac' }
  const rtMac = n.runtimeConfig?.mac
  if (rtMac !== undefined && rtMac !== '') { mac = rtMac; macPath = 'runtimeConfig.mac' }
  if (mac !== undefined) c.mac = mac

  return { conf: c, problems: semanticProblems(c, ipamWithoutType, macPath) }
}

function invalid (msg: string, details = ''): CniError {
  return new CniError(ErrInvalidNetworkConfig, msg, details)
}

/** A problem of a config that has the right JSON types, and the JSON path of the field it is about. */
export interface ConfigProblem {
  path: string
  error: CniError
}

/**
 * The kernel never lets a bridge forward these link-local groups
 * (BR_GROUPFWD_RESTRICTED, net/bridge/br_private.h): writing a mask with
 * any of them fails with EINVAL.
 */
export const GROUP_FWD_RESTRICTED: ReadonlyArray<{ bit: number, group: string, what: string }> = [
  { bit: 0, group: '01:80:C2:00:00:00', what: 'STP' },
  { bit: 1, group: '01:80:C2:00:00:01', what: 'MAC pause' },
  { bit: 2, group: '01:80:C2:00:00:02', what: 'LACP (slow protocols)' }
]

/**
 * Every check upstream makes in loadNetConf and at the top of cmdAdd, and
 * ours, on a config whose types are right; all of them, in field order (a
 * plugin run reports the first; `tscni validate` reports them all).
 */
function semanticProblems (c: BridgeConfig, ipamWithoutType: boolean, macPath: string): ConfigProblem[] {
  const out: ConfigProblem[] = []
  const add = (path: string, msg: string, details = ''): void => { out.push({ path, error: invalid(msg, details) }) }
  try {
    validateInterfaceName(c.bridge)
  } catch (err) {
    add('bridge', `invalid bridge name ${JSON.stringify(c.bridge)}: ${(err as CniError).msg}`)
  }
  if (c.mtu < 0) add('mtu', `invalid MTU ${c.mtu} (must be 0 for the kernel default, positive, or "auto")`)
  if (c.vlan < 0 || c.vlan > 4094) add('vlan', `invalid VLAN ID ${c.vlan} (must be between 0 and 4094)`)
  if (c.groupFwdMask < 0 || c.groupFwdMask > 0xffff) {
    add('groupFwdMask', `invalid groupFwdMask ${c.groupFwdMask} (must be between 0 and 65535)`)
  } else {
    const bad = GROUP_FWD_RESTRICTED.filter(r => (c.groupFwdMask & (1 << r.bit)) !== 0)
    if (bad.length > 0) {
      add('groupFwdMask', `groupFwdMask 0x${c.groupFwdMask.toString(16)} sets bit${bad.length > 1 ? 's' : ''} the kernel never forwards: ` +
        bad.map(r => `${r.bit} (${r.group}, ${r.what})`).join(', '),
      `groupFwdMask: clear bits 0-2 (mask 0x${(c.groupFwdMask & ~7).toString(16)} without them)`)
    }
  }
  if (c.mac !== undefined) {
    const bytes = parseMAC(c.mac)
    // The kernel takes only 6-byte Ethernet addresses for a veth.
    if (bytes === undefined || bytes.length !== 6) add(macPath, `failed to make veth pair: address ${c.mac}: invalid MAC address`)
  }
  if (ipamWithoutType) {
    add('ipam.type', 'ipam has no type: name the IPAM plugin in ipam.type (e.g. "host-local"), or give no ipam for an L2 network', 'ipam.type')
  }
  return out
}

/** The problems checkAddOptions reports (the first of them). */
export function addOptionProblems (c: BridgeConfig): ConfigProblem[] {
  const out: ConfigProblem[] = []
  if (c.ipMasq) {
    try {
      checkMasqBackend(c.ipMasqBackend)
    } catch (err) {
      out.push({ path: 'ipMasqBackend', error: err as CniError })
    }
  }
  if (c.ipamType !== '' && c.disableContainerInterface) out.push({ path: 'disableContainerInterface', error: invalid('cannot use IPAM when DisableContainerInterface flag is set') })
  if (c.hairpinMode && c.promiscMode) out.push({ path: 'promiscMode', error: invalid('cannot set hairpin mode and promiscuous mode at the same time') })
  return out
}

/**
 * Checks the options that only matter for ADD: IPAM with
 * disableContainerInterface, hairpin with promiscuous mode, the masquerade
 * backend.
 */
export function checkAddOptions (c: BridgeConfig): void {
  const problems = addOptionProblems(c)
  if (problems.length > 0) throw problems[0]!.error
}

/**
 * Every problem of a bridge config, each with its JSON path, for `tscni
 * validate`: wrong types (all of them, from the zod schema), else the
 * checks a plugin run makes, ADD's included. Empty when the config is good.
 */
export async function bridgeConfigProblems (config: JSONObject): Promise<ConfigProblem[]> {
  try {
    // The checks themselves, all collected: a run stops at the first.
    const c = readBridgeConfig(config)
    return [...c.problems, ...addOptionProblems(c.conf)]
  } catch (err) {
    if (err instanceof ShapeMismatch) {
      try {
        await validateWithSchema(config, () => import('./schema.js'), { msg: 'failed to load netconf' })
      } catch (schemaErr) {
        if (schemaErr instanceof CniError) {
          return schemaErr.details.split('; ').map(d => ({ path: d.slice(0, Math.max(0, d.indexOf(':'))), error: invalid(schemaErr.msg, d) }))
        }
        throw schemaErr
      }
      return [{ path: err.path, error: invalid('failed to load netconf', err.message) }]
    }
    if (err instanceof CniError) return [{ path: 'vlanTrunk', error: err }]
    throw err
  }
}


/**
 * ipMasqBackend: upstream knows "iptables" and "nftables" (and picks one when
 * absent). Ours always writes nf_tables rules through netlink, in upstream's
 * nftables layout; "iptables" is accepted so that configs keep working, and
 * the rules it gets are the nftables ones (README).
 */
export function checkMasqBackend (backend: string | undefined): void {
  if (backend === undefined || backend === 'nftables' || backend === 'iptables') return
  throw new CniError(ErrInvalidNetworkConfig, `unknown ipmasq backend ${JSON.stringify(backend)}`,
    'ipMasqBackend must be "nftables" or "iptables" (both get nf_tables rules here), or absent')
}

/**
 * vlanTrunk items → sorted unique VLAN ids, with upstream's checks and texts
 * (collectVlanTrunk, taken from ovs-cni).
 */
export function collectVlanTrunk (items: ReadonlyArray<VlanTrunk | null>): number[] {
  const ids = new Set<number>()
  for (const item of items) {
    if (item === null) continue
    const { minID, maxID, id } = item
    if (minID !== undefined && maxID !== undefined) {
      if (minID <= 0 || minID > 4094) throw invalid('incorrect trunk minID parameter')
      if (maxID <= 0 || maxID > 4094) throw invalid('incorrect trunk maxID parameter')
      if (maxID < minID) throw invalid('minID is greater than maxID in trunk parameter')
      for (let v = minID; v <= maxID; v++) ids.add(v)
    } else if (minID === undefined && maxID !== undefined) {
      throw invalid('minID and maxID should be configured simultaneously, minID is missing')
    } else if (minID !== undefined && maxID === undefined) {
      throw invalid('minID and maxID should be configured simultaneously, maxID is missing')
    }
    if (id !== undefined) {
      if (id <= 0 || id > 4094) throw invalid('incorrect trunk id parameter')
      ids.add(id)
    }
  }
  return [...ids].sort((a, b) => a - b)
}

/** A new bridge gets vlan_filtering when a VLAN option is given (upstream: vlan != 0 || vlanTrunk != nil). */
export function wantsVlanFiltering (c: BridgeConfig): boolean {
  return c.vlan !== 0 || c.vlanTrunkGiven
}

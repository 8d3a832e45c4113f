// The bridge plugin's options (official names and defaults), read from the
// network config the way Go's encoding/json reads them: keys match
// case-insensitively (the last match wins), null leaves the default, unknown
// keys are ignored.
//
// Start-up: a valid config is checked here by hand, without zod. Only when a
// field has the wrong type is the zod schema (schema.ts) loaded, through the
// CNI layer's validateWithSchema, to name every bad field in the error.
import { CniError, ErrInvalidNetworkConfig } from '../../cni/errors.js'
import { isObject, type JSONObject } from '../../cni/json.js'
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
  /** 0 = kernel default. */
  mtu: number
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
  /** ipam.type; "" = L2 only. */
  ipamType: string
  /** The config's dns when any field of it is set (it then replaces the IPAM's). */
  dns?: DNS
  /** Container MAC: runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC. */
  mac?: string
}

/** Thrown by the fast check when a field has the wrong type: the schema then explains. */
class WrongType extends Error {}

/** A case-insensitive view of a JSON object's keys (last match wins, null = absent). */
function view (o: JSONObject): Map<string, unknown> {
  const m = new Map<string, unknown>()
  for (const k in o) {
    const v = o[k]
    if (v === null) m.delete(k.toLowerCase()); else m.set(k.toLowerCase(), v)
  }
  return m
}

function bool (m: Map<string, unknown>, key: string): boolean {
  const v = m.get(key.toLowerCase())
  if (v === undefined) return false
  if (typeof v !== 'boolean') throw new WrongType(key)
  return v
}

function int (m: Map<string, unknown>, key: string): number {
  const v = m.get(key.toLowerCase())
  if (v === undefined) return 0
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new WrongType(key)
  return v
}

function optInt (m: Map<string, unknown>, key: string): number | undefined {
  const v = m.get(key.toLowerCase())
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new WrongType(key)
  return v
}

function str (m: Map<string, unknown>, key: string): string | undefined {
  const v = m.get(key.toLowerCase())
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new WrongType(key)
  return v
}

function obj (m: Map<string, unknown>, key: string): Map<string, unknown> | undefined {
  const v = m.get(key.toLowerCase())
  if (v === undefined) return undefined
  if (!isObject(v)) throw new WrongType(key)
  return view(v)
}

function strList (m: Map<string, unknown>, key: string): string[] | undefined {
  const v = m.get(key.toLowerCase())
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new WrongType(key)
  return v as string[]
}

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
    if (!(err instanceof WrongType)) throw err
    await validateWithSchema(config, () => import('./schema.js'), { msg: 'failed to load netconf' })
    // The schema found nothing: report what the fast check saw.
    throw new CniError(ErrInvalidNetworkConfig, 'failed to load netconf', `${err.message}: wrong type`)
  }
}

/** The synchronous part of loadBridgeConfig; throws WrongType for a mistyped field. */
function parseBridgeConfig (config: JSONObject, envMac?: string): BridgeConfig {
  const m = view(config)
  const bridgeName = str(m, 'bridge')
  const c: BridgeConfig = {
    bridge: bridgeName === undefined || bridgeName === '' ? DEFAULT_BRIDGE_NAME : bridgeName,
    isGateway: bool(m, 'isGateway'),
    isDefaultGateway: bool(m, 'isDefaultGateway'),
    forceAddress: bool(m, 'forceAddress'),
    ipMasq: bool(m, 'ipMasq'),
    mtu: int(m, 'mtu'),
    hairpinMode: bool(m, 'hairpinMode'),
    promiscMode: bool(m, 'promiscMode'),
    vlan: int(m, 'vlan'),
    vlanTrunkGiven: false,
    trunkVlans: [],
    preserveDefaultVlan: bool(m, 'preserveDefaultVlan'),
    macspoofchk: bool(m, 'macspoofchk'),
    enabledad: bool(m, 'enabledad'),
    disableContainerInterface: bool(m, 'disableContainerInterface'),
    portIsolation: bool(m, 'portIsolation'),
    ipamType: ''
  }
  const backend = str(m, 'ipMasqBackend')
  if (backend !== undefined) c.ipMasqBackend = backend
  if (c.isDefaultGateway) c.isGateway = true

  const ipam = obj(m, 'ipam')
  if (ipam !== undefined) c.ipamType = str(ipam, 'type') ?? ''

  const dns = obj(m, 'dns')
  if (dns !== undefined) {
    // Go's dnsConfSet: a list that is present (even empty) counts as set.
    const d: DNS = {}
    const nameservers = strList(dns, 'nameservers')
    const search = strList(dns, 'search')
    const options = strList(dns, 'options')
    const domain = str(dns, 'domain') ?? ''
    if (nameservers !== undefined) d.nameservers = nameservers
    if (search !== undefined) d.search = search
    if (options !== undefined) d.options = options
    if (domain !== '') d.domain = domain
    if (nameservers !== undefined || search !== undefined || options !== undefined || domain !== '') c.dns = d
  }

  const trunkRaw = m.get('vlantrunk')
  if (trunkRaw !== undefined) {
    if (!Array.isArray(trunkRaw)) throw new WrongType('vlanTrunk')
    c.vlanTrunkGiven = true
    const items: Array<Map<string, unknown> | undefined> = trunkRaw.map(t => {
      if (t === null) return undefined
      if (!isObject(t)) throw new WrongType('vlanTrunk')
      return view(t)
    })
    c.trunkVlans = collectVlanTrunk(items)
  }

  // Precedence (upstream, test-verified): runtimeConfig > args.cni > CNI_ARGS.
  let mac = envMac !== undefined && envMac !== '' ? envMac : undefined
  const argsMac = str(obj(obj(m, 'args') ?? new Map(), 'cni') ?? new Map(), 'mac')
  if (argsMac !== undefined && argsMac !== '') mac = argsMac
  const rtMac = str(obj(m, 'runtimeConfig') ?? new Map(), 'mac')
  if (rtMac !== undefined && rtMac !== '') mac = rtMac
  if (mac !== undefined) c.mac = mac

  checkSemantics(c)
  return c
}

function invalid (msg: string, details = ''): CniError {
  return new CniError(ErrInvalidNetworkConfig, msg, details)
}

/** The checks upstream makes in loadNetConf and at the top of cmdAdd, before touching the kernel. */
function checkSemantics (c: BridgeConfig): void {
  if (c.vlan < 0 || c.vlan > 4094) throw invalid(`invalid VLAN ID ${c.vlan} (must be between 0 and 4094)`)
  if (c.mtu < 0) throw invalid(`invalid MTU ${c.mtu} (must be 0 for the kernel default, or positive)`)
  try {
    validateInterfaceName(c.bridge)
  } catch (err) {
    throw invalid(`invalid bridge name ${JSON.stringify(c.bridge)}: ${(err as CniError).msg}`)
  }
  if (c.mac !== undefined) {
    const bytes = parseMAC(c.mac)
    // The kernel takes only 6-byte Ethernet addresses for a veth.
    if (bytes === undefined || bytes.length !== 6) throw invalid(`failed to make veth pair: address ${c.mac}: invalid MAC address`)
  }
}

/**
 * Checks the options that only matter for ADD: IPAM with
 * disableContainerInterface, hairpin with promiscuous mode, the masquerade
 * backend.
 */
export function checkAddOptions (c: BridgeConfig): void {
  if (c.ipMasq) checkMasqBackend(c.ipMasqBackend)
  if (c.ipamType !== '' && c.disableContainerInterface) throw invalid('cannot use IPAM when DisableContainerInterface flag is set')
  if (c.hairpinMode && c.promiscMode) throw invalid('cannot set hairpin mode and promiscuous mode at the same time')
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
export function collectVlanTrunk (items: ReadonlyArray<Map<string, unknown> | undefined>): number[] {
  const ids = new Set<number>()
  for (const item of items) {
    if (item === undefined) continue
    const minID = optInt(item, 'minID')
    const maxID = optInt(item, 'maxID')
    const id = optInt(item, 'id')
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

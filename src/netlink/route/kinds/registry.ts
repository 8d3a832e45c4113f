// Link kinds (IFLA_INFO_KIND) as small drivers: each knows how to write and
// read the attributes inside IFLA_INFO_DATA for its kind. The link codec looks
// drivers up here; a kind without a driver keeps its data raw.
import type { AttributeReader, NetlinkWriter } from '../../attributes.js'
import type { AttributeSet } from './fields.js'
import { bridgeKind } from './bridge.js'
import { vethKind } from './veth.js'
import { vlanKind } from './vlan.js'
import { macvlanKind, macvtapKind } from './macvlan.js'
import { vxlanKind } from './vxlan.js'

export interface LinkKindDriver<T extends AttributeSet = AttributeSet> {
  /** The IFLA_INFO_KIND string, e.g. "bridge". */
  readonly kind: string
  /** Writes the attributes inside IFLA_INFO_DATA (the caller opens the nest). */
  encode: (w: NetlinkWriter, data: T) => void
  /** Reads IFLA_INFO_DATA's attributes; keepOrder records their order for re-encoding. */
  decode: (r: AttributeReader, keepOrder?: boolean) => T
}

const drivers = new Map<string, LinkKindDriver<any>>()
let builtinsLoaded = false

// Registered on first use, not at import time: veth imports the link codec,
// which imports this module, so the cycle must not be touched while loading.
function loadBuiltins (): void {
  if (builtinsLoaded) return
  builtinsLoaded = true
  for (const d of [bridgeKind, vethKind, vlanKind, macvlanKind, macvtapKind, vxlanKind]) {
    if (!drivers.has(d.kind)) drivers.set(d.kind, d)
  }
}

/** Adds (or replaces) the driver of a kind. */
export function registerLinkKind<T extends AttributeSet> (driver: LinkKindDriver<T>): void {
  loadBuiltins()
  drivers.set(driver.kind, driver)
}

/** The driver of a kind, or undefined (its data is then kept raw). */
export function linkKindDriver (kind: string): LinkKindDriver<any> | undefined {
  if (!builtinsLoaded) loadBuiltins()
  return drivers.get(kind)
}

/** The kinds with a driver. */
export function linkKinds (): string[] {
  loadBuiltins()
  return [...drivers.keys()]
}

// Link kinds (IFLA_INFO_KIND) as small drivers: each knows how to write and
// read the attributes inside IFLA_INFO_DATA for its kind. The link codec looks
// drivers up here; a kind without a driver keeps its data raw. The kinds
// import only driver.ts, never this module; veth's driver, which reuses the
// link codec, is registered by link.ts.
import type { AttributeSet } from '../attribute-set.js'
import type { LinkKindDriver } from './driver.js'
import { bridgeKind } from './bridge.js'
import { vlanKind } from './vlan.js'
import { macvlanKind, macvtapKind } from './macvlan.js'
import { vxlanKind } from './vxlan.js'

export type { LinkKindDriver } from './driver.js'

const drivers = new Map<string, LinkKindDriver<any>>([bridgeKind, vlanKind, macvlanKind, macvtapKind, vxlanKind].map(d => [d.kind, d]))

/** Adds (or replaces) the driver of a kind. */
export function registerLinkKind<T extends AttributeSet> (driver: LinkKindDriver<T>): void {
  drivers.set(driver.kind, driver)
}

/** The driver of a kind, or undefined (its data is then kept raw). */
export function linkKindDriver (kind: string): LinkKindDriver<any> | undefined {
  return drivers.get(kind)
}

/** The kinds with a driver. */
export function linkKinds (): string[] {
  return [...drivers.keys()]
}

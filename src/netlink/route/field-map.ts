// Friendly specs and views (LinkSpec, BridgePort, RuleSpec…) and the
// kernel's attribute sets (LinkAttributes, IFLA_BRPORT_*, FRA_*) name the
// same values differently: `mac` is IFLA_ADDRESS, `hairpin` the u8
// IFLA_BRPORT_MODE. A field map says so once per pair of layers, and values
// pass through it in either direction; only the fields that are set are
// copied (never an undefined value, as exactOptionalPropertyTypes wants).

/** How a value converts between the two layers. */
export interface Conversion<F, K> {
  toKernel: (v: F) => K
  fromKernel: (v: K) => F
}

/** A boolean that the kernel keeps as a u8 0/1 (reading: 1 is true). */
export const onOff: Conversion<boolean, number> = { toKernel: v => v ? 1 : 0, fromKernel: v => v === 1 }

/**
 * Friendly field → the kernel field of the same value, or [kernel field,
 * conversion]; a conversion that is a plain function goes one way (requests:
 * toKernel only). Its order is the order fields appear in what fromKernel builds.
 */
export type FieldMap<F, K> = { readonly [P in keyof F]?: keyof K | readonly [keyof K, Conversion<any, any> | ((v: any) => unknown)] }

type Convert = Conversion<unknown, unknown> | ((v: unknown) => unknown)
type Entries = ReadonlyArray<readonly [string, string, Convert | undefined]>
const compiled = new WeakMap<object, Entries>()

/** [friendly, kernel, conversion] per field, worked out once per map. */
function entries<F, K> (map: FieldMap<F, K>): Entries {
  let e = compiled.get(map)
  if (e === undefined) {
    e = Object.entries(map).map(([f, k]) => Array.isArray(k) ? [f, k[0] as string, k[1] as Convert] : [f, k as string, undefined])
    compiled.set(map, e)
  }
  return e
}

/** The kernel fields for the friendly ones that are set. */
export function toKernel<F, K> (from: F, map: FieldMap<F, K>): Partial<K> {
  const out: Record<string, unknown> = {}
  for (const [f, k, c] of entries(map)) {
    const v = (from as Record<string, unknown>)[f]
    if (v !== undefined) out[k] = c === undefined ? v : typeof c === 'function' ? c(v) : c.toKernel(v)
  }
  return out as Partial<K>
}

/** The friendly fields for the kernel ones that are set. */
export function fromKernel<F, K> (from: K, map: FieldMap<F, K>): Partial<F> {
  const out: Record<string, unknown> = {}
  for (const [f, k, c] of entries(map)) {
    if (typeof c === 'function') continue
    const v = (from as Record<string, unknown>)[k]
    if (v !== undefined) out[f] = c === undefined ? v : c.fromKernel(v)
  }
  return out as Partial<F>
}

/** The fields of `from` among `keys` that are set (a pass-through between layers that name them alike). */
export function pick<T, P extends keyof T> (from: T, keys: readonly P[]): Partial<Pick<T, P>> {
  const out: Partial<Pick<T, P>> = {}
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k]
  return out
}

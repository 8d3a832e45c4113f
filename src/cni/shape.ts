// A config's shape, written once: the fields, their JSON types and bounds.
// From one description come both
// - the fast reader (readShape, here): what a plugin run uses to check types
//   and read the fields the Go way (fieldCI: any key case, last wins, null =
//   absent), without loading zod (~50 ms to import, more than a plugin run);
// - the zod schema (toZod in shape-zod.ts, loaded only to explain a mistyped
//   config field by field, and for `tscni validate` and schemas/*.json).
// Bounds (int min/max) are only the schema's: a run checks values itself, with
// upstream's texts. The TypeScript type of a read config is Infer<typeof shape>.
import { fieldCI, fitsType, isObject, jsonTypeName, type JSONObject } from './json.js'

export interface StringShape { readonly kind: 'string' }
export interface BoolShape { readonly kind: 'bool' }
export interface IntShape { readonly kind: 'int', readonly min?: number, readonly max?: number }
export interface LiteralShape<V extends string = string> { readonly kind: 'literal', readonly value: V }
export interface UnionShape<O extends readonly Shape[] = readonly Shape[]> { readonly kind: 'union', readonly options: O }
export interface ArrayShape<E extends Shape = Shape> { readonly kind: 'array', readonly element: E }
export interface NullableShape<I extends Shape = Shape> { readonly kind: 'nullable', readonly inner: I }
export interface OptionalShape<I extends Shape = Shape> { readonly kind: 'optional', readonly inner: I }
export interface ObjectShape<F extends Fields = Fields> {
  readonly kind: 'object'
  readonly fields: F
  /** Unknown keys are kept by the reader (and allowed by the schema); otherwise dropped, as Go drops them. */
  readonly loose: boolean
}
export type Shape = StringShape | BoolShape | IntShape | LiteralShape | UnionShape | ArrayShape | NullableShape | ObjectShape | OptionalShape
export type Fields = Readonly<Record<string, Shape>>

export const string = (): StringShape => ({ kind: 'string' })
export const bool = (): BoolShape => ({ kind: 'bool' })
export const int = (bounds: { min?: number, max?: number } = {}): IntShape => ({ kind: 'int', ...bounds })
export const literal = <V extends string>(value: V): LiteralShape<V> => ({ kind: 'literal', value })
export const union = <const O extends readonly Shape[]>(...options: O): UnionShape<O> => ({ kind: 'union', options })
export const array = <E extends Shape>(element: E): ArrayShape<E> => ({ kind: 'array', element })
export const nullable = <I extends Shape>(inner: I): NullableShape<I> => ({ kind: 'nullable', inner })
export const optional = <I extends Shape>(inner: I): OptionalShape<I> => ({ kind: 'optional', inner })
export const object = <F extends Fields>(fields: F): ObjectShape<F> => ({ kind: 'object', fields, loose: false })
export const looseObject = <F extends Fields>(fields: F): ObjectShape<F> => ({ kind: 'object', fields, loose: true })

type OptionalKeys<F> = { [K in keyof F]: F[K] extends OptionalShape ? K : never }[keyof F]
type RequiredKeys<F> = Exclude<keyof F, OptionalKeys<F>>
type Simplify<T> = { [K in keyof T]: T[K] } & {}

/** The value a shape reads to. */
export type Infer<S> =
  S extends StringShape ? string
    : S extends BoolShape ? boolean
      : S extends IntShape ? number
        : S extends LiteralShape<infer V> ? V
          : S extends UnionShape<infer O> ? Infer<O[number]>
            : S extends ArrayShape<infer E> ? Array<Infer<E>>
              : S extends NullableShape<infer I> ? Infer<I> | null
                : S extends OptionalShape<infer I> ? Infer<I>
                  : S extends ObjectShape<infer F> ? Simplify<{ [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> }>
                    : never

/** A value that does not fit its shape: the JSON path and what was expected. */
export class ShapeMismatch extends Error {
  override name = 'ShapeMismatch'
  readonly path: string
  constructor (path: string, expected: string, got: unknown) {
    super(`${path === '' ? '(root)' : path}: expected ${expected}, got ${got === undefined ? 'nothing' : jsonTypeName(got)}`)
    this.path = path
  }
}

/** What a shape takes, in words ("int", "string or \"auto\"", "array", …). */
export function describeShape (s: Shape): string {
  switch (s.kind) {
    case 'literal': return JSON.stringify(s.value)
    case 'union': return s.options.map(describeShape).join(' or ')
    case 'nullable': case 'optional': return describeShape(s.inner)
    case 'bool': return 'boolean'
    default: return s.kind
  }
}

const join = (path: string, key: string): string => path === '' ? key : `${path}.${key}`

/**
 * Reads a JSON value with its shape: the types checked (bounds are not), an
 * object's fields found the Go way (fieldCI) and returned under their
 * described names, nulls dropped, unknown keys dropped (kept for a loose
 * object). Throws ShapeMismatch at the first field that does not fit.
 */
export function readShape<S extends Shape> (value: unknown, shape: S, path = ''): Infer<S> {
  return read(value, shape, path) as Infer<S>
}

function read (v: unknown, s: Shape, path: string): unknown {
  switch (s.kind) {
    case 'string': case 'bool': case 'int':
      if (!fitsType(v, s.kind)) throw new ShapeMismatch(path, describeShape(s), v)
      return v
    case 'literal':
      if (v !== s.value) throw new ShapeMismatch(path, describeShape(s), v)
      return v
    case 'union':
      for (const o of s.options) {
        try { return read(v, o, path) } catch (err) { if (!(err instanceof ShapeMismatch)) throw err }
      }
      throw new ShapeMismatch(path, describeShape(s), v)
    case 'nullable':
      return v === null ? null : read(v, s.inner, path)
    case 'optional':
      return read(v, s.inner, path)
    case 'array':
      if (!Array.isArray(v)) throw new ShapeMismatch(path, 'array', v)
      return v.map((x, i) => read(x, s.element, `${path}[${i}]`))
    case 'object': {
      if (!isObject(v)) throw new ShapeMismatch(path, 'object', v)
      const out: JSONObject = {}
      if (s.loose) {
        const described = new Set(Object.keys(s.fields).map(k => k.toLowerCase()))
        for (const k in v) if (!described.has(k.toLowerCase()) && v[k] !== null) out[k] = v[k]
      }
      for (const [key, fs] of Object.entries(s.fields)) {
        const x = fieldCI(v, key)
        if (x === undefined) {
          if (fs.kind !== 'optional') throw new ShapeMismatch(join(path, key), describeShape(fs), undefined)
          continue
        }
        out[key] = read(x, fs, join(path, key))
      }
      return out
    }
  }
}

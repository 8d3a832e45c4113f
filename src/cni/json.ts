// JSON the way Go's encoding/json reads and writes it, for a drop-in of the
// Go plugins: output as json.MarshalIndent (4 spaces, HTML-safe escapes),
// keys looked up case-insensitively with the last match winning.

/**
 * Go's json.MarshalIndent(v, "", "    "): 4-space indent, no trailing
 * newline, and `<`, `>`, `&`, U+2028, U+2029 escaped as \u00xx (these
 * characters occur only inside strings, so a global replace is exact).
 */
export function marshalIndent (value: unknown): string {
  return goEscape(JSON.stringify(value, null, 4))
}

/** Go's json.Marshal: compact, HTML-safe escapes. */
export function marshalCompact (value: unknown): string {
  return goEscape(JSON.stringify(value))
}

const GO_ESCAPES = /[<>&\u2028\u2029]/g
function goEscape (text: string): string {
  GO_ESCAPES.lastIndex = 0
  if (!GO_ESCAPES.test(text)) return text
  return text.replace(GO_ESCAPES, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

export type JSONObject = Record<string, unknown>

export function isObject (v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The one JSON field reader (every config, result and args reader goes
 * through it): the value of `key` in obj as Go's encoding/json finds a struct
 * field's value: the exact key or any ASCII-case variant (`"MTU"` for `mtu`),
 * the last one in the object winning; a `null` there means the field is
 * absent (undefined: the caller's default, Go's zero value). `""` is a string
 * like any other: the caller treats it as upstream's code does after
 * decoding (a default, an error, or a value). (JSON.parse keeps an exactly
 * duplicated key at its first position, so for that rare mix of exact
 * duplicates and case variants the order can differ from Go's.)
 */
export function fieldCI (obj: JSONObject, key: string): unknown {
  let found: unknown
  const lower = key.toLowerCase()
  for (const k in obj) {
    if (k === key || (k.length === key.length && k.toLowerCase() === lower)) found = obj[k]
  }
  return found === null ? undefined : found
}

/** The JSON types of config and result fields, as Go's struct field types take them. */
export type FieldType = 'string' | 'bool' | 'int' | 'object' | 'array' | 'strings'

interface FieldTypes {
  string: string
  bool: boolean
  int: number
  object: JSONObject
  array: unknown[]
  strings: string[]
}

/** Whether a (non-null) JSON value fits a field of that type: an int is an integral number, strings an array of strings. */
export function fitsType (v: unknown, type: FieldType): boolean {
  switch (type) {
    case 'string': return typeof v === 'string'
    case 'bool': return typeof v === 'boolean'
    case 'int': return typeof v === 'number' && Number.isInteger(v)
    case 'object': return isObject(v)
    case 'array': return Array.isArray(v)
    case 'strings': return Array.isArray(v) && v.every(x => typeof x === 'string')
  }
}

/**
 * fieldCI with a type: undefined when absent or null, the value when it
 * fits, else `wrong(value)` is thrown (each reader names the field its way).
 */
export function typedField<T extends FieldType> (obj: JSONObject, key: string, type: T, wrong: (got: unknown) => Error): FieldTypes[T] | undefined {
  const v = fieldCI(obj, key)
  if (v === undefined) return undefined
  if (!fitsType(v, type)) throw wrong(v)
  return v as FieldTypes[T]
}

/** The name of a JSON value's type as Go's decoder names it in errors. */
export function jsonTypeName (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  switch (typeof v) {
    case 'string': return 'string'
    case 'number': return 'number'
    case 'boolean': return 'bool'
    default: return 'object'
  }
}

/** A value in an error's words: its type, and a short scalar itself (`number 5`, `string "big"`). */
export function describeValue (v: unknown): string {
  const type = v === undefined ? 'nothing' : jsonTypeName(v)
  if (v === undefined || v === null || typeof v === 'object') return type
  const text = JSON.stringify(v)
  return text.length <= 40 ? `${type} ${text}` : type
}

/** Go's %q (strconv.Quote) for a valid UTF-16 string. */
export function goQuote (s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    switch (ch) {
      case '"': out += '\\"'; continue
      case '\\': out += '\\\\'; continue
      case '\n': out += '\\n'; continue
      case '\r': out += '\\r'; continue
      case '\t': out += '\\t'; continue
      case '\x07': out += '\\a'; continue
      case '\b': out += '\\b'; continue
      case '\f': out += '\\f'; continue
      case '\v': out += '\\v'; continue
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0')
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0xd800 && c < 0xe000)) {
      out += c <= 0xffff ? '\\u' + c.toString(16).padStart(4, '0') : '\\U' + c.toString(16).padStart(8, '0')
    } else out += ch
  }
  return out + '"'
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList (list: readonly string[]): string {
  return '[' + list.map(goQuote).join(' ') + ']'
}

// ---- a config's shape, written once -----------------------------------------
// From one description come both
// - the fast reader (readShape, here): what a plugin run uses to check types
//   and read the fields the Go way (fieldCI: any key case, last wins, null =
//   absent), without loading zod (~50 ms to import, more than a plugin run);
// - the zod schema (toZod in shape-zod.ts, loaded only to explain a mistyped
//   config field by field, and for `tscni validate` and schemas/*.json).
// Bounds (int min/max) are only the schema's: a run checks values itself, with
// upstream's texts. The TypeScript type of a read config is Infer<typeof shape>.

export interface StringShape { readonly kind: 'string' }
export interface BoolShape { readonly kind: 'bool' }
export interface IntShape { readonly kind: 'int', readonly min?: number, readonly max?: number }
export interface LiteralShape<V extends string = string> { readonly kind: 'literal', readonly value: V }
export interface UnionShape<O extends readonly Shape[] = readonly Shape[]> { readonly kind: 'union', readonly options: O }
export interface ArrayShape<E extends Shape = Shape> { readonly kind: 'array', readonly element: E }
/** A JSON object used as a map (Go's map[string]T): any keys, each value of one shape. */
export interface RecordShape<V extends Shape = Shape> { readonly kind: 'record', readonly value: V }
export interface NullableShape<I extends Shape = Shape> { readonly kind: 'nullable', readonly inner: I }
export interface OptionalShape<I extends Shape = Shape> { readonly kind: 'optional', readonly inner: I }
export interface ObjectShape<F extends Fields = Fields> {
  readonly kind: 'object'
  readonly fields: F
  /** Unknown keys are kept by the reader (and allowed by the schema); otherwise dropped, as Go drops them. */
  readonly loose: boolean
}
export type Shape = StringShape | BoolShape | IntShape | LiteralShape | UnionShape | ArrayShape | RecordShape | NullableShape | ObjectShape | OptionalShape
export type Fields = Readonly<Record<string, Shape>>

const string = (): StringShape => ({ kind: 'string' })
const bool = (): BoolShape => ({ kind: 'bool' })
const int = (bounds: { min?: number, max?: number } = {}): IntShape => ({ kind: 'int', ...bounds })
const literal = <V extends string>(value: V): LiteralShape<V> => ({ kind: 'literal', value })
const union = <const O extends readonly Shape[]>(...options: O): UnionShape<O> => ({ kind: 'union', options })
const array = <E extends Shape>(element: E): ArrayShape<E> => ({ kind: 'array', element })
const record = <V extends Shape>(value: V): RecordShape<V> => ({ kind: 'record', value })
const nullable = <I extends Shape>(inner: I): NullableShape<I> => ({ kind: 'nullable', inner })
const optional = <I extends Shape>(inner: I): OptionalShape<I> => ({ kind: 'optional', inner })
const object = <F extends Fields>(fields: F): ObjectShape<F> => ({ kind: 'object', fields, loose: false })
const looseObject = <F extends Fields>(fields: F): ObjectShape<F> => ({ kind: 'object', fields, loose: true })

/** The shape builders: `shape.object({ mtu: shape.optional(shape.int({ min: 0 })) })`. */
export const shape = { string, bool, int, literal, union, array, record, nullable, optional, object, looseObject } as const

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
            : S extends RecordShape<infer V> ? Record<string, Infer<V>>
              : S extends NullableShape<infer I> ? Infer<I> | null
                : S extends OptionalShape<infer I> ? Infer<I>
                  : S extends ObjectShape<infer F> ? Simplify<{ [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> }>
                    : never

/** A value that does not fit its shape: the JSON path and what was expected. */
export class ShapeMismatch extends Error {
  override name = 'ShapeMismatch'
  readonly path: string
  constructor (path: string, expected: string, got: unknown) {
    // The text of the zod schema's explanation (config.ts describeIssue).
    const where = path === '' ? '(root)' : path
    super(got === undefined ? `${where}: required (expected ${expected})` : `${where}: expected ${expected}, got ${describeValue(got)}`)
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

const joinPath = (path: string, key: string): string => path === '' ? key : `${path}.${key}`

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
    case 'record': {
      if (!isObject(v)) throw new ShapeMismatch(path, 'record', v)
      const out: JSONObject = {}
      for (const k in v) if (v[k] !== null) out[k] = read(v[k], s.value, joinPath(path, k))
      return out
    }
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
          if (fs.kind !== 'optional') throw new ShapeMismatch(joinPath(path, key), describeShape(fs), undefined)
          continue
        }
        out[key] = read(x, fs, joinPath(path, key))
      }
      return out
    }
  }
}

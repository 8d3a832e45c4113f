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

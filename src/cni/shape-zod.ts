// The zod schema of a config shape (json.ts): the same description the fast
// reader uses, as zod/mini, with the bounds. Imports zod: load it only
// lazily (a schema module per plugin, reached through a dynamic import).
import * as z from 'zod/mini'
import type { Shape } from './json.js'

export function toZod (s: Shape): z.ZodMiniType {
  switch (s.kind) {
    case 'string': return z.string()
    case 'bool': return z.boolean()
    case 'int': {
      const checks = [
        ...(s.min !== undefined ? [z.minimum(s.min)] : []),
        ...(s.max !== undefined ? [z.maximum(s.max)] : [])
      ]
      return checks.length > 0 ? z.int().check(...checks) : z.int()
    }
    case 'literal': return z.literal(s.value)
    case 'union': return z.union(s.options.map(toZod) as [z.ZodMiniType, z.ZodMiniType, ...z.ZodMiniType[]])
    case 'array': return z.array(toZod(s.element))
    case 'record': return z.record(z.string(), toZod(s.value))
    case 'nullable': return z.nullable(toZod(s.inner))
    case 'optional': return z.optional(toZod(s.inner))
    case 'object': {
      const shape: Record<string, z.ZodMiniType> = {}
      for (const [k, f] of Object.entries(s.fields)) shape[k] = toZod(f)
      return s.loose ? z.looseObject(shape) : z.object(shape)
    }
  }
}

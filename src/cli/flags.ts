// Flags of the tscni subcommands, through node:util's parseArgs (strict:
// an unknown flag or a missing value is an error naming it and the usage).
import { parseArgs } from 'node:util'

export interface FlagSpec { [name: string]: { type: 'string' | 'boolean', multiple?: boolean } }

export type Flags<S extends FlagSpec> = {
  [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : S[K]['multiple'] extends true ? string[] : string
}

/** Parses `args` as `spec`'s long flags (plus positionals when `positionals` is true). */
export function parseFlags<S extends FlagSpec> (args: string[], spec: S, usage: string, positionals = false): { flags: Flags<S>, rest: string[] } {
  try {
    const r = parseArgs({ args, options: spec, strict: true, allowPositionals: positionals })
    return { flags: r.values as Flags<S>, rest: r.positionals }
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/\. To specify.*$/s, '')} (usage: tscni ${usage})`)
  }
}

// ipam.resolvConf: a resolv.conf file read into the result's `dns`, as the
// official plugin's dns.go does it.
import { readFileSync } from 'node:fs'
import type { DNS } from '../cni/result.js'

// Go's unicode.IsSpace, which strings.Fields and TrimSpace use.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/

/**
 * Lines are trimmed; blank lines and lines starting with `#` or `;` are
 * skipped, as are lines of fewer than two fields. `nameserver` appends,
 * `domain` replaces, `search` and `options` append all their fields.
 */
export function parseResolvConf (text: string): DNS {
  const dns: DNS = {}
  for (const raw of text.split('\n')) {
    const fields = raw.split(SPACE).filter(f => f !== '')
    if (fields.length === 0 || fields[0]![0] === '#' || fields[0]![0] === ';') continue
    if (fields.length < 2) continue
    switch (fields[0]) {
      case 'nameserver': (dns.nameservers ??= []).push(fields[1]!); break
      case 'domain': dns.domain = fields[1]!; break
      case 'search': (dns.search ??= []).push(...fields.slice(1)); break
      case 'options': (dns.options ??= []).push(...fields.slice(1)); break
    }
  }
  return dns
}

/** Reads and parses a resolv.conf; a read failure throws with Go's text (`open /x: no such file or directory`). */
export function readResolvConf (path: string): DNS {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`open ${path}: ${describeErrno(err)}`, { cause: err })
  }
  return parseResolvConf(text)
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links'
}

function describeErrno (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  return (code !== undefined ? ERRNO_TEXT[code] : undefined) ?? (err as Error).message
}

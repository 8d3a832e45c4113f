// Address text <-> bytes, written for speed: route dumps format hundreds of
// thousands of addresses, so no per-call allocation beyond the result string.
import { NetlinkDecodeError } from './errors.js'

const BYTE_TEXT: string[] = Array.from({ length: 256 }, (_, i) => String(i))
const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function formatIPv4 (b: Uint8Array, off: number): string {
  return BYTE_TEXT[b[off]!]! + '.' + BYTE_TEXT[b[off + 1]!]! + '.' + BYTE_TEXT[b[off + 2]!]! + '.' + BYTE_TEXT[b[off + 3]!]!
}

/** RFC 5952 text: lowercase, the longest run (>= 2) of zero groups as "::", v4-mapped as ::ffff:a.b.c.d. */
export function formatIPv6 (b: Uint8Array, off: number): string {
  const g = new Array<number>(8)
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return '::ffff:' + formatIPv4(b, off + 12)
  }
  let bestStart = -1; let bestLen = 0
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  if (bestLen < 2) bestStart = -1
  let s = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::'
      i += bestLen - 1
      continue
    }
    if (s !== '' && !s.endsWith(':')) s += ':'
    s += g[i]!.toString(16)
  }
  return s
}

export function formatIP (b: Uint8Array, off: number, len: number): string {
  if (len === 4) return formatIPv4(b, off)
  if (len === 16) return formatIPv6(b, off)
  throw new NetlinkDecodeError(`address of ${len} bytes is neither IPv4 nor IPv6`, off)
}

export function formatMAC (b: Uint8Array, off: number, len: number): string {
  let s = ''
  for (let i = 0; i < len; i++) s += (i === 0 ? '' : ':') + HEX2[b[off + i]!]!
  return s
}

function parseIPv4Into (s: string, out: Uint8Array, off: number): boolean {
  const parts = s.split('.')
  if (parts.length !== 4) return false
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!
    if (!/^\d{1,3}$/.test(p)) return false
    const n = Number(p)
    if (n > 255 || (p.length > 1 && p[0] === '0')) return false
    out[off + i] = n
  }
  return true
}

/** IPv4 or IPv6 text to its 4 or 16 bytes; undefined when it is neither. */
export function parseIP (text: string): Uint8Array | undefined {
  if (!text.includes(':')) {
    const out = new Uint8Array(4)
    return parseIPv4Into(text, out, 0) ? out : undefined
  }
  let s = text
  const zone = s.indexOf('%')
  if (zone >= 0) s = s.slice(0, zone)
  const out = new Uint8Array(16)
  let tail = s
  let v4 = false
  const lastColon = s.lastIndexOf(':')
  if (s.indexOf('.', lastColon) >= 0) {
    if (!parseIPv4Into(s.slice(lastColon + 1), out, 12)) return undefined
    tail = s.slice(0, lastColon + 1) + '0:0'
    v4 = true
  }
  const dbl = tail.indexOf('::')
  if (dbl !== tail.lastIndexOf('::')) return undefined
  const head = dbl >= 0 ? tail.slice(0, dbl) : tail
  const rest = dbl >= 0 ? tail.slice(dbl + 2) : ''
  const hg = head === '' ? [] : head.split(':')
  const rg = rest === '' ? [] : rest.split(':')
  if (dbl < 0 && hg.length !== 8) return undefined
  if (dbl >= 0 && hg.length + rg.length > 7) return undefined
  const groups: number[] = []
  for (const x of hg) { if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return undefined; groups.push(parseInt(x, 16)) }
  const fill = 8 - hg.length - rg.length
  for (let i = 0; i < fill; i++) groups.push(0)
  for (const x of rg) { if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return undefined; groups.push(parseInt(x, 16)) }
  const n = v4 ? 6 : 8
  for (let i = 0; i < n; i++) { out[2 * i] = groups[i]! >> 8; out[2 * i + 1] = groups[i]! & 0xff }
  return out
}

/** "aa:bb:cc:dd:ee:ff" (or with '-') to bytes; undefined when malformed. */
export function parseMAC (text: string): Uint8Array | undefined {
  const parts = text.split(/[:-]/)
  if (parts.length < 1 || parts.some(p => !/^[0-9a-fA-F]{2}$/.test(p))) return undefined
  return Uint8Array.from(parts.map(p => parseInt(p, 16)))
}

/** "10.0.0.0/8" → { address bytes, prefix length }. A bare address gets the full length. */
export function parseCIDR (text: string): { address: Uint8Array, prefixLength: number } | undefined {
  const slash = text.indexOf('/')
  const address = parseIP(slash < 0 ? text : text.slice(0, slash))
  if (address === undefined) return undefined
  const max = address.length * 8
  if (slash < 0) return { address, prefixLength: max }
  const p = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined
  return { address, prefixLength: Number(p) }
}

/** 4 → AF_INET (2), 16 → AF_INET6 (10). */
export function familyOf (address: Uint8Array): number {
  return address.length === 4 ? 2 : 10
}

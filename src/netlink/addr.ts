// IP addresses, the one module for them: text <-> bytes, Go's net rules, and
// the arithmetic of prefixes and ranges.
//
// Two text forms, each where its reader expects it:
// - the kernel's (formatIP, as iproute2 and inet_ntop print): 4 bytes dotted,
//   16 bytes RFC 5952 with a v4-mapped address as ::ffff:a.b.c.d. Written for
//   speed: route dumps format hundreds of thousands of addresses, so no
//   per-call allocation beyond the result string.
// - Go's net package (formatIPText, canonicalIP, canonicalCIDR), which CNI
//   results and the host-local store use: an IPv4-mapped IPv6 address
//   (::ffff:a.b.c.d) IS IPv4 — net.IP.To4() returns its 4 bytes, String()
//   prints it dotted, IPNet.Contains and String count its mask in IPv4 bits.
//   Every "is this IPv4?" question above the library gets that one answer.
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

// ---- Go's net rules: an IPv4-mapped IPv6 address is IPv4 -------------------

/** Go's net.IP.To4(): the 4 bytes of an IPv4 address, also of an IPv4-mapped IPv6 one (::ffff:a.b.c.d); undefined otherwise. */
export function to4 (b: Uint8Array): Uint8Array | undefined {
  if (b.length === 4) return b
  if (b.length !== 16 || b[10] !== 0xff || b[11] !== 0xff) return undefined
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined
  return b.subarray(12)
}

export type IPFamily = 4 | 6

/** An address as a family and a number, so that prefixes and ranges are compared and stepped without byte loops. */
export interface IP {
  readonly family: IPFamily
  readonly value: bigint
}

/** A parsed "address/prefix", the address kept as written (host bits and all), as Go's net.ParseCIDR keeps it. */
export interface CIDR {
  readonly ip: IP
  readonly prefixLength: number
  /** Bits of the mask as written: 32 for IPv4 text, 128 for IPv6 text (also for a v4-mapped address, which host-local then reports as a version mismatch). */
  readonly maskBits: 32 | 128
}

export function bitsOf (family: IPFamily): 32 | 128 {
  return family === 4 ? 32 : 128
}

/** Address bytes as an IP; a v4-mapped address is IPv4 (To4). */
export function ipFromBytes (b: Uint8Array): IP {
  const v4 = to4(b)
  const bytes = v4 ?? b
  let v = 0n
  for (let i = 0; i < bytes.length; i++) v = (v << 8n) | BigInt(bytes[i]!)
  return { family: v4 !== undefined ? 4 : 6, value: v }
}

export function ipToBytes (ip: IP): Uint8Array {
  const n = ip.family === 4 ? 4 : 16
  const out = new Uint8Array(n)
  let v = ip.value
  for (let i = n - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n }
  return out
}

/** Go's net.ParseIP followed by To4 when possible; undefined when the text is not an address (zones are not addresses either). */
export function parseIPText (text: string): IP | undefined {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return undefined
  const b = parseIP(text)
  return b === undefined ? undefined : ipFromBytes(b)
}

/** Go's net.IP.String(). */
export function formatIPText (ip: IP): string {
  const b = ipToBytes(ip)
  return ip.family === 4 ? formatIPv4(b, 0) : formatIPv6(b, 0)
}

/** Go's net.ParseCIDR (the address kept as given): "a.b.c.d/n" or "x::y/n". */
export function parseCIDRText (text: string): CIDR | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const addrText = text.slice(0, slash)
  const maskText = text.slice(slash + 1)
  if (!/^[0-9]{1,3}$/.test(maskText)) return undefined
  const ip = parseIPText(addrText)
  if (ip === undefined) return undefined
  const maskBits = addrText.includes(':') ? 128 : 32
  const prefixLength = Number(maskText)
  if (prefixLength > maskBits) return undefined
  return { ip, prefixLength, maskBits }
}

/**
 * Go's view of a CIDR as an IPNet (networkNumberAndMask): the address is
 * IPv4 when To4 says so, and a 128-bit mask on it keeps its last 32 bits
 * (::ffff:10.0.0.0/120 is 10.0.0.0/24).
 */
export function cidrNet (c: CIDR): { ip: IP, prefixLength: number } {
  if (c.ip.family === 4 && c.maskBits === 128) return { ip: c.ip, prefixLength: Math.max(0, c.prefixLength - 96) }
  return { ip: c.ip, prefixLength: c.prefixLength }
}

/** "addr/len" or a bare address (full length), as Go's IPNet; undefined when malformed. */
function parseNet (text: string): { ip: IP, prefixLength: number } | undefined {
  if (text.includes('/')) {
    const c = parseCIDRText(text)
    return c === undefined ? undefined : cidrNet(c)
  }
  const ip = parseIPText(text)
  return ip === undefined ? undefined : { ip, prefixLength: bitsOf(ip.family) }
}

/** Go's net.IP text of an address: RFC 5952, a v4-mapped address as IPv4. Undefined if invalid. */
export function canonicalIP (text: string): string | undefined {
  const ip = parseIPText(text)
  return ip === undefined ? undefined : formatIPText(ip)
}

/** Go's IPNet text of "ip/len", the host bits kept (as types.ParseCIDR keeps them). Undefined if invalid. */
export function canonicalCIDR (text: string): string | undefined {
  const n = text.includes('/') ? parseNet(text) : undefined
  return n === undefined ? undefined : `${formatIPText(n.ip)}/${n.prefixLength}`
}

/** Go's IPNet.String() of a route destination: the network address and its length. */
export function canonicalPrefix (text: string): string | undefined {
  const n = parseNet(text)
  return n === undefined ? undefined : `${formatIPText(networkOf(n.ip, n.prefixLength))}/${n.prefixLength}`
}

/** Whether an address or CIDR text is IPv4 (Go's To4() != nil, so a v4-mapped one is); text that does not parse counts as IPv4 unless it has a ':'. */
export function isIPv4Text (text: string): boolean {
  const n = parseNet(text)
  return n === undefined ? !text.includes(':') : n.ip.family === 4
}

/** True for 0.0.0.0/0 and ::/0. */
export function isDefaultRoute (dst: string): boolean {
  return parseNet(dst)?.prefixLength === 0
}

export function ipEqual (a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value
}

/** Orders by family, then value. */
export function ipCompare (a: IP, b: IP): number {
  if (a.family !== b.family) return a.family - b.family
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0
}

/** ip + 1, wrapping at the top of the family like Go's ip.NextIP. */
export function nextIP (ip: IP): IP {
  const max = (1n << BigInt(bitsOf(ip.family))) - 1n
  return { family: ip.family, value: ip.value === max ? 0n : ip.value + 1n }
}

export function hostMask (family: IPFamily, prefixLength: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefixLength)) - 1n
}

/** The network address: host bits cleared. */
export function networkOf (ip: IP, prefixLength: number): IP {
  return { family: ip.family, value: ip.value & ~hostMask(ip.family, prefixLength) }
}

/** The last address of the subnet (all host bits set). */
export function lastOf (ip: IP, prefixLength: number): IP {
  return { family: ip.family, value: ip.value | hostMask(ip.family, prefixLength) }
}

// ---- address bytes with a prefix (what the kernel is given) -----------------

/** An address with a prefix length, e.g. 10.1.0.2/24 (host bits kept). */
export interface IPNet {
  /** 4 or 16 bytes. */
  readonly address: Uint8Array
  readonly prefixLength: number
}

/** "10.1.0.2/24" → IPNet, Go's way (a v4-mapped address is IPv4: 4 bytes, its prefix in IPv4 bits); a bare address gets the full length; undefined when malformed. */
export function parseIPNet (text: string): IPNet | undefined {
  const n = parseNet(text)
  return n === undefined ? undefined : { address: ipToBytes(n.ip), prefixLength: n.prefixLength }
}

/** An IPNet as an IP and a prefix in its family's bits (a v4-mapped address as IPv4, as Go's IPNet methods see it). */
function netOf (n: IPNet): { ip: IP, prefixLength: number } {
  const ip = ipFromBytes(n.address)
  return cidrNet({ ip, prefixLength: n.prefixLength, maskBits: n.address.length === 16 ? 128 : 32 })
}

/** The address text with Go's rules (net.IP.String()). */
export function formatAddress (address: Uint8Array): string {
  return formatIPText(ipFromBytes(address))
}

export function formatIPNet (n: IPNet): string {
  return `${formatAddress(n.address)}/${n.prefixLength}`
}

/** The official default gateway of a subnet: its first address (network + 1, Go's ip.NextIP). */
export function firstHost (n: IPNet): Uint8Array {
  const { ip, prefixLength } = netOf(n)
  return ipToBytes(nextIP(networkOf(ip, prefixLength)))
}

/** Go's IPNet.Contains: same family (a v4-mapped address is IPv4) and the same leading prefixLength bits. */
export function netContains (net: IPNet, address: Uint8Array): boolean {
  const n = netOf(net)
  const a = ipFromBytes(address)
  return a.family === n.ip.family && networkOf(a, n.prefixLength).value === networkOf(n.ip, n.prefixLength).value
}

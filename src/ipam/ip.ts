// IP addresses as the IPAM layer needs them: a family and a bigint, so that
// ranges can be compared and stepped through without byte loops. Text in and
// out follows Go's net package, because file names in the host-local store
// are Go's net.IP.String() and the official plugin must find our files and we
// theirs: dotted quad for IPv4, RFC 5952 for IPv6, v4-mapped IPv6 as IPv4.
import { formatIPv4, formatIPv6, parseIP } from '../netlink/addr.js'

export type IPFamily = 4 | 6

export interface IP {
  readonly family: IPFamily
  readonly value: bigint
}

/** A parsed "address/prefix", the address kept as written (host bits and all), as Go's types.ParseCIDR does. */
export interface CIDR {
  readonly ip: IP
  readonly prefixLength: number
  /** Bits of the mask as written: 32 for IPv4 text, 128 for IPv6 text (also for a v4-mapped address, which Go then reports as a version mismatch). */
  readonly maskBits: 32 | 128
}

export function bitsOf (family: IPFamily): 32 | 128 {
  return family === 4 ? 32 : 128
}

export function ipFromBytes (b: Uint8Array): IP {
  let v = 0n
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!)
  if (b.length === 4) return { family: 4, value: v }
  // Go's To4(): ::ffff:a.b.c.d is IPv4.
  if (v >> 32n === 0xffffn) return { family: 4, value: v & 0xffffffffn }
  return { family: 6, value: v }
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

// The little IP arithmetic the bridge plugin needs (gateway = network + 1,
// subnet containment for forceAddress), on address bytes. Kept here, small
// and allocation-light, so a plugin run loads nothing bigger for it.
import { formatIP, parseCIDR, parseIP } from '../../netlink/addr.js'

/** An address with a prefix length, e.g. 10.1.0.2/24 (host bits kept). */
export interface IPNet {
  /** 4 or 16 bytes. */
  readonly address: Uint8Array
  readonly prefixLength: number
}

/** "10.1.0.2/24" → IPNet; undefined when malformed. A bare address gets the full length. */
export function parseIPNet (text: string): IPNet | undefined {
  const c = parseCIDR(text)
  return c === undefined ? undefined : { address: c.address, prefixLength: c.prefixLength }
}

/** The address text with Go's rules (v4 dotted quad, v6 RFC 5952). */
export function formatAddress (address: Uint8Array): string {
  return formatIP(address, 0, address.length)
}

export function formatIPNet (n: IPNet): string {
  return `${formatAddress(n.address)}/${n.prefixLength}`
}

export function isIPv4Text (text: string): boolean {
  return !text.includes(':')
}

/** The address with its host bits cleared. */
export function networkAddress (n: IPNet): Uint8Array {
  const out = new Uint8Array(n.address)
  for (let bit = n.prefixLength; bit < out.length * 8; bit++) {
    out[bit >> 3]! &= ~(0x80 >> (bit & 7))
  }
  return out
}

/** address + 1 (wrapping, as Go's ip.NextIP). */
export function nextAddress (address: Uint8Array): Uint8Array {
  const out = new Uint8Array(address)
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = (out[i]! + 1) & 0xff
    if (out[i] !== 0) break
  }
  return out
}

/** The official default gateway of a subnet: its first address (network + 1). */
export function firstHost (n: IPNet): Uint8Array {
  return nextAddress(networkAddress(n))
}

/** True when address lies inside net (same family, same leading prefixLength bits). */
export function netContains (net: IPNet, address: Uint8Array): boolean {
  if (net.address.length !== address.length) return false
  const bits = net.prefixLength
  const whole = bits >> 3
  for (let i = 0; i < whole; i++) if (net.address[i] !== address[i]) return false
  const rest = bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (net.address[whole]! & mask) === (address[whole]! & mask)
}

export function sameAddress (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Parses an address text (no prefix); undefined when malformed. */
export function parseAddress (text: string): Uint8Array | undefined {
  return parseIP(text)
}

/** Route destination text → canonical "addr/len" (network address), as Go's IPNet.String() prints it. */
export function canonicalPrefix (text: string): string | undefined {
  const n = parseIPNet(text)
  if (n === undefined) return undefined
  return `${formatAddress(networkAddress(n))}/${n.prefixLength}`
}

/** True for 0.0.0.0/0 and ::/0. */
export function isDefaultRoute (dst: string): boolean {
  const n = parseIPNet(dst)
  return n !== undefined && n.prefixLength === 0
}

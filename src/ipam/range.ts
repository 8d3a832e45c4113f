// One host-local Range: a subnet, the inclusive rangeStart..rangeEnd the
// allocator hands out, and the gateway it never hands out. Defaults,
// validation order and error texts are those of the official plugin
// (backend/allocator/range.go), so users see the messages they know.
import {
  type CIDR, type IP, bitsOf, formatIPText, ipCompare, lastOf, networkOf, nextIP, parseCIDRText, parseIPText
} from '../netlink/addr.js'

/** A range as written in the config (after the JSON shape check), with where it came from. */
export interface RangeSpec {
  subnet?: string | undefined
  rangeStart?: string | undefined
  rangeEnd?: string | undefined
  gateway?: string | undefined
  /** The config path of this range for error details, e.g. `ipam.ranges[1][0]`. */
  path: string
}

/**
 * A range that cannot be used; `field` is the config path of the offending
 * key. `decoding` marks text that is no address at all: upstream fails on it
 * while decoding the JSON, so its message has no "invalid range set" prefix.
 */
export class InvalidRangeError extends Error {
  override name = 'InvalidRangeError'
  readonly field: string
  readonly decoding: boolean
  constructor (message: string, field: string, decoding = false) {
    super(message)
    this.field = field
    this.decoding = decoding
  }
}

export class Range {
  /** The network address. */
  readonly subnet: IP
  readonly prefixLength: number
  readonly rangeStart: IP
  readonly rangeEnd: IP
  readonly gateway: IP

  constructor (subnet: IP, prefixLength: number, rangeStart: IP, rangeEnd: IP, gateway: IP) {
    this.subnet = subnet
    this.prefixLength = prefixLength
    this.rangeStart = rangeStart
    this.rangeEnd = rangeEnd
    this.gateway = gateway
  }

  get family (): 4 | 6 { return this.subnet.family }

  /** In the subnet and within rangeStart..rangeEnd. */
  contains (ip: IP): boolean {
    return inSubnet(ip, this.subnet, this.prefixLength) &&
      ipCompare(ip, this.rangeStart) >= 0 && ipCompare(ip, this.rangeEnd) <= 0
  }

  /** Go's Range.Overlaps: same family and one range holds an end of the other. */
  overlaps (other: Range): boolean {
    if (this.family !== other.family) return false
    return this.contains(other.rangeStart) || this.contains(other.rangeEnd) ||
      other.contains(this.rangeStart) || other.contains(this.rangeEnd)
  }

  /** Addresses the allocator may hand out: rangeStart..rangeEnd without the gateway. */
  capacity (): bigint {
    const n = this.rangeEnd.value - this.rangeStart.value + 1n
    return this.contains(this.gateway) ? n - 1n : n
  }

  subnetText (): string {
    return `${formatIPText(this.subnet)}/${this.prefixLength}`
  }

  /** `rangeStart-rangeEnd`, the form the official error messages use. */
  toString (): string {
    return `${formatIPText(this.rangeStart)}-${formatIPText(this.rangeEnd)}`
  }
}

function inSubnet (ip: IP, subnet: IP, prefixLength: number): boolean {
  return ip.family === subnet.family && networkOf(ip, prefixLength).value === subnet.value
}

function parseAddress (text: string | undefined, field: string): IP | undefined {
  if (text === undefined) return undefined
  const ip = parseIPText(text)
  if (ip === undefined) throw new InvalidRangeError(`invalid IP address: ${text}`, field, true)
  return ip
}

/**
 * Range.Canonicalize of the official plugin: parse, check and fill in the
 * defaults (gateway and rangeStart = subnet+1; rangeEnd = the broadcast
 * address - 1 for IPv4, the last address for IPv6). A gateway outside the
 * subnet is accepted, as upstream does, with a warning.
 */
export function parseRange (spec: RangeSpec, warnings?: string[]): Range {
  const { path } = spec
  if (spec.subnet === undefined) throw new InvalidRangeError('subnet is missing', `${path}.subnet`)
  const cidr: CIDR | undefined = parseCIDRText(spec.subnet)
  if (cidr === undefined) throw new InvalidRangeError(`invalid CIDR address: ${spec.subnet}`, `${path}.subnet`, true)
  const gatewayIn = parseAddress(spec.gateway, `${path}.gateway`)
  const startIn = parseAddress(spec.rangeStart, `${path}.rangeStart`)
  const endIn = parseAddress(spec.rangeEnd, `${path}.rangeEnd`)

  const { ip, prefixLength, maskBits } = cidr
  if (prefixLength > maskBits - 2) {
    throw new InvalidRangeError(`Network ${formatIPText(ip)}/${prefixLength} too small to allocate from`, `${path}.subnet`)
  }
  if (bitsOf(ip.family) !== maskBits) throw new InvalidRangeError('IPNet IP and Mask version mismatch', `${path}.subnet`)
  const subnet = networkOf(ip, prefixLength)
  if (subnet.value !== ip.value) {
    throw new InvalidRangeError(
      `Network has host bits set. For a subnet mask of length ${prefixLength} the network address is ${formatIPText(subnet)}`,
      `${path}.subnet`)
  }
  const subnetText = `${formatIPText(subnet)}/${prefixLength}`
  const gateway = gatewayIn ?? nextIP(subnet)
  if (gatewayIn !== undefined && !inSubnet(gatewayIn, subnet, prefixLength)) {
    warnings?.push(`${path}.gateway: gateway ${formatIPText(gatewayIn)} is outside subnet ${subnetText}`)
  }

  // As upstream: rangeStart is checked against the subnet and a given
  // rangeEnd (so start > end reports rangeStart), rangeEnd against the
  // subnet and rangeStart.
  let rangeStart: IP
  if (startIn !== undefined) {
    if (!inSubnet(startIn, subnet, prefixLength) || (endIn !== undefined && ipCompare(startIn, endIn) > 0)) {
      throw new InvalidRangeError(`RangeStart ${formatIPText(startIn)} not in network ${subnetText}`, `${path}.rangeStart`)
    }
    rangeStart = startIn
  } else {
    rangeStart = nextIP(subnet)
  }
  let rangeEnd: IP
  if (endIn !== undefined) {
    if (!inSubnet(endIn, subnet, prefixLength) || ipCompare(endIn, rangeStart) < 0) {
      throw new InvalidRangeError(`RangeEnd ${formatIPText(endIn)} not in network ${subnetText}`, `${path}.rangeEnd`)
    }
    rangeEnd = endIn
  } else {
    const last = lastOf(subnet, prefixLength)
    rangeEnd = subnet.family === 4 ? { family: 4, value: last.value - 1n } : last
    // Upstream accepts a rangeStart past the default end (the IPv4
    // broadcast address) and would hand the broadcast address out.
    if (ipCompare(rangeStart, rangeEnd) > 0) {
      throw new InvalidRangeError(`RangeStart ${formatIPText(rangeStart)} not in network ${subnetText}`, `${path}.rangeStart`)
    }
  }
  return new Range(subnet, prefixLength, rangeStart, rangeEnd, gateway)
}

// A range set: ranges of one family that form a single pool. host-local
// allocates one address per set (backend/allocator/range_set.go).
import { type IP, formatIPText } from '../netlink/addr.js'
import { InvalidRangeError, type Range, type RangeSpec, parseRange } from './range.js'

export class RangeSet {
  readonly ranges: readonly Range[]

  constructor (ranges: readonly Range[]) {
    if (ranges.length === 0) throw new Error('a RangeSet needs at least one range')
    this.ranges = ranges
  }

  get family (): 4 | 6 { return this.ranges[0]!.family }

  /** The range holding ip, or undefined. */
  rangeFor (ip: IP): Range | undefined {
    for (const r of this.ranges) if (r.contains(ip)) return r
    return undefined
  }

  contains (ip: IP): boolean {
    return this.rangeFor(ip) !== undefined
  }

  overlaps (other: RangeSet): boolean {
    for (const r of this.ranges) for (const o of other.ranges) if (r.overlaps(o)) return true
    return false
  }

  /** How many addresses the set can hand out (gateways excluded). */
  capacity (): bigint {
    let n = 0n
    for (const r of this.ranges) n += r.capacity()
    return n
  }

  /** `start-end,start-end`, as upstream prints a set. */
  toString (): string {
    return this.ranges.map(r => r.toString()).join(',')
  }
}

/** The error upstream's RangeFor returns. */
export function notInRangeSetMessage (ip: IP, set: RangeSet): string {
  return `${formatIPText(ip)} not in range set ${set.toString()}`
}

/** RangeSet.Canonicalize: every range valid, one family, no two ranges overlapping. */
export function parseRangeSet (specs: readonly RangeSpec[], path: string, warnings?: string[]): RangeSet {
  if (specs.length === 0) throw new InvalidRangeError('empty range set', path)
  const ranges: Range[] = []
  for (const spec of specs) {
    const r = parseRange(spec, warnings)
    if (ranges.length > 0 && r.family !== ranges[0]!.family) throw new InvalidRangeError('mixed address families', spec.path)
    ranges.push(r)
  }
  for (let i = 0; i < ranges.length - 1; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (ranges[i]!.overlaps(ranges[j]!)) {
        throw new InvalidRangeError(`subnets ${ranges[i]!.toString()} and ${ranges[j]!.toString()} overlap`, specs[j]!.path)
      }
    }
  }
  return new RangeSet(ranges)
}

// The "macvlan" and "macvtap" link kinds: IFLA_MACVLAN_* inside IFLA_INFO_DATA.
import type { AttributeReader, NetlinkWriter } from '../../attributes.js'
import { type AttributeSet, encodeAttributeSet, keepUnknown } from './fields.js'
import type { LinkKindDriver } from './registry.js'

export const IFLA_MACVLAN_MODE = 1
export const IFLA_MACVLAN_FLAGS = 2
export const IFLA_MACVLAN_MACADDR_MODE = 3
export const IFLA_MACVLAN_MACADDR = 4
export const IFLA_MACVLAN_MACADDR_DATA = 5
export const IFLA_MACVLAN_MACADDR_COUNT = 6
export const IFLA_MACVLAN_BC_QUEUE_LEN = 7
export const IFLA_MACVLAN_BC_QUEUE_LEN_USED = 8

// enum macvlan_mode
export const MACVLAN_MODE_PRIVATE = 1
export const MACVLAN_MODE_VEPA = 2
export const MACVLAN_MODE_BRIDGE = 4
export const MACVLAN_MODE_PASSTHRU = 8
export const MACVLAN_MODE_SOURCE = 16

export const MACVLAN_FLAG_NOPROMISC = 1
export const MACVLAN_FLAG_NODST = 2

export interface MacvlanData extends AttributeSet {
  /** MACVLAN_MODE_* (u32) */
  mode?: number
  /** MACVLAN_FLAG_* (u16) */
  flags?: number
  /** enum macvlan_macaddr_mode (u32), source mode only */
  macaddrMode?: number
  macaddrCount?: number
  bcQueueLen?: number
  bcQueueLenUsed?: number
}

/** Mode names as iproute2 spells them. */
export const MACVLAN_MODE_NAMES: Record<number, string> = {
  [MACVLAN_MODE_PRIVATE]: 'private', [MACVLAN_MODE_VEPA]: 'vepa', [MACVLAN_MODE_BRIDGE]: 'bridge',
  [MACVLAN_MODE_PASSTHRU]: 'passthru', [MACVLAN_MODE_SOURCE]: 'source'
}

function decode (r: AttributeReader, keepOrder = false): MacvlanData {
  const d: MacvlanData = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_MACVLAN_MODE: d.mode = r.u32(); break
      case IFLA_MACVLAN_FLAGS: d.flags = r.u16(); break
      case IFLA_MACVLAN_MACADDR_MODE: d.macaddrMode = r.u32(); break
      case IFLA_MACVLAN_MACADDR_COUNT: d.macaddrCount = r.u32(); break
      case IFLA_MACVLAN_BC_QUEUE_LEN: d.bcQueueLen = r.u32(); break
      case IFLA_MACVLAN_BC_QUEUE_LEN_USED: d.bcQueueLenUsed = r.u32(); break
      default: keepUnknown(d, r) // source-mode address lists stay raw
    }
  }
  if (order !== undefined) d.order = order
  return d
}

const CANONICAL = [
  IFLA_MACVLAN_MODE, IFLA_MACVLAN_FLAGS, IFLA_MACVLAN_MACADDR_MODE, IFLA_MACVLAN_MACADDR_COUNT,
  IFLA_MACVLAN_BC_QUEUE_LEN, IFLA_MACVLAN_BC_QUEUE_LEN_USED
] as const

function emit (w: NetlinkWriter, d: MacvlanData, t: number): boolean {
  switch (t & 0x3fff) {
    case IFLA_MACVLAN_MODE: if (d.mode === undefined) return false; w.u32(t, d.mode); return true
    case IFLA_MACVLAN_FLAGS: if (d.flags === undefined) return false; w.u16(t, d.flags); return true
    case IFLA_MACVLAN_MACADDR_MODE: if (d.macaddrMode === undefined) return false; w.u32(t, d.macaddrMode); return true
    case IFLA_MACVLAN_MACADDR_COUNT: if (d.macaddrCount === undefined) return false; w.u32(t, d.macaddrCount); return true
    case IFLA_MACVLAN_BC_QUEUE_LEN: if (d.bcQueueLen === undefined) return false; w.u32(t, d.bcQueueLen); return true
    case IFLA_MACVLAN_BC_QUEUE_LEN_USED: if (d.bcQueueLenUsed === undefined) return false; w.u32(t, d.bcQueueLenUsed); return true
    default: return false
  }
}

function encode (w: NetlinkWriter, data: MacvlanData): void { encodeAttributeSet(w, data, CANONICAL, emit) }

export const macvlanKind: LinkKindDriver<MacvlanData> = { kind: 'macvlan', encode, decode }
/** macvtap shares macvlan's attributes. */
export const macvtapKind: LinkKindDriver<MacvlanData> = { kind: 'macvtap', encode, decode }

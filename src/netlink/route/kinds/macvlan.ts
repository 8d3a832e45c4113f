// The "macvlan" and "macvtap" link kinds: IFLA_MACVLAN_* inside IFLA_INFO_DATA.
import { type AttributeSet, FieldTable, u16, u32 } from '../attribute-set.js'
import { type LinkContext, type LinkKindDriver, kindDriver } from './driver.js'

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

// Source-mode address lists (MACADDR, MACADDR_DATA) stay raw.
const FIELDS = new FieldTable<MacvlanData, LinkContext>([
  { type: IFLA_MACVLAN_MODE, key: 'mode', codec: u32 },
  { type: IFLA_MACVLAN_FLAGS, key: 'flags', codec: u16 },
  { type: IFLA_MACVLAN_MACADDR_MODE, key: 'macaddrMode', codec: u32 },
  { type: IFLA_MACVLAN_MACADDR_COUNT, key: 'macaddrCount', codec: u32 },
  { type: IFLA_MACVLAN_BC_QUEUE_LEN, key: 'bcQueueLen', codec: u32 },
  { type: IFLA_MACVLAN_BC_QUEUE_LEN_USED, key: 'bcQueueLenUsed', codec: u32 }
])

export const macvlanKind: LinkKindDriver<MacvlanData> = kindDriver('macvlan', FIELDS)
/** macvtap shares macvlan's attributes. */
export const macvtapKind: LinkKindDriver<MacvlanData> = kindDriver('macvtap', FIELDS)

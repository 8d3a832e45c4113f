// The "vlan" link kind (802.1Q): IFLA_VLAN_* inside IFLA_INFO_DATA. This
// kernel has no 8021q, so only the bytes are tested, not the kernel.
import { type AttributeSet, FieldTable, be16, u16, u32Pair } from '../attribute-set.js'
import { type LinkContext, type LinkKindDriver, kindDriver } from './driver.js'

export const IFLA_VLAN_ID = 1
export const IFLA_VLAN_FLAGS = 2
export const IFLA_VLAN_EGRESS_QOS = 3
export const IFLA_VLAN_INGRESS_QOS = 4
export const IFLA_VLAN_PROTOCOL = 5

// enum vlan_flags (linux/if_vlan.h)
export const VLAN_FLAG_REORDER_HDR = 0x1
export const VLAN_FLAG_GVRP = 0x2
export const VLAN_FLAG_LOOSE_BINDING = 0x4
export const VLAN_FLAG_MVRP = 0x8
export const VLAN_FLAG_BRIDGE_BINDING = 0x10

export interface VlanData extends AttributeSet {
  /** The VLAN id, 0..4095 (u16) */
  id?: number
  /** struct ifla_vlan_flags: VLAN_FLAG_* to set, and which of them to change */
  flags?: { flags: number, mask: number }
  /** ETH_P_8021Q (0x8100) or ETH_P_8021AD (0x88a8), big-endian on the wire */
  protocol?: number
}

// The QoS maps stay raw.
export const vlanKind: LinkKindDriver<VlanData> = kindDriver('vlan', new FieldTable<VlanData, LinkContext>([
  { type: IFLA_VLAN_ID, key: 'id', codec: u16 },
  { type: IFLA_VLAN_FLAGS, key: 'flags', codec: u32Pair('IFLA_VLAN_FLAGS', 'flags', 'mask') },
  { type: IFLA_VLAN_PROTOCOL, key: 'protocol', codec: be16 }
]))

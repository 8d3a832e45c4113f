// IFLA_BRPORT_*: a bridge port's settings. The same attribute set travels in
// IFLA_PROTINFO of AF_BRIDGE messages (`bridge link set`) and in
// IFLA_INFO_SLAVE_DATA of a port whose IFLA_INFO_SLAVE_KIND is "bridge".
import { AttributeReader, type NetlinkWriter } from '../../attributes.js'
import { type AttributeSet, FieldTable, decodeAttributeSet, encodeAttributeSet, flag, u16, u32, u64, u8 } from '../attribute-set.js'
import { bridgeId } from './bridge.js'
import type { LinkContext } from './driver.js'

export const IFLA_BRPORT_STATE = 1
export const IFLA_BRPORT_PRIORITY = 2
export const IFLA_BRPORT_COST = 3
export const IFLA_BRPORT_MODE = 4
export const IFLA_BRPORT_GUARD = 5
export const IFLA_BRPORT_PROTECT = 6
export const IFLA_BRPORT_FAST_LEAVE = 7
export const IFLA_BRPORT_LEARNING = 8
export const IFLA_BRPORT_UNICAST_FLOOD = 9
export const IFLA_BRPORT_PROXYARP = 10
export const IFLA_BRPORT_LEARNING_SYNC = 11
export const IFLA_BRPORT_PROXYARP_WIFI = 12
export const IFLA_BRPORT_ROOT_ID = 13
export const IFLA_BRPORT_BRIDGE_ID = 14
export const IFLA_BRPORT_DESIGNATED_PORT = 15
export const IFLA_BRPORT_DESIGNATED_COST = 16
export const IFLA_BRPORT_ID = 17
export const IFLA_BRPORT_NO = 18
export const IFLA_BRPORT_TOPOLOGY_CHANGE_ACK = 19
export const IFLA_BRPORT_CONFIG_PENDING = 20
export const IFLA_BRPORT_MESSAGE_AGE_TIMER = 21
export const IFLA_BRPORT_FORWARD_DELAY_TIMER = 22
export const IFLA_BRPORT_HOLD_TIMER = 23
export const IFLA_BRPORT_FLUSH = 24
export const IFLA_BRPORT_MULTICAST_ROUTER = 25
export const IFLA_BRPORT_PAD = 26
export const IFLA_BRPORT_MCAST_FLOOD = 27
export const IFLA_BRPORT_MCAST_TO_UCAST = 28
export const IFLA_BRPORT_VLAN_TUNNEL = 29
export const IFLA_BRPORT_BCAST_FLOOD = 30
export const IFLA_BRPORT_GROUP_FWD_MASK = 31
export const IFLA_BRPORT_NEIGH_SUPPRESS = 32
export const IFLA_BRPORT_ISOLATED = 33
export const IFLA_BRPORT_BACKUP_PORT = 34
export const IFLA_BRPORT_MRP_RING_OPEN = 35
export const IFLA_BRPORT_MRP_IN_OPEN = 36
export const IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT = 37
export const IFLA_BRPORT_MCAST_EHT_HOSTS_CNT = 38
export const IFLA_BRPORT_LOCKED = 39

// Port states (BR_STATE_*, linux/if_bridge.h)
export const BR_STATE_DISABLED = 0
export const BR_STATE_LISTENING = 1
export const BR_STATE_LEARNING = 2
export const BR_STATE_FORWARDING = 3
export const BR_STATE_BLOCKING = 4

/**
 * IFLA_BRPORT_* values as the kernel has them (u8 switches stay 0/1
 * numbers so every value round-trips); names follow the kernel's.
 */
export interface BridgePortAttributes extends AttributeSet {
  /** BR_STATE_* (u8) */
  state?: number
  /** u16 */
  priority?: number
  /** Path cost, u32 */
  cost?: number
  /** Hairpin mode, u8 */
  mode?: number
  /** BPDU guard, u8 */
  guard?: number
  /** Root block, u8 */
  protect?: number
  fastLeave?: number
  learning?: number
  unicastFlood?: number
  proxyarp?: number
  learningSync?: number
  proxyarpWifi?: number
  /** "8000.aa:bb:cc:dd:ee:ff" (struct ifla_bridge_id) */
  rootId?: string
  bridgeId?: string
  designatedPort?: number
  designatedCost?: number
  id?: number
  no?: number
  topologyChangeAck?: number
  configPending?: number
  /** Timers in centiseconds (u64) */
  messageAgeTimer?: number
  forwardDelayTimer?: number
  holdTimer?: number
  /** Flag attribute: flush the port's FDB entries. */
  flush?: boolean
  multicastRouter?: number
  mcastFlood?: number
  mcastToUcast?: number
  vlanTunnel?: number
  bcastFlood?: number
  groupFwdMask?: number
  neighSuppress?: number
  isolated?: number
  /** ifindex of the backup port, u32 */
  backupPort?: number
  mrpRingOpen?: number
  mrpInOpen?: number
  mcastEhtHostsLimit?: number
  mcastEhtHostsCnt?: number
  locked?: number
}

// iproute2's order (bridge/link.c), so `bridge link set` requests match byte for byte;
// then the read-only ones the kernel reports, encoded for round trips (from IFLA_BRPORT_ROOT_ID on).
export const BRIDGE_PORT_FIELDS = new FieldTable<BridgePortAttributes, LinkContext>([
  { type: IFLA_BRPORT_GUARD, key: 'guard', codec: u8 },
  { type: IFLA_BRPORT_MODE, key: 'mode', codec: u8 },
  { type: IFLA_BRPORT_FAST_LEAVE, key: 'fastLeave', codec: u8 },
  { type: IFLA_BRPORT_PROTECT, key: 'protect', codec: u8 },
  { type: IFLA_BRPORT_UNICAST_FLOOD, key: 'unicastFlood', codec: u8 },
  { type: IFLA_BRPORT_MCAST_FLOOD, key: 'mcastFlood', codec: u8 },
  { type: IFLA_BRPORT_BCAST_FLOOD, key: 'bcastFlood', codec: u8 },
  { type: IFLA_BRPORT_MCAST_TO_UCAST, key: 'mcastToUcast', codec: u8 },
  { type: IFLA_BRPORT_LEARNING, key: 'learning', codec: u8 },
  { type: IFLA_BRPORT_LEARNING_SYNC, key: 'learningSync', codec: u8 },
  { type: IFLA_BRPORT_COST, key: 'cost', codec: u32 },
  { type: IFLA_BRPORT_PRIORITY, key: 'priority', codec: u16 },
  { type: IFLA_BRPORT_STATE, key: 'state', codec: u8 },
  { type: IFLA_BRPORT_PROXYARP, key: 'proxyarp', codec: u8 },
  { type: IFLA_BRPORT_PROXYARP_WIFI, key: 'proxyarpWifi', codec: u8 },
  { type: IFLA_BRPORT_MULTICAST_ROUTER, key: 'multicastRouter', codec: u8 },
  { type: IFLA_BRPORT_NEIGH_SUPPRESS, key: 'neighSuppress', codec: u8 },
  { type: IFLA_BRPORT_VLAN_TUNNEL, key: 'vlanTunnel', codec: u8 },
  { type: IFLA_BRPORT_ISOLATED, key: 'isolated', codec: u8 },
  { type: IFLA_BRPORT_BACKUP_PORT, key: 'backupPort', codec: u32 },
  { type: IFLA_BRPORT_LOCKED, key: 'locked', codec: u8 },
  { type: IFLA_BRPORT_GROUP_FWD_MASK, key: 'groupFwdMask', codec: u16 },
  { type: IFLA_BRPORT_MRP_RING_OPEN, key: 'mrpRingOpen', codec: u8 },
  { type: IFLA_BRPORT_MRP_IN_OPEN, key: 'mrpInOpen', codec: u8 },
  { type: IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT, key: 'mcastEhtHostsLimit', codec: u32 },
  { type: IFLA_BRPORT_FLUSH, key: 'flush', codec: flag },
  { type: IFLA_BRPORT_ROOT_ID, key: 'rootId', codec: bridgeId },
  { type: IFLA_BRPORT_BRIDGE_ID, key: 'bridgeId', codec: bridgeId },
  { type: IFLA_BRPORT_DESIGNATED_PORT, key: 'designatedPort', codec: u16 },
  { type: IFLA_BRPORT_DESIGNATED_COST, key: 'designatedCost', codec: u16 },
  { type: IFLA_BRPORT_ID, key: 'id', codec: u16 },
  { type: IFLA_BRPORT_NO, key: 'no', codec: u16 },
  { type: IFLA_BRPORT_TOPOLOGY_CHANGE_ACK, key: 'topologyChangeAck', codec: u8 },
  { type: IFLA_BRPORT_CONFIG_PENDING, key: 'configPending', codec: u8 },
  { type: IFLA_BRPORT_MESSAGE_AGE_TIMER, key: 'messageAgeTimer', codec: u64 },
  { type: IFLA_BRPORT_FORWARD_DELAY_TIMER, key: 'forwardDelayTimer', codec: u64 },
  { type: IFLA_BRPORT_HOLD_TIMER, key: 'holdTimer', codec: u64 },
  { type: IFLA_BRPORT_MCAST_EHT_HOSTS_CNT, key: 'mcastEhtHostsCnt', codec: u32 }
])

export function decodeBridgePort (buf: Uint8Array, start: number, end: number, keepOrder = false): BridgePortAttributes {
  return decodeAttributeSet(new AttributeReader(buf, start, end), BRIDGE_PORT_FIELDS, keepOrder, { family: 0, keepOrder })
}

/** Writes the IFLA_BRPORT_* attributes (the caller opens the nest). */
export function encodeBridgePort (w: NetlinkWriter, p: BridgePortAttributes): void {
  encodeAttributeSet(w, BRIDGE_PORT_FIELDS, p, { family: 0, keepOrder: false })
}

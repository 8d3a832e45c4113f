// IFLA_BRPORT_*: a bridge port's settings. The same attribute set travels in
// IFLA_PROTINFO of AF_BRIDGE messages (`bridge link set`) and in
// IFLA_INFO_SLAVE_DATA of a port whose IFLA_INFO_SLAVE_KIND is "bridge".
import { AttributeReader, type NetlinkWriter } from '../../attributes.js'
import { type AttributeSet, encodeAttributeSet, keepUnknown, u64Number } from './fields.js'
import { decodeBridgeId, encodeBridgeId } from './bridge.js'

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

export function decodeBridgePort (buf: Uint8Array, start: number, end: number, keepOrder = false): BridgePortAttributes {
  const p: BridgePortAttributes = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  const r = new AttributeReader(buf, start, end)
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_BRPORT_STATE: p.state = r.u8(); break
      case IFLA_BRPORT_PRIORITY: p.priority = r.u16(); break
      case IFLA_BRPORT_COST: p.cost = r.u32(); break
      case IFLA_BRPORT_MODE: p.mode = r.u8(); break
      case IFLA_BRPORT_GUARD: p.guard = r.u8(); break
      case IFLA_BRPORT_PROTECT: p.protect = r.u8(); break
      case IFLA_BRPORT_FAST_LEAVE: p.fastLeave = r.u8(); break
      case IFLA_BRPORT_LEARNING: p.learning = r.u8(); break
      case IFLA_BRPORT_UNICAST_FLOOD: p.unicastFlood = r.u8(); break
      case IFLA_BRPORT_PROXYARP: p.proxyarp = r.u8(); break
      case IFLA_BRPORT_LEARNING_SYNC: p.learningSync = r.u8(); break
      case IFLA_BRPORT_PROXYARP_WIFI: p.proxyarpWifi = r.u8(); break
      case IFLA_BRPORT_ROOT_ID: p.rootId = decodeBridgeId(r); break
      case IFLA_BRPORT_BRIDGE_ID: p.bridgeId = decodeBridgeId(r); break
      case IFLA_BRPORT_DESIGNATED_PORT: p.designatedPort = r.u16(); break
      case IFLA_BRPORT_DESIGNATED_COST: p.designatedCost = r.u16(); break
      case IFLA_BRPORT_ID: p.id = r.u16(); break
      case IFLA_BRPORT_NO: p.no = r.u16(); break
      case IFLA_BRPORT_TOPOLOGY_CHANGE_ACK: p.topologyChangeAck = r.u8(); break
      case IFLA_BRPORT_CONFIG_PENDING: p.configPending = r.u8(); break
      case IFLA_BRPORT_MESSAGE_AGE_TIMER: p.messageAgeTimer = u64Number(r); break
      case IFLA_BRPORT_FORWARD_DELAY_TIMER: p.forwardDelayTimer = u64Number(r); break
      case IFLA_BRPORT_HOLD_TIMER: p.holdTimer = u64Number(r); break
      case IFLA_BRPORT_FLUSH: p.flush = true; break
      case IFLA_BRPORT_MULTICAST_ROUTER: p.multicastRouter = r.u8(); break
      case IFLA_BRPORT_MCAST_FLOOD: p.mcastFlood = r.u8(); break
      case IFLA_BRPORT_MCAST_TO_UCAST: p.mcastToUcast = r.u8(); break
      case IFLA_BRPORT_VLAN_TUNNEL: p.vlanTunnel = r.u8(); break
      case IFLA_BRPORT_BCAST_FLOOD: p.bcastFlood = r.u8(); break
      case IFLA_BRPORT_GROUP_FWD_MASK: p.groupFwdMask = r.u16(); break
      case IFLA_BRPORT_NEIGH_SUPPRESS: p.neighSuppress = r.u8(); break
      case IFLA_BRPORT_ISOLATED: p.isolated = r.u8(); break
      case IFLA_BRPORT_BACKUP_PORT: p.backupPort = r.u32(); break
      case IFLA_BRPORT_MRP_RING_OPEN: p.mrpRingOpen = r.u8(); break
      case IFLA_BRPORT_MRP_IN_OPEN: p.mrpInOpen = r.u8(); break
      case IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT: p.mcastEhtHostsLimit = r.u32(); break
      case IFLA_BRPORT_MCAST_EHT_HOSTS_CNT: p.mcastEhtHostsCnt = r.u32(); break
      case IFLA_BRPORT_LOCKED: p.locked = r.u8(); break
      default: keepUnknown(p, r)
    }
  }
  if (order !== undefined) p.order = order
  return p
}

// iproute2's order (bridge/link.c), so `bridge link set` requests match byte for byte.
const CANONICAL = [
  IFLA_BRPORT_GUARD, IFLA_BRPORT_MODE, IFLA_BRPORT_FAST_LEAVE, IFLA_BRPORT_PROTECT, IFLA_BRPORT_UNICAST_FLOOD,
  IFLA_BRPORT_MCAST_FLOOD, IFLA_BRPORT_BCAST_FLOOD, IFLA_BRPORT_MCAST_TO_UCAST, IFLA_BRPORT_LEARNING,
  IFLA_BRPORT_LEARNING_SYNC, IFLA_BRPORT_COST, IFLA_BRPORT_PRIORITY, IFLA_BRPORT_STATE, IFLA_BRPORT_PROXYARP,
  IFLA_BRPORT_PROXYARP_WIFI, IFLA_BRPORT_MULTICAST_ROUTER, IFLA_BRPORT_NEIGH_SUPPRESS, IFLA_BRPORT_VLAN_TUNNEL,
  IFLA_BRPORT_ISOLATED, IFLA_BRPORT_BACKUP_PORT, IFLA_BRPORT_LOCKED, IFLA_BRPORT_GROUP_FWD_MASK,
  IFLA_BRPORT_MRP_RING_OPEN, IFLA_BRPORT_MRP_IN_OPEN, IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT, IFLA_BRPORT_FLUSH,
  // Read-only (the kernel reports them); encoded for round trips.
  IFLA_BRPORT_ROOT_ID, IFLA_BRPORT_BRIDGE_ID, IFLA_BRPORT_DESIGNATED_PORT, IFLA_BRPORT_DESIGNATED_COST,
  IFLA_BRPORT_ID, IFLA_BRPORT_NO, IFLA_BRPORT_TOPOLOGY_CHANGE_ACK, IFLA_BRPORT_CONFIG_PENDING,
  IFLA_BRPORT_MESSAGE_AGE_TIMER, IFLA_BRPORT_FORWARD_DELAY_TIMER, IFLA_BRPORT_HOLD_TIMER, IFLA_BRPORT_MCAST_EHT_HOSTS_CNT
] as const

function emit (w: NetlinkWriter, p: BridgePortAttributes, t: number): boolean {
  switch (t & 0x3fff) {
    case IFLA_BRPORT_STATE: if (p.state === undefined) return false; w.u8(t, p.state); return true
    case IFLA_BRPORT_PRIORITY: if (p.priority === undefined) return false; w.u16(t, p.priority); return true
    case IFLA_BRPORT_COST: if (p.cost === undefined) return false; w.u32(t, p.cost); return true
    case IFLA_BRPORT_MODE: if (p.mode === undefined) return false; w.u8(t, p.mode); return true
    case IFLA_BRPORT_GUARD: if (p.guard === undefined) return false; w.u8(t, p.guard); return true
    case IFLA_BRPORT_PROTECT: if (p.protect === undefined) return false; w.u8(t, p.protect); return true
    case IFLA_BRPORT_FAST_LEAVE: if (p.fastLeave === undefined) return false; w.u8(t, p.fastLeave); return true
    case IFLA_BRPORT_LEARNING: if (p.learning === undefined) return false; w.u8(t, p.learning); return true
    case IFLA_BRPORT_UNICAST_FLOOD: if (p.unicastFlood === undefined) return false; w.u8(t, p.unicastFlood); return true
    case IFLA_BRPORT_PROXYARP: if (p.proxyarp === undefined) return false; w.u8(t, p.proxyarp); return true
    case IFLA_BRPORT_LEARNING_SYNC: if (p.learningSync === undefined) return false; w.u8(t, p.learningSync); return true
    case IFLA_BRPORT_PROXYARP_WIFI: if (p.proxyarpWifi === undefined) return false; w.u8(t, p.proxyarpWifi); return true
    case IFLA_BRPORT_ROOT_ID: if (p.rootId === undefined) return false; encodeBridgeId(w, t, p.rootId); return true
    case IFLA_BRPORT_BRIDGE_ID: if (p.bridgeId === undefined) return false; encodeBridgeId(w, t, p.bridgeId); return true
    case IFLA_BRPORT_DESIGNATED_PORT: if (p.designatedPort === undefined) return false; w.u16(t, p.designatedPort); return true
    case IFLA_BRPORT_DESIGNATED_COST: if (p.designatedCost === undefined) return false; w.u16(t, p.designatedCost); return true
    case IFLA_BRPORT_ID: if (p.id === undefined) return false; w.u16(t, p.id); return true
    case IFLA_BRPORT_NO: if (p.no === undefined) return false; w.u16(t, p.no); return true
    case IFLA_BRPORT_TOPOLOGY_CHANGE_ACK: if (p.topologyChangeAck === undefined) return false; w.u8(t, p.topologyChangeAck); return true
    case IFLA_BRPORT_CONFIG_PENDING: if (p.configPending === undefined) return false; w.u8(t, p.configPending); return true
    case IFLA_BRPORT_MESSAGE_AGE_TIMER: if (p.messageAgeTimer === undefined) return false; w.u64(t, p.messageAgeTimer); return true
    case IFLA_BRPORT_FORWARD_DELAY_TIMER: if (p.forwardDelayTimer === undefined) return false; w.u64(t, p.forwardDelayTimer); return true
    case IFLA_BRPORT_HOLD_TIMER: if (p.holdTimer === undefined) return false; w.u64(t, p.holdTimer); return true
    case IFLA_BRPORT_FLUSH: if (p.flush !== true) return false; w.flag(t); return true
    case IFLA_BRPORT_MULTICAST_ROUTER: if (p.multicastRouter === undefined) return false; w.u8(t, p.multicastRouter); return true
    case IFLA_BRPORT_MCAST_FLOOD: if (p.mcastFlood === undefined) return false; w.u8(t, p.mcastFlood); return true
    case IFLA_BRPORT_MCAST_TO_UCAST: if (p.mcastToUcast === undefined) return false; w.u8(t, p.mcastToUcast); return true
    case IFLA_BRPORT_VLAN_TUNNEL: if (p.vlanTunnel === undefined) return false; w.u8(t, p.vlanTunnel); return true
    case IFLA_BRPORT_BCAST_FLOOD: if (p.bcastFlood === undefined) return false; w.u8(t, p.bcastFlood); return true
    case IFLA_BRPORT_GROUP_FWD_MASK: if (p.groupFwdMask === undefined) return false; w.u16(t, p.groupFwdMask); return true
    case IFLA_BRPORT_NEIGH_SUPPRESS: if (p.neighSuppress === undefined) return false; w.u8(t, p.neighSuppress); return true
    case IFLA_BRPORT_ISOLATED: if (p.isolated === undefined) return false; w.u8(t, p.isolated); return true
    case IFLA_BRPORT_BACKUP_PORT: if (p.backupPort === undefined) return false; w.u32(t, p.backupPort); return true
    case IFLA_BRPORT_MRP_RING_OPEN: if (p.mrpRingOpen === undefined) return false; w.u8(t, p.mrpRingOpen); return true
    case IFLA_BRPORT_MRP_IN_OPEN: if (p.mrpInOpen === undefined) return false; w.u8(t, p.mrpInOpen); return true
    case IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT: if (p.mcastEhtHostsLimit === undefined) return false; w.u32(t, p.mcastEhtHostsLimit); return true
    case IFLA_BRPORT_MCAST_EHT_HOSTS_CNT: if (p.mcastEhtHostsCnt === undefined) return false; w.u32(t, p.mcastEhtHostsCnt); return true
    case IFLA_BRPORT_LOCKED: if (p.locked === undefined) return false; w.u8(t, p.locked); return true
    default: return false
  }
}

/** Writes the IFLA_BRPORT_* attributes (the caller opens the nest). */
export function encodeBridgePort (w: NetlinkWriter, p: BridgePortAttributes): void {
  encodeAttributeSet(w, p, CANONICAL, emit)
}

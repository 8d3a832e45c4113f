// The "bridge" link kind: IFLA_BR_* inside IFLA_INFO_DATA (linux/if_link.h).
import { AttributeReader, type NetlinkWriter } from '../../attributes.js'
import { NetlinkDecodeError } from '../../errors.js'
import { formatMAC, parseMAC } from '../../addr.js'
import { type AttributeSet, encodeAttributeSet, keepUnknown, u64Number } from './fields.js'
import type { LinkKindDriver } from './registry.js'

export const IFLA_BR_FORWARD_DELAY = 1
export const IFLA_BR_HELLO_TIME = 2
export const IFLA_BR_MAX_AGE = 3
export const IFLA_BR_AGEING_TIME = 4
export const IFLA_BR_STP_STATE = 5
export const IFLA_BR_PRIORITY = 6
export const IFLA_BR_VLAN_FILTERING = 7
export const IFLA_BR_VLAN_PROTOCOL = 8
export const IFLA_BR_GROUP_FWD_MASK = 9
export const IFLA_BR_ROOT_ID = 10
export const IFLA_BR_BRIDGE_ID = 11
export const IFLA_BR_ROOT_PORT = 12
export const IFLA_BR_ROOT_PATH_COST = 13
export const IFLA_BR_TOPOLOGY_CHANGE = 14
export const IFLA_BR_TOPOLOGY_CHANGE_DETECTED = 15
export const IFLA_BR_HELLO_TIMER = 16
export const IFLA_BR_TCN_TIMER = 17
export const IFLA_BR_TOPOLOGY_CHANGE_TIMER = 18
export const IFLA_BR_GC_TIMER = 19
export const IFLA_BR_GROUP_ADDR = 20
export const IFLA_BR_FDB_FLUSH = 21
export const IFLA_BR_MCAST_ROUTER = 22
export const IFLA_BR_MCAST_SNOOPING = 23
export const IFLA_BR_MCAST_QUERY_USE_IFADDR = 24
export const IFLA_BR_MCAST_QUERIER = 25
export const IFLA_BR_MCAST_HASH_ELASTICITY = 26
export const IFLA_BR_MCAST_HASH_MAX = 27
export const IFLA_BR_MCAST_LAST_MEMBER_CNT = 28
export const IFLA_BR_MCAST_STARTUP_QUERY_CNT = 29
export const IFLA_BR_MCAST_LAST_MEMBER_INTVL = 30
export const IFLA_BR_MCAST_MEMBERSHIP_INTVL = 31
export const IFLA_BR_MCAST_QUERIER_INTVL = 32
export const IFLA_BR_MCAST_QUERY_INTVL = 33
export const IFLA_BR_MCAST_QUERY_RESPONSE_INTVL = 34
export const IFLA_BR_MCAST_STARTUP_QUERY_INTVL = 35
export const IFLA_BR_NF_CALL_IPTABLES = 36
export const IFLA_BR_NF_CALL_IP6TABLES = 37
export const IFLA_BR_NF_CALL_ARPTABLES = 38
export const IFLA_BR_VLAN_DEFAULT_PVID = 39
export const IFLA_BR_PAD = 40
export const IFLA_BR_VLAN_STATS_ENABLED = 41
export const IFLA_BR_MCAST_STATS_ENABLED = 42
export const IFLA_BR_MCAST_IGMP_VERSION = 43
export const IFLA_BR_MCAST_MLD_VERSION = 44
export const IFLA_BR_VLAN_STATS_PER_PORT = 45
export const IFLA_BR_MULTI_BOOLOPT = 46
export const IFLA_BR_MCAST_QUERIER_STATE = 47

/** Ethertypes for IFLA_BR_VLAN_PROTOCOL (big-endian on the wire). */
export const ETH_P_8021Q = 0x8100
export const ETH_P_8021AD = 0x88a8

/** IFLA_BR_* values as the kernel has them; times in centiseconds (USER_HZ). */
export interface BridgeData extends AttributeSet {
  forwardDelay?: number
  helloTime?: number
  maxAge?: number
  ageingTime?: number
  /** 0 off, 1 kernel STP, 2 user STP (u32) */
  stpState?: number
  /** u16 */
  priority?: number
  /** u8; this kernel refuses 1 (no CONFIG_BRIDGE_VLAN_FILTERING) */
  vlanFiltering?: number
  /** ETH_P_8021Q or ETH_P_8021AD (be16) */
  vlanProtocol?: number
  groupFwdMask?: number
  /** "8000.aa:bb:cc:dd:ee:ff" (struct ifla_bridge_id: priority, then MAC) */
  rootId?: string
  bridgeId?: string
  rootPort?: number
  rootPathCost?: number
  topologyChange?: number
  topologyChangeDetected?: number
  helloTimer?: number
  tcnTimer?: number
  topologyChangeTimer?: number
  gcTimer?: number
  /** MAC of the STP group address */
  groupAddr?: string
  /** Flag attribute: flush the bridge's FDB. */
  fdbFlush?: boolean
  mcastRouter?: number
  mcastSnooping?: number
  mcastQueryUseIfaddr?: number
  mcastQuerier?: number
  mcastHashElasticity?: number
  mcastHashMax?: number
  mcastLastMemberCnt?: number
  mcastStartupQueryCnt?: number
  mcastLastMemberIntvl?: number
  mcastMembershipIntvl?: number
  mcastQuerierIntvl?: number
  mcastQueryIntvl?: number
  mcastQueryResponseIntvl?: number
  mcastStartupQueryIntvl?: number
  nfCallIptables?: number
  nfCallIp6tables?: number
  nfCallArptables?: number
  vlanDefaultPvid?: number
  vlanStatsEnabled?: number
  mcastStatsEnabled?: number
  mcastIgmpVersion?: number
  mcastMldVersion?: number
  vlanStatsPerPort?: number
  /** struct br_boolopt_multi */
  multiBoolopt?: { optval: number, optmask: number }
}

/** struct ifla_bridge_id → "8000.aa:bb:cc:dd:ee:ff" (as iproute2 shows it, zero-padded). */
export function decodeBridgeId (r: AttributeReader): string {
  if (r.length < 8) throw new NetlinkDecodeError(`bridge id attribute type ${r.type} has ${r.length} bytes, needs 8`, r.offset)
  const b = r.buf; const o = r.offset
  return ((b[o]! << 8) | b[o + 1]!).toString(16).padStart(4, '0') + '.' + formatMAC(b, o + 2, 6)
}

export function encodeBridgeId (w: NetlinkWriter, type: number, id: string): void {
  const m = /^([0-9a-fA-F]{1,4})\.(.+)$/.exec(id)
  const mac = m !== null ? parseMAC(m[2]!) : undefined
  if (m === null || mac === undefined || mac.length !== 6) throw new TypeError(`not a bridge id ("8000.aa:bb:cc:dd:ee:ff"): ${JSON.stringify(id)}`)
  const prio = parseInt(m[1]!, 16)
  const out = new Uint8Array(8)
  out[0] = prio >> 8; out[1] = prio & 0xff
  out.set(mac, 2)
  w.attr(type, out)
}

function decode (r: AttributeReader, keepOrder = false): BridgeData {
  const d: BridgeData = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_BR_FORWARD_DELAY: d.forwardDelay = r.u32(); break
      case IFLA_BR_HELLO_TIME: d.helloTime = r.u32(); break
      case IFLA_BR_MAX_AGE: d.maxAge = r.u32(); break
      case IFLA_BR_AGEING_TIME: d.ageingTime = r.u32(); break
      case IFLA_BR_STP_STATE: d.stpState = r.u32(); break
      case IFLA_BR_PRIORITY: d.priority = r.u16(); break
      case IFLA_BR_VLAN_FILTERING: d.vlanFiltering = r.u8(); break
      case IFLA_BR_VLAN_PROTOCOL: d.vlanProtocol = r.be16(); break
      case IFLA_BR_GROUP_FWD_MASK: d.groupFwdMask = r.u16(); break
      case IFLA_BR_ROOT_ID: d.rootId = decodeBridgeId(r); break
      case IFLA_BR_BRIDGE_ID: d.bridgeId = decodeBridgeId(r); break
      case IFLA_BR_ROOT_PORT: d.rootPort = r.u16(); break
      case IFLA_BR_ROOT_PATH_COST: d.rootPathCost = r.u32(); break
      case IFLA_BR_TOPOLOGY_CHANGE: d.topologyChange = r.u8(); break
      case IFLA_BR_TOPOLOGY_CHANGE_DETECTED: d.topologyChangeDetected = r.u8(); break
      case IFLA_BR_HELLO_TIMER: d.helloTimer = u64Number(r); break
      case IFLA_BR_TCN_TIMER: d.tcnTimer = u64Number(r); break
      case IFLA_BR_TOPOLOGY_CHANGE_TIMER: d.topologyChangeTimer = u64Number(r); break
      case IFLA_BR_GC_TIMER: d.gcTimer = u64Number(r); break
      case IFLA_BR_GROUP_ADDR:
        if (r.length !== 6) throw new NetlinkDecodeError(`IFLA_BR_GROUP_ADDR has ${r.length} bytes, a MAC needs 6`, r.offset)
        d.groupAddr = r.mac(); break
      case IFLA_BR_FDB_FLUSH: d.fdbFlush = true; break
      case IFLA_BR_MCAST_ROUTER: d.mcastRouter = r.u8(); break
      case IFLA_BR_MCAST_SNOOPING: d.mcastSnooping = r.u8(); break
      case IFLA_BR_MCAST_QUERY_USE_IFADDR: d.mcastQueryUseIfaddr = r.u8(); break
      case IFLA_BR_MCAST_QUERIER: d.mcastQuerier = r.u8(); break
      case IFLA_BR_MCAST_HASH_ELASTICITY: d.mcastHashElasticity = r.u32(); break
      case IFLA_BR_MCAST_HASH_MAX: d.mcastHashMax = r.u32(); break
      case IFLA_BR_MCAST_LAST_MEMBER_CNT: d.mcastLastMemberCnt = r.u32(); break
      case IFLA_BR_MCAST_STARTUP_QUERY_CNT: d.mcastStartupQueryCnt = r.u32(); break
      case IFLA_BR_MCAST_LAST_MEMBER_INTVL: d.mcastLastMemberIntvl = u64Number(r); break
      case IFLA_BR_MCAST_MEMBERSHIP_INTVL: d.mcastMembershipIntvl = u64Number(r); break
      case IFLA_BR_MCAST_QUERIER_INTVL: d.mcastQuerierIntvl = u64Number(r); break
      case IFLA_BR_MCAST_QUERY_INTVL: d.mcastQueryIntvl = u64Number(r); break
      case IFLA_BR_MCAST_QUERY_RESPONSE_INTVL: d.mcastQueryResponseIntvl = u64Number(r); break
      case IFLA_BR_MCAST_STARTUP_QUERY_INTVL: d.mcastStartupQueryIntvl = u64Number(r); break
      case IFLA_BR_NF_CALL_IPTABLES: d.nfCallIptables = r.u8(); break
      case IFLA_BR_NF_CALL_IP6TABLES: d.nfCallIp6tables = r.u8(); break
      case IFLA_BR_NF_CALL_ARPTABLES: d.nfCallArptables = r.u8(); break
      case IFLA_BR_VLAN_DEFAULT_PVID: d.vlanDefaultPvid = r.u16(); break
      case IFLA_BR_VLAN_STATS_ENABLED: d.vlanStatsEnabled = r.u8(); break
      case IFLA_BR_MCAST_STATS_ENABLED: d.mcastStatsEnabled = r.u8(); break
      case IFLA_BR_MCAST_IGMP_VERSION: d.mcastIgmpVersion = r.u8(); break
      case IFLA_BR_MCAST_MLD_VERSION: d.mcastMldVersion = r.u8(); break
      case IFLA_BR_VLAN_STATS_PER_PORT: d.vlanStatsPerPort = r.u8(); break
      case IFLA_BR_MULTI_BOOLOPT: {
        if (r.length < 8) throw new NetlinkDecodeError(`IFLA_BR_MULTI_BOOLOPT has ${r.length} bytes, needs 8`, r.offset)
        const optval = r.u32()
        const b = r.buf; const o = r.offset + 4
        d.multiBoolopt = { optval, optmask: (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0 }
        break
      }
      default: keepUnknown(d, r)
    }
  }
  if (order !== undefined) d.order = order
  return d
}

const CANONICAL = [
  IFLA_BR_FORWARD_DELAY, IFLA_BR_HELLO_TIME, IFLA_BR_MAX_AGE, IFLA_BR_AGEING_TIME, IFLA_BR_STP_STATE,
  IFLA_BR_PRIORITY, IFLA_BR_VLAN_FILTERING, IFLA_BR_VLAN_PROTOCOL, IFLA_BR_GROUP_FWD_MASK, IFLA_BR_ROOT_ID,
  IFLA_BR_BRIDGE_ID, IFLA_BR_ROOT_PORT, IFLA_BR_ROOT_PATH_COST, IFLA_BR_TOPOLOGY_CHANGE,
  IFLA_BR_TOPOLOGY_CHANGE_DETECTED, IFLA_BR_HELLO_TIMER, IFLA_BR_TCN_TIMER, IFLA_BR_TOPOLOGY_CHANGE_TIMER,
  IFLA_BR_GC_TIMER, IFLA_BR_GROUP_ADDR, IFLA_BR_FDB_FLUSH, IFLA_BR_MCAST_ROUTER, IFLA_BR_MCAST_SNOOPING,
  IFLA_BR_MCAST_QUERY_USE_IFADDR, IFLA_BR_MCAST_QUERIER, IFLA_BR_MCAST_HASH_ELASTICITY, IFLA_BR_MCAST_HASH_MAX,
  IFLA_BR_MCAST_LAST_MEMBER_CNT, IFLA_BR_MCAST_STARTUP_QUERY_CNT, IFLA_BR_MCAST_LAST_MEMBER_INTVL,
  IFLA_BR_MCAST_MEMBERSHIP_INTVL, IFLA_BR_MCAST_QUERIER_INTVL, IFLA_BR_MCAST_QUERY_INTVL,
  IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, IFLA_BR_MCAST_STARTUP_QUERY_INTVL, IFLA_BR_NF_CALL_IPTABLES,
  IFLA_BR_NF_CALL_IP6TABLES, IFLA_BR_NF_CALL_ARPTABLES, IFLA_BR_VLAN_DEFAULT_PVID, IFLA_BR_VLAN_STATS_ENABLED,
  IFLA_BR_MCAST_STATS_ENABLED, IFLA_BR_MCAST_IGMP_VERSION, IFLA_BR_MCAST_MLD_VERSION, IFLA_BR_VLAN_STATS_PER_PORT,
  IFLA_BR_MULTI_BOOLOPT
] as const

function emit (w: NetlinkWriter, d: BridgeData, t: number): boolean {
  switch (t & 0x3fff) {
    case IFLA_BR_FORWARD_DELAY: if (d.forwardDelay === undefined) return false; w.u32(t, d.forwardDelay); return true
    case IFLA_BR_HELLO_TIME: if (d.helloTime === undefined) return false; w.u32(t, d.helloTime); return true
    case IFLA_BR_MAX_AGE: if (d.maxAge === undefined) return false; w.u32(t, d.maxAge); return true
    case IFLA_BR_AGEING_TIME: if (d.ageingTime === undefined) return false; w.u32(t, d.ageingTime); return true
    case IFLA_BR_STP_STATE: if (d.stpState === undefined) return false; w.u32(t, d.stpState); return true
    case IFLA_BR_PRIORITY: if (d.priority === undefined) return false; w.u16(t, d.priority); return true
    case IFLA_BR_VLAN_FILTERING: if (d.vlanFiltering === undefined) return false; w.u8(t, d.vlanFiltering); return true
    case IFLA_BR_VLAN_PROTOCOL: if (d.vlanProtocol === undefined) return false; w.be16(t, d.vlanProtocol); return true
    case IFLA_BR_GROUP_FWD_MASK: if (d.groupFwdMask === undefined) return false; w.u16(t, d.groupFwdMask); return true
    case IFLA_BR_ROOT_ID: if (d.rootId === undefined) return false; encodeBridgeId(w, t, d.rootId); return true
    case IFLA_BR_BRIDGE_ID: if (d.bridgeId === undefined) return false; encodeBridgeId(w, t, d.bridgeId); return true
    case IFLA_BR_ROOT_PORT: if (d.rootPort === undefined) return false; w.u16(t, d.rootPort); return true
    case IFLA_BR_ROOT_PATH_COST: if (d.rootPathCost === undefined) return false; w.u32(t, d.rootPathCost); return true
    case IFLA_BR_TOPOLOGY_CHANGE: if (d.topologyChange === undefined) return false; w.u8(t, d.topologyChange); return true
    case IFLA_BR_TOPOLOGY_CHANGE_DETECTED: if (d.topologyChangeDetected === undefined) return false; w.u8(t, d.topologyChangeDetected); return true
    case IFLA_BR_HELLO_TIMER: if (d.helloTimer === undefined) return false; w.u64(t, d.helloTimer); return true
    case IFLA_BR_TCN_TIMER: if (d.tcnTimer === undefined) return false; w.u64(t, d.tcnTimer); return true
    case IFLA_BR_TOPOLOGY_CHANGE_TIMER: if (d.topologyChangeTimer === undefined) return false; w.u64(t, d.topologyChangeTimer); return true
    case IFLA_BR_GC_TIMER: if (d.gcTimer === undefined) return false; w.u64(t, d.gcTimer); return true
    case IFLA_BR_GROUP_ADDR: if (d.groupAddr === undefined) return false; w.mac(t, d.groupAddr); return true
    case IFLA_BR_FDB_FLUSH: if (d.fdbFlush !== true) return false; w.flag(t); return true
    case IFLA_BR_MCAST_ROUTER: if (d.mcastRouter === undefined) return false; w.u8(t, d.mcastRouter); return true
    case IFLA_BR_MCAST_SNOOPING: if (d.mcastSnooping === undefined) return false; w.u8(t, d.mcastSnooping); return true
    case IFLA_BR_MCAST_QUERY_USE_IFADDR: if (d.mcastQueryUseIfaddr === undefined) return false; w.u8(t, d.mcastQueryUseIfaddr); return true
    case IFLA_BR_MCAST_QUERIER: if (d.mcastQuerier === undefined) return false; w.u8(t, d.mcastQuerier); return true
    case IFLA_BR_MCAST_HASH_ELASTICITY: if (d.mcastHashElasticity === undefined) return false; w.u32(t, d.mcastHashElasticity); return true
    case IFLA_BR_MCAST_HASH_MAX: if (d.mcastHashMax === undefined) return false; w.u32(t, d.mcastHashMax); return true
    case IFLA_BR_MCAST_LAST_MEMBER_CNT: if (d.mcastLastMemberCnt === undefined) return false; w.u32(t, d.mcastLastMemberCnt); return true
    case IFLA_BR_MCAST_STARTUP_QUERY_CNT: if (d.mcastStartupQueryCnt === undefined) return false; w.u32(t, d.mcastStartupQueryCnt); return true
    case IFLA_BR_MCAST_LAST_MEMBER_INTVL: if (d.mcastLastMemberIntvl === undefined) return false; w.u64(t, d.mcastLastMemberIntvl); return true
    case IFLA_BR_MCAST_MEMBERSHIP_INTVL: if (d.mcastMembershipIntvl === undefined) return false; w.u64(t, d.mcastMembershipIntvl); return true
    case IFLA_BR_MCAST_QUERIER_INTVL: if (d.mcastQuerierIntvl === undefined) return false; w.u64(t, d.mcastQuerierIntvl); return true
    case IFLA_BR_MCAST_QUERY_INTVL: if (d.mcastQueryIntvl === undefined) return false; w.u64(t, d.mcastQueryIntvl); return true
    case IFLA_BR_MCAST_QUERY_RESPONSE_INTVL: if (d.mcastQueryResponseIntvl === undefined) return false; w.u64(t, d.mcastQueryResponseIntvl); return true
    case IFLA_BR_MCAST_STARTUP_QUERY_INTVL: if (d.mcastStartupQueryIntvl === undefined) return false; w.u64(t, d.mcastStartupQueryIntvl); return true
    case IFLA_BR_NF_CALL_IPTABLES: if (d.nfCallIptables === undefined) return false; w.u8(t, d.nfCallIptables); return true
    case IFLA_BR_NF_CALL_IP6TABLES: if (d.nfCallIp6tables === undefined) return false; w.u8(t, d.nfCallIp6tables); return true
    case IFLA_BR_NF_CALL_ARPTABLES: if (d.nfCallArptables === undefined) return false; w.u8(t, d.nfCallArptables); return true
    case IFLA_BR_VLAN_DEFAULT_PVID: if (d.vlanDefaultPvid === undefined) return false; w.u16(t, d.vlanDefaultPvid); return true
    case IFLA_BR_VLAN_STATS_ENABLED: if (d.vlanStatsEnabled === undefined) return false; w.u8(t, d.vlanStatsEnabled); return true
    case IFLA_BR_MCAST_STATS_ENABLED: if (d.mcastStatsEnabled === undefined) return false; w.u8(t, d.mcastStatsEnabled); return true
    case IFLA_BR_MCAST_IGMP_VERSION: if (d.mcastIgmpVersion === undefined) return false; w.u8(t, d.mcastIgmpVersion); return true
    case IFLA_BR_MCAST_MLD_VERSION: if (d.mcastMldVersion === undefined) return false; w.u8(t, d.mcastMldVersion); return true
    case IFLA_BR_VLAN_STATS_PER_PORT: if (d.vlanStatsPerPort === undefined) return false; w.u8(t, d.vlanStatsPerPort); return true
    case IFLA_BR_MULTI_BOOLOPT: {
      if (d.multiBoolopt === undefined) return false
      const b = new Uint8Array(8); const dv = new DataView(b.buffer)
      dv.setUint32(0, d.multiBoolopt.optval, true); dv.setUint32(4, d.multiBoolopt.optmask, true)
      w.attr(t, b); return true
    }
    default: return false
  }
}

export const bridgeKind: LinkKindDriver<BridgeData> = {
  kind: 'bridge',
  encode (w: NetlinkWriter, data: BridgeData): void { encodeAttributeSet(w, data, CANONICAL, emit) },
  decode
}

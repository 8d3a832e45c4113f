// The "bridge" link kind: IFLA_BR_* inside IFLA_INFO_DATA (linux/if_link.h).
import type { AttributeReader, NetlinkWriter } from '../../attributes.js'
import { NetlinkDecodeError } from '../../errors.js'
import { formatMAC, parseMAC } from '../../addr.js'
import { type AttributeSet, type Codec, FieldTable, be16, flag, u16, u32, u32Pair, u64, u8 } from '../attribute-set.js'
import { type LinkContext, type LinkKindDriver, kindDriver } from './driver.js'

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

/** struct ifla_bridge_id as "8000.aa:bb:cc:dd:ee:ff". */
export const bridgeId: Codec<string> = { read: decodeBridgeId, write: (w, t, v) => { encodeBridgeId(w, t, v); return true } }

const groupAddr: Codec<string> = {
  read: r => {
    if (r.length !== 6) throw new NetlinkDecodeError(`IFLA_BR_GROUP_ADDR has ${r.length} bytes, a MAC needs 6`, r.offset)
    return r.mac()
  },
  write: (w, t, v) => { w.mac(t, v); return true }
}

export const bridgeKind: LinkKindDriver<BridgeData> = kindDriver('bridge', new FieldTable<BridgeData, LinkContext>([
  { type: IFLA_BR_FORWARD_DELAY, key: 'forwardDelay', codec: u32 },
  { type: IFLA_BR_HELLO_TIME, key: 'helloTime', codec: u32 },
  { type: IFLA_BR_MAX_AGE, key: 'maxAge', codec: u32 },
  { type: IFLA_BR_AGEING_TIME, key: 'ageingTime', codec: u32 },
  { type: IFLA_BR_STP_STATE, key: 'stpState', codec: u32 },
  { type: IFLA_BR_PRIORITY, key: 'priority', codec: u16 },
  { type: IFLA_BR_VLAN_FILTERING, key: 'vlanFiltering', codec: u8 },
  { type: IFLA_BR_VLAN_PROTOCOL, key: 'vlanProtocol', codec: be16 },
  { type: IFLA_BR_GROUP_FWD_MASK, key: 'groupFwdMask', codec: u16 },
  { type: IFLA_BR_ROOT_ID, key: 'rootId', codec: bridgeId },
  { type: IFLA_BR_BRIDGE_ID, key: 'bridgeId', codec: bridgeId },
  { type: IFLA_BR_ROOT_PORT, key: 'rootPort', codec: u16 },
  { type: IFLA_BR_ROOT_PATH_COST, key: 'rootPathCost', codec: u32 },
  { type: IFLA_BR_TOPOLOGY_CHANGE, key: 'topologyChange', codec: u8 },
  { type: IFLA_BR_TOPOLOGY_CHANGE_DETECTED, key: 'topologyChangeDetected', codec: u8 },
  { type: IFLA_BR_HELLO_TIMER, key: 'helloTimer', codec: u64 },
  { type: IFLA_BR_TCN_TIMER, key: 'tcnTimer', codec: u64 },
  { type: IFLA_BR_TOPOLOGY_CHANGE_TIMER, key: 'topologyChangeTimer', codec: u64 },
  { type: IFLA_BR_GC_TIMER, key: 'gcTimer', codec: u64 },
  { type: IFLA_BR_GROUP_ADDR, key: 'groupAddr', codec: groupAddr },
  { type: IFLA_BR_FDB_FLUSH, key: 'fdbFlush', codec: flag },
  { type: IFLA_BR_MCAST_ROUTER, key: 'mcastRouter', codec: u8 },
  { type: IFLA_BR_MCAST_SNOOPING, key: 'mcastSnooping', codec: u8 },
  { type: IFLA_BR_MCAST_QUERY_USE_IFADDR, key: 'mcastQueryUseIfaddr', codec: u8 },
  { type: IFLA_BR_MCAST_QUERIER, key: 'mcastQuerier', codec: u8 },
  { type: IFLA_BR_MCAST_HASH_ELASTICITY, key: 'mcastHashElasticity', codec: u32 },
  { type: IFLA_BR_MCAST_HASH_MAX, key: 'mcastHashMax', codec: u32 },
  { type: IFLA_BR_MCAST_LAST_MEMBER_CNT, key: 'mcastLastMemberCnt', codec: u32 },
  { type: IFLA_BR_MCAST_STARTUP_QUERY_CNT, key: 'mcastStartupQueryCnt', codec: u32 },
  { type: IFLA_BR_MCAST_LAST_MEMBER_INTVL, key: 'mcastLastMemberIntvl', codec: u64 },
  { type: IFLA_BR_MCAST_MEMBERSHIP_INTVL, key: 'mcastMembershipIntvl', codec: u64 },
  { type: IFLA_BR_MCAST_QUERIER_INTVL, key: 'mcastQuerierIntvl', codec: u64 },
  { type: IFLA_BR_MCAST_QUERY_INTVL, key: 'mcastQueryIntvl', codec: u64 },
  { type: IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, key: 'mcastQueryResponseIntvl', codec: u64 },
  { type: IFLA_BR_MCAST_STARTUP_QUERY_INTVL, key: 'mcastStartupQueryIntvl', codec: u64 },
  { type: IFLA_BR_NF_CALL_IPTABLES, key: 'nfCallIptables', codec: u8 },
  { type: IFLA_BR_NF_CALL_IP6TABLES, key: 'nfCallIp6tables', codec: u8 },
  { type: IFLA_BR_NF_CALL_ARPTABLES, key: 'nfCallArptables', codec: u8 },
  { type: IFLA_BR_VLAN_DEFAULT_PVID, key: 'vlanDefaultPvid', codec: u16 },
  { type: IFLA_BR_VLAN_STATS_ENABLED, key: 'vlanStatsEnabled', codec: u8 },
  { type: IFLA_BR_MCAST_STATS_ENABLED, key: 'mcastStatsEnabled', codec: u8 },
  { type: IFLA_BR_MCAST_IGMP_VERSION, key: 'mcastIgmpVersion', codec: u8 },
  { type: IFLA_BR_MCAST_MLD_VERSION, key: 'mcastMldVersion', codec: u8 },
  { type: IFLA_BR_VLAN_STATS_PER_PORT, key: 'vlanStatsPerPort', codec: u8 },
  { type: IFLA_BR_MULTI_BOOLOPT, key: 'multiBoolopt', codec: u32Pair('IFLA_BR_MULTI_BOOLOPT', 'optval', 'optmask') }
]))

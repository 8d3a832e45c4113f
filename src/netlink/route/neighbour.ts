// RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH messages: struct ndmsg and the
// NDA_* attributes (linux/neighbour.h). The same messages carry ARP/NDP
// entries (AF_INET, AF_INET6) and bridge FDB entries (AF_BRIDGE). The codec
// only: the friendly API is in neighbours.ts.
import type { RawAttribute } from '../attributes.js'
import { parseMAC } from '../addr.js'
import { type Codec, FieldTable, be16, ip, raw, s32, u16, u32, u32Struct, u8 } from './attribute-set.js'
import { type MessageCodec, MessageHeader, headerMessageCodec } from './header.js'

export const NDA_UNSPEC = 0
export const NDA_DST = 1
export const NDA_LLADDR = 2
export const NDA_CACHEINFO = 3
export const NDA_PROBES = 4
export const NDA_VLAN = 5
export const NDA_PORT = 6
export const NDA_VNI = 7
export const NDA_IFINDEX = 8
export const NDA_MASTER = 9
export const NDA_LINK_NETNSID = 10
export const NDA_SRC_VNI = 11
export const NDA_PROTOCOL = 12
export const NDA_NH_ID = 13
export const NDA_FDB_EXT_ATTRS = 14
export const NDA_FLAGS_EXT = 15
export const NDA_NDM_STATE_MASK = 16
export const NDA_NDM_FLAGS_MASK = 17

// ndm_flags
export const NTF_USE = 1 << 0
export const NTF_SELF = 1 << 1
export const NTF_MASTER = 1 << 2
export const NTF_PROXY = 1 << 3
export const NTF_EXT_LEARNED = 1 << 4
export const NTF_OFFLOADED = 1 << 5
export const NTF_STICKY = 1 << 6
export const NTF_ROUTER = 1 << 7
// NDA_FLAGS_EXT
export const NTF_EXT_MANAGED = 1 << 0

// ndm_state
export const NUD_NONE = 0x00
export const NUD_INCOMPLETE = 0x01
export const NUD_REACHABLE = 0x02
export const NUD_STALE = 0x04
export const NUD_DELAY = 0x08
export const NUD_PROBE = 0x10
export const NUD_FAILED = 0x20
export const NUD_NOARP = 0x40
export const NUD_PERMANENT = 0x80

export const NDMSG_SIZE = 12

/** struct ndmsg, once: NeighbourMessage's header fields. */
const NDMSG = new MessageHeader<Omit<NeighbourMessage, 'attributes' | 'attributeOrder'>>('ndmsg', NDMSG_SIZE, [
  ['family', 0, 'u8'], ['index', 4, 's32'], ['state', 8, 'u16'], ['flags', 10, 'u8'], ['type', 11, 'u8']
])

/** NUD_* bit → name as iproute2 prints it. */
export const NUD_NAMES: Array<[number, string]> = [
  [NUD_INCOMPLETE, 'INCOMPLETE'], [NUD_REACHABLE, 'REACHABLE'], [NUD_STALE, 'STALE'], [NUD_DELAY, 'DELAY'],
  [NUD_PROBE, 'PROBE'], [NUD_FAILED, 'FAILED'], [NUD_NOARP, 'NOARP'], [NUD_PERMANENT, 'PERMANENT']
]

/** struct nda_cacheinfo: ages in clock ticks. */
export interface NeighbourCacheInfo {
  confirmed: number
  used: number
  updated: number
  refcnt: number
}

export interface NeighbourAttributes {
  /** NDA_DST: the IP address (ARP/NDP), or the remote VTEP of a VXLAN FDB entry. */
  dst?: string
  /** NDA_LLADDR: the link-layer address, "aa:bb:cc:dd:ee:ff". */
  lladdr?: string
  cacheInfo?: NeighbourCacheInfo
  probes?: number
  vlan?: number
  /** NDA_PORT: UDP port (network byte order on the wire). */
  port?: number
  vni?: number
  ifindex?: number
  master?: number
  linkNetnsId?: number
  srcVni?: number
  protocol?: number
  nhId?: number
  /** NDA_FDB_EXT_ATTRS kept whole (nested). */
  fdbExtAttributes?: RawAttribute
  flagsExt?: number
  stateMask?: number
  flagsMask?: number
  unknown?: RawAttribute[]
}

export interface NeighbourMessage {
  family: number
  index: number
  /** NUD_*. */
  state: number
  /** NTF_*. */
  flags: number
  /** ndm_type (RTN_*). */
  type: number
  attributes: NeighbourAttributes
  attributeOrder?: number[]
}

/** NDA_LLADDR: a link-layer address of any length ("" for none). */
const lladdr: Codec<string> = {
  read: r => r.mac(),
  write: (w, t, v) => {
    const b = v === '' ? new Uint8Array(0) : parseMAC(v)
    if (b === undefined) throw new TypeError(`NDA_LLADDR: not a link-layer address: ${JSON.stringify(v)}`)
    w.attr(t, b)
    return true
  }
}

// The order iproute2 sends: `ip neigh add DST lladdr MAC …`; `bridge fdb add MAC dev X dst D vlan V port P vni N via I`.
const FIELDS = new FieldTable<NeighbourAttributes>([
  { type: NDA_DST, key: 'dst', codec: ip('NDA_DST') },
  { type: NDA_LLADDR, key: 'lladdr', codec: lladdr },
  { type: NDA_VLAN, key: 'vlan', codec: u16 },
  { type: NDA_SRC_VNI, key: 'srcVni', codec: u32 },
  { type: NDA_NH_ID, key: 'nhId', codec: u32 },
  { type: NDA_PORT, key: 'port', codec: be16 },
  { type: NDA_VNI, key: 'vni', codec: u32 },
  { type: NDA_IFINDEX, key: 'ifindex', codec: u32 },
  { type: NDA_MASTER, key: 'master', codec: u32 },
  { type: NDA_PROTOCOL, key: 'protocol', codec: u8 },
  { type: NDA_FLAGS_EXT, key: 'flagsExt', codec: u32 },
  { type: NDA_PROBES, key: 'probes', codec: u32 },
  { type: NDA_CACHEINFO, key: 'cacheInfo', codec: u32Struct('NDA_CACHEINFO', 'nda_cacheinfo', ['confirmed', 'used', 'updated', 'refcnt']) },
  { type: NDA_LINK_NETNSID, key: 'linkNetnsId', codec: s32 },
  { type: NDA_FDB_EXT_ATTRS, key: 'fdbExtAttributes', codec: raw },
  { type: NDA_NDM_STATE_MASK, key: 'stateMask', codec: u16 },
  { type: NDA_NDM_FLAGS_MASK, key: 'flagsMask', codec: u8 }
])

/**
 * encodeNeighbourMessage(w, m) writes struct ndmsg and the attributes (not the nlmsghdr);
 * decodeNeighbourMessage(buf, start, end) reads them back from the payload after the nlmsghdr.
 */
export const { encode: encodeNeighbourMessage, decode: decodeNeighbourMessage }: MessageCodec<NeighbourMessage> = headerMessageCodec(NDMSG, FIELDS, () => undefined)

/** "REACHABLE", "PERMANENT", "NOARP|PERMANENT"…; "NONE" for 0. */
export function neighbourStateToString (state: number): string {
  const names: string[] = []
  let rest = state
  for (const [bit, name] of NUD_NAMES) if ((state & bit) !== 0) { names.push(name); rest &= ~bit }
  if (rest !== 0) names.push('0x' + rest.toString(16))
  return names.length > 0 ? names.join('|') : 'NONE'
}

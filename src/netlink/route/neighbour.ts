// RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH messages: struct ndmsg and the
// NDA_* attributes (linux/neighbour.h). The same messages carry ARP/NDP
// entries (AF_INET, AF_INET6) and bridge FDB entries (AF_BRIDGE). The codec
// only: the friendly API is in neighbours.ts.
import { AttributeReader, type NetlinkWriter, type RawAttribute } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { formatIP, formatMAC, parseIP, parseMAC } from '../addr.js'
import { writeAttributesInOrder } from './attribute-order.js'

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

// The order iproute2 sends: `ip neigh add DST lladdr MAC …`; `bridge fdb add MAC dev X dst D vlan V port P vni N via I`.
const CANONICAL_ORDER = [NDA_DST, NDA_LLADDR, NDA_VLAN, NDA_SRC_VNI, NDA_NH_ID, NDA_PORT, NDA_VNI, NDA_IFINDEX, NDA_MASTER,
  NDA_PROTOCOL, NDA_FLAGS_EXT, NDA_PROBES, NDA_CACHEINFO, NDA_LINK_NETNSID, NDA_FDB_EXT_ATTRS, NDA_NDM_STATE_MASK, NDA_NDM_FLAGS_MASK]

/** Writes struct ndmsg and the attributes (not the nlmsghdr). */
export function encodeNeighbourMessage (w: NetlinkWriter, m: NeighbourMessage): void {
  const off = w.reserve(NDMSG_SIZE)
  w.setU8(off, m.family)
  w.setS32(off + 4, m.index)
  w.setU16(off + 8, m.state)
  w.setU8(off + 10, m.flags)
  w.setU8(off + 11, m.type)
  const a = m.attributes
  writeAttributesInOrder(w, m.attributeOrder, CANONICAL_ORDER, (type) => {
    switch (type) {
      case NDA_DST: {
        if (a.dst === undefined) return false
        const b = parseIP(a.dst)
        if (b === undefined) throw new TypeError(`NDA_DST: not an IP address: ${JSON.stringify(a.dst)}`)
        w.attr(type, b)
        return true
      }
      case NDA_LLADDR: {
        if (a.lladdr === undefined) return false
        const b = a.lladdr === '' ? new Uint8Array(0) : parseMAC(a.lladdr)
        if (b === undefined) throw new TypeError(`NDA_LLADDR: not a link-layer address: ${JSON.stringify(a.lladdr)}`)
        w.attr(type, b)
        return true
      }
      case NDA_CACHEINFO: {
        const c = a.cacheInfo
        if (c === undefined) return false
        const b = Buffer.alloc(16)
        b.writeUInt32LE(c.confirmed >>> 0, 0)
        b.writeUInt32LE(c.used >>> 0, 4)
        b.writeUInt32LE(c.updated >>> 0, 8)
        b.writeUInt32LE(c.refcnt >>> 0, 12)
        w.attr(type, b)
        return true
      }
      case NDA_PROBES: if (a.probes === undefined) return false; w.u32(type, a.probes); return true
      case NDA_VLAN: if (a.vlan === undefined) return false; w.u16(type, a.vlan); return true
      case NDA_PORT: if (a.port === undefined) return false; w.be16(type, a.port); return true
      case NDA_VNI: if (a.vni === undefined) return false; w.u32(type, a.vni); return true
      case NDA_IFINDEX: if (a.ifindex === undefined) return false; w.u32(type, a.ifindex); return true
      case NDA_MASTER: if (a.master === undefined) return false; w.u32(type, a.master); return true
      case NDA_LINK_NETNSID: if (a.linkNetnsId === undefined) return false; w.s32(type, a.linkNetnsId); return true
      case NDA_SRC_VNI: if (a.srcVni === undefined) return false; w.u32(type, a.srcVni); return true
      case NDA_PROTOCOL: if (a.protocol === undefined) return false; w.u8(type, a.protocol); return true
      case NDA_NH_ID: if (a.nhId === undefined) return false; w.u32(type, a.nhId); return true
      case NDA_FDB_EXT_ATTRS: if (a.fdbExtAttributes === undefined) return false; w.raw(a.fdbExtAttributes); return true
      case NDA_FLAGS_EXT: if (a.flagsExt === undefined) return false; w.u32(type, a.flagsExt); return true
      case NDA_NDM_STATE_MASK: if (a.stateMask === undefined) return false; w.u16(type, a.stateMask); return true
      case NDA_NDM_FLAGS_MASK: if (a.flagsMask === undefined) return false; w.u8(type, a.flagsMask); return true
    }
    return false
  }, a.unknown)
}

/** Decodes struct ndmsg and its attributes from buf[start, end) (the payload after the nlmsghdr). */
export function decodeNeighbourMessage (buf: Uint8Array, start: number, end: number): NeighbourMessage {
  if (start < 0 || end > buf.length || end - start < NDMSG_SIZE) {
    throw new NetlinkDecodeError(`ndmsg needs ${NDMSG_SIZE} bytes, the message has ${end - start}`, start)
  }
  const a: NeighbourAttributes = {}
  const order: number[] = []
  const m: NeighbourMessage = {
    family: buf[start]!,
    index: buf[start + 4]! | (buf[start + 5]! << 8) | (buf[start + 6]! << 16) | (buf[start + 7]! << 24),
    state: buf[start + 8]! | (buf[start + 9]! << 8),
    flags: buf[start + 10]!,
    type: buf[start + 11]!,
    attributes: a,
    attributeOrder: order
  }
  const r = new AttributeReader(buf, start + NDMSG_SIZE, end)
  while (r.next()) {
    order.push(r.rawType)
    switch (r.type) {
      case NDA_DST:
        if (r.length !== 4 && r.length !== 16) throw new NetlinkDecodeError(`NDA_DST holds ${r.length} bytes, not an IPv4 or IPv6 address`, r.offset)
        a.dst = formatIP(buf, r.offset, r.length)
        break
      case NDA_LLADDR: a.lladdr = formatMAC(buf, r.offset, r.length); break
      case NDA_CACHEINFO: {
        if (r.length < 16) throw new NetlinkDecodeError(`NDA_CACHEINFO holds ${r.length} bytes, struct nda_cacheinfo needs 16`, r.offset)
        const o = r.offset
        const u32 = (p: number): number => (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0
        a.cacheInfo = { confirmed: u32(o), used: u32(o + 4), updated: u32(o + 8), refcnt: u32(o + 12) }
        break
      }
      case NDA_PROBES: a.probes = r.u32(); break
      case NDA_VLAN: a.vlan = r.u16(); break
      case NDA_PORT: a.port = r.be16(); break
      case NDA_VNI: a.vni = r.u32(); break
      case NDA_IFINDEX: a.ifindex = r.u32(); break
      case NDA_MASTER: a.master = r.u32(); break
      case NDA_LINK_NETNSID: a.linkNetnsId = r.s32(); break
      case NDA_SRC_VNI: a.srcVni = r.u32(); break
      case NDA_PROTOCOL: a.protocol = r.u8(); break
      case NDA_NH_ID: a.nhId = r.u32(); break
      case NDA_FDB_EXT_ATTRS: a.fdbExtAttributes = r.raw(); break
      case NDA_FLAGS_EXT: a.flagsExt = r.u32(); break
      case NDA_NDM_STATE_MASK: a.stateMask = r.u16(); break
      case NDA_NDM_FLAGS_MASK: a.flagsMask = r.u8(); break
      default: (a.unknown ??= []).push(r.raw())
    }
  }
  return m
}

/** "REACHABLE", "PERMANENT", "NOARP|PERMANENT"…; "NONE" for 0. */
export function neighbourStateToString (state: number): string {
  const names: string[] = []
  let rest = state
  for (const [bit, name] of NUD_NAMES) if ((state & bit) !== 0) { names.push(name); rest &= ~bit }
  if (rest !== 0) names.push('0x' + rest.toString(16))
  return names.length > 0 ? names.join('|') : 'NONE'
}

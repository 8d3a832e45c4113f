// RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR messages: struct ifaddrmsg and the
// IFA_* attributes (linux/if_addr.h). The codec only: the friendly API is in
// addresses.ts.
import { AttributeReader, type NetlinkWriter, type RawAttribute } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { formatIP, parseIP } from '../addr.js'
import { writeAttributesInOrder } from './attribute-order.js'

// enum in linux/if_addr.h
export const IFA_UNSPEC = 0
export const IFA_ADDRESS = 1
export const IFA_LOCAL = 2
export const IFA_LABEL = 3
export const IFA_BROADCAST = 4
export const IFA_ANYCAST = 5
export const IFA_CACHEINFO = 6
export const IFA_MULTICAST = 7
export const IFA_FLAGS = 8
export const IFA_RT_PRIORITY = 9
export const IFA_TARGET_NETNSID = 10
export const IFA_PROTO = 11

// ifa_flags (the u8 in the header) and IFA_FLAGS (u32, wins when present)
export const IFA_F_SECONDARY = 0x01
export const IFA_F_TEMPORARY = IFA_F_SECONDARY
export const IFA_F_NODAD = 0x02
export const IFA_F_OPTIMISTIC = 0x04
export const IFA_F_DADFAILED = 0x08
export const IFA_F_HOMEADDRESS = 0x10
export const IFA_F_DEPRECATED = 0x20
export const IFA_F_TENTATIVE = 0x40
export const IFA_F_PERMANENT = 0x80
export const IFA_F_MANAGETEMPADDR = 0x100
export const IFA_F_NOPREFIXROUTE = 0x200
export const IFA_F_MCAUTOJOIN = 0x400
export const IFA_F_STABLE_PRIVACY = 0x800

// ifa_proto
export const IFAPROT_UNSPEC = 0
export const IFAPROT_KERNEL_LO = 1
export const IFAPROT_KERNEL_RA = 2
export const IFAPROT_KERNEL_LL = 3

// rtm_scope / ifa_scope (enum rt_scope_t in linux/rtnetlink.h)
export const RT_SCOPE_UNIVERSE = 0
export const RT_SCOPE_SITE = 200
export const RT_SCOPE_LINK = 253
export const RT_SCOPE_HOST = 254
export const RT_SCOPE_NOWHERE = 255

/** A lifetime of 0xffffffff seconds means "forever". */
export const INFINITY_LIFE_TIME = 0xffffffff

export const IFADDRMSG_SIZE = 8

/** struct ifa_cacheinfo: lifetimes in seconds, timestamps in hundredths of a second since boot. */
export interface AddressCacheInfo {
  preferred: number
  valid: number
  created: number
  updated: number
}

export interface AddressAttributes {
  /** IFA_ADDRESS: the prefix address (the peer on point-to-point links). */
  address?: string
  /** IFA_LOCAL: the interface's own address (IPv4 always sends it). */
  local?: string
  label?: string
  broadcast?: string
  anycast?: string
  multicast?: string
  cacheInfo?: AddressCacheInfo
  /** IFA_FLAGS: all the flags, u32; the header's u8 holds only the low 8 bits. */
  flags?: number
  /** IFA_RT_PRIORITY: metric of the prefix route. */
  priority?: number
  targetNetnsId?: number
  /** IFA_PROTO: who added the address (IFAPROT_*). */
  proto?: number
  unknown?: RawAttribute[]
}

export interface AddressMessage {
  family: number
  prefixLength: number
  /** ifa_flags (u8). */
  flags: number
  scope: number
  index: number
  attributes: AddressAttributes
  /** Attribute types in the order they were decoded; the encoder replays it. */
  attributeOrder?: number[]
}

// The order iproute2 sends: `ip addr add A dev X label L noprefixroute brd + valid_lft V`.
const CANONICAL_ORDER = [IFA_LOCAL, IFA_LABEL, IFA_FLAGS, IFA_ADDRESS, IFA_BROADCAST, IFA_ANYCAST, IFA_MULTICAST,
  IFA_CACHEINFO, IFA_RT_PRIORITY, IFA_PROTO, IFA_TARGET_NETNSID]

function writeAddress (w: NetlinkWriter, type: number, text: string, name: string): void {
  const b = parseIP(text)
  if (b === undefined) throw new TypeError(`${name}: not an IP address: ${JSON.stringify(text)}`)
  w.attr(type, b)
}

/** Writes struct ifaddrmsg and the attributes (not the nlmsghdr). */
export function encodeAddressMessage (w: NetlinkWriter, m: AddressMessage): void {
  const off = w.reserve(IFADDRMSG_SIZE)
  w.setU8(off, m.family)
  w.setU8(off + 1, m.prefixLength)
  w.setU8(off + 2, m.flags)
  w.setU8(off + 3, m.scope)
  w.setU32(off + 4, m.index)
  const a = m.attributes
  writeAttributesInOrder(w, m.attributeOrder, CANONICAL_ORDER, (type) => {
    switch (type) {
      case IFA_ADDRESS: if (a.address === undefined) return false; writeAddress(w, type, a.address, 'IFA_ADDRESS'); return true
      case IFA_LOCAL: if (a.local === undefined) return false; writeAddress(w, type, a.local, 'IFA_LOCAL'); return true
      case IFA_LABEL: if (a.label === undefined) return false; w.string(type, a.label); return true
      case IFA_BROADCAST: if (a.broadcast === undefined) return false; writeAddress(w, type, a.broadcast, 'IFA_BROADCAST'); return true
      case IFA_ANYCAST: if (a.anycast === undefined) return false; writeAddress(w, type, a.anycast, 'IFA_ANYCAST'); return true
      case IFA_MULTICAST: if (a.multicast === undefined) return false; writeAddress(w, type, a.multicast, 'IFA_MULTICAST'); return true
      case IFA_CACHEINFO: {
        const c = a.cacheInfo
        if (c === undefined) return false
        const b = Buffer.alloc(16)
        b.writeUInt32LE(c.preferred >>> 0, 0)
        b.writeUInt32LE(c.valid >>> 0, 4)
        b.writeUInt32LE(c.created >>> 0, 8)
        b.writeUInt32LE(c.updated >>> 0, 12)
        w.attr(type, b)
        return true
      }
      case IFA_FLAGS: if (a.flags === undefined) return false; w.u32(type, a.flags); return true
      case IFA_RT_PRIORITY: if (a.priority === undefined) return false; w.u32(type, a.priority); return true
      case IFA_TARGET_NETNSID: if (a.targetNetnsId === undefined) return false; w.s32(type, a.targetNetnsId); return true
      case IFA_PROTO: if (a.proto === undefined) return false; w.u8(type, a.proto); return true
    }
    return false
  }, a.unknown)
}

function readAddress (r: AttributeReader, name: string): string {
  if (r.length !== 4 && r.length !== 16) throw new NetlinkDecodeError(`${name} holds ${r.length} bytes, not an IPv4 or IPv6 address`, r.offset)
  return formatIP(r.buf, r.offset, r.length)
}

/** Decodes struct ifaddrmsg and its attributes from buf[start, end) (the payload after the nlmsghdr). */
export function decodeAddressMessage (buf: Uint8Array, start: number, end: number): AddressMessage {
  if (start < 0 || end > buf.length || end - start < IFADDRMSG_SIZE) {
    throw new NetlinkDecodeError(`ifaddrmsg needs ${IFADDRMSG_SIZE} bytes, the message has ${end - start}`, start)
  }
  const a: AddressAttributes = {}
  const order: number[] = []
  const m: AddressMessage = {
    family: buf[start]!,
    prefixLength: buf[start + 1]!,
    flags: buf[start + 2]!,
    scope: buf[start + 3]!,
    index: (buf[start + 4]! | (buf[start + 5]! << 8) | (buf[start + 6]! << 16) | (buf[start + 7]! << 24)) >>> 0,
    attributes: a,
    attributeOrder: order
  }
  const r = new AttributeReader(buf, start + IFADDRMSG_SIZE, end)
  while (r.next()) {
    order.push(r.rawType)
    switch (r.type) {
      case IFA_ADDRESS: a.address = readAddress(r, 'IFA_ADDRESS'); break
      case IFA_LOCAL: a.local = readAddress(r, 'IFA_LOCAL'); break
      case IFA_LABEL: a.label = r.string(); break
      case IFA_BROADCAST: a.broadcast = readAddress(r, 'IFA_BROADCAST'); break
      case IFA_ANYCAST: a.anycast = readAddress(r, 'IFA_ANYCAST'); break
      case IFA_MULTICAST: a.multicast = readAddress(r, 'IFA_MULTICAST'); break
      case IFA_CACHEINFO: {
        if (r.length < 16) throw new NetlinkDecodeError(`IFA_CACHEINFO holds ${r.length} bytes, struct ifa_cacheinfo needs 16`, r.offset)
        const o = r.offset
        const u32 = (p: number): number => (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0
        a.cacheInfo = { preferred: u32(o), valid: u32(o + 4), created: u32(o + 8), updated: u32(o + 12) }
        break
      }
      case IFA_FLAGS: a.flags = r.u32(); break
      case IFA_RT_PRIORITY: a.priority = r.u32(); break
      case IFA_TARGET_NETNSID: a.targetNetnsId = r.s32(); break
      case IFA_PROTO: a.proto = r.u8(); break
      default: (a.unknown ??= []).push(r.raw())
    }
  }
  return m
}

/** The effective flags: IFA_FLAGS when present, else the header's u8. */
export function addressFlags (m: AddressMessage): number {
  return m.attributes.flags ?? m.flags
}

// RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR messages: struct ifaddrmsg and the
// IFA_* attributes (linux/if_addr.h). The codec only: the friendly API is in
// addresses.ts.
import type { RawAttribute } from '../attributes.js'
import { FieldTable, ip, s32, string, u32, u32Struct, u8 } from './attribute-set.js'
import { type MessageCodec, MessageHeader, headerMessageCodec } from './header.js'

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

/** struct ifaddrmsg, once: AddressMessage's header fields. */
const IFADDRMSG = new MessageHeader<Omit<AddressMessage, 'attributes' | 'attributeOrder'>>('ifaddrmsg', IFADDRMSG_SIZE, [
  ['family', 0, 'u8'], ['prefixLength', 1, 'u8'], ['flags', 2, 'u8'], ['scope', 3, 'u8'], ['index', 4, 'u32']
])

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
const FIELDS = new FieldTable<AddressAttributes>([
  { type: IFA_LOCAL, key: 'local', codec: ip('IFA_LOCAL') },
  { type: IFA_LABEL, key: 'label', codec: string },
  { type: IFA_FLAGS, key: 'flags', codec: u32 },
  { type: IFA_ADDRESS, key: 'address', codec: ip('IFA_ADDRESS') },
  { type: IFA_BROADCAST, key: 'broadcast', codec: ip('IFA_BROADCAST') },
  { type: IFA_ANYCAST, key: 'anycast', codec: ip('IFA_ANYCAST') },
  { type: IFA_MULTICAST, key: 'multicast', codec: ip('IFA_MULTICAST') },
  { type: IFA_CACHEINFO, key: 'cacheInfo', codec: u32Struct('IFA_CACHEINFO', 'ifa_cacheinfo', ['preferred', 'valid', 'created', 'updated']) },
  { type: IFA_RT_PRIORITY, key: 'priority', codec: u32 },
  { type: IFA_PROTO, key: 'proto', codec: u8 },
  { type: IFA_TARGET_NETNSID, key: 'targetNetnsId', codec: s32 }
])

/**
 * encodeAddressMessage(w, m) writes struct ifaddrmsg and the attributes (not the nlmsghdr);
 * decodeAddressMessage(buf, start, end) reads them back from the payload after the nlmsghdr.
 */
export const { encode: encodeAddressMessage, decode: decodeAddressMessage }: MessageCodec<AddressMessage> = headerMessageCodec(IFADDRMSG, FIELDS, () => undefined)

/** The effective flags: IFA_FLAGS when present, else the header's u8. */
export function addressFlags (m: AddressMessage): number {
  return m.attributes.flags ?? m.flags
}

// AddressService: list, add, replace and delete interface addresses, with
// addresses as text. Request builders are pure functions (bytes out, no
// socket) so they can be compared with iproute2's requests.
import { NetlinkWriter } from '../attributes.js'
import { parseCIDR, parseIP, formatIP } from '../addr.js'
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../message.js'
import type { NetlinkSocket } from '../socket.js'
import { AF_INET, AF_INET6, AF_UNSPEC, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from './rtnetlink.js'
import {
  IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_NOPREFIXROUTE, IFA_F_PERMANENT, IFA_F_SECONDARY, IFA_F_TENTATIVE,
  INFINITY_LIFE_TIME, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, decodeAddressMessage, encodeAddressMessage, type AddressAttributes, type AddressMessage
} from './address.js'
import { type FieldMap, toKernel } from './field-map.js'
import { withDeviceNames } from './interface-name.js'

/** An interface address, as `ip -j addr` shows it. */
export interface Address {
  family: number
  index: number
  /** The interface's own address (IFA_LOCAL, else IFA_ADDRESS), without prefix. */
  address: string
  prefixLength: number
  /** address/prefixLength, e.g. "10.1.0.2/24". */
  cidr: string
  /** IFA_LOCAL when the message had it. */
  local: string | undefined
  /** The point-to-point peer (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer: string | undefined
  broadcast: string | undefined
  anycast: string | undefined
  label: string | undefined
  /** IFA_F_* (IFA_FLAGS when present, else ifa_flags). */
  flags: number
  scope: number
  /** IPv6 duplicate address detection still running. */
  tentative: boolean
  deprecated: boolean
  dadFailed: boolean
  permanent: boolean
  secondary: boolean
  noPrefixRoute: boolean
  /** Seconds; Infinity for forever. */
  validLifetime: number
  preferredLifetime: number
  /** IFA_RT_PRIORITY: metric of the prefix route. */
  priority: number | undefined
  /** IFA_PROTO (IFAPROT_*). */
  protocol: number | undefined
}

export interface AddressSpec {
  /** Interface index. */
  index: number
  /** "10.1.0.2/24" or "2001:db8::1/64"; a bare address gets the full prefix length. */
  address: string
  /** Point-to-point peer (IFA_ADDRESS); by default IFA_ADDRESS = the address. */
  peer?: string
  /**
   * IPv4 broadcast: an address, or 'auto' to compute it (host bits all one)
   * for prefixes shorter than /31, as the CNI bridge plugin and `ip addr add … brd +` do.
   */
  broadcast?: string | 'auto'
  anycast?: string
  /** IFA_LABEL, e.g. "eth0:1" (must start with the interface name). */
  label?: string
  /** IFA_F_* (e.g. IFA_F_NODAD | IFA_F_NOPREFIXROUTE): in ifa_flags when they fit 8 bits, else IFA_FLAGS. */
  flags?: number
  /** RT_SCOPE_*; by default host for 127.0.0.0/8, else universe (as iproute2). */
  scope?: number
  /** Seconds (Infinity or undefined: forever). */
  validLifetime?: number
  preferredLifetime?: number
  /** IFA_RT_PRIORITY: metric of the prefix route. */
  priority?: number
  /** IFA_PROTO. */
  protocol?: number
}

export interface AddressDeleteSpec {
  index: number
  /** "10.1.0.2/24": the prefix length must match the address's (a bare IPv4 address matches any). */
  address: string
}

export interface AddressListFilter {
  index?: number
  /** AF_INET or AF_INET6; both by default. */
  family?: number
}

function parseAddress (text: string, what: string): { bytes: Uint8Array, prefixLength: number, family: number, hasPrefix: boolean } {
  const c = parseCIDR(text)
  if (c === undefined) throw new TypeError(`${what}: not an IP address or CIDR: ${JSON.stringify(text)}`)
  return { bytes: c.address, prefixLength: c.prefixLength, family: c.address.length === 4 ? AF_INET : AF_INET6, hasPrefix: text.includes('/') }
}

function lifetime (v: number | undefined, name: string): number {
  if (v === undefined || v === Infinity) return INFINITY_LIFE_TIME
  if (!Number.isInteger(v) || v < 0 || v > INFINITY_LIFE_TIME) throw new TypeError(`${name} must be a whole number of seconds or Infinity, not ${v}`)
  return v
}

/** The IPv4 broadcast address of a prefix: host bits all one. */
export function broadcastOf (address: Uint8Array, prefixLength: number): string {
  const b = Uint8Array.from(address)
  for (let bit = prefixLength; bit < 32; bit++) b[bit >> 3]! |= 0x80 >> (bit & 7)
  return formatIP(b, 0, 4)
}

/** AddressSpec → IFA_*: what passes as it is. */
const ADDRESS_SPEC: FieldMap<AddressSpec, AddressAttributes> = { label: 'label', anycast: 'anycast', priority: 'priority', protocol: 'proto' }

/** The ifaddrmsg + attributes of an RTM_NEWADDR for spec. */
export function addressMessageFor (spec: AddressSpec): AddressMessage {
  const a = parseAddress(spec.address, 'address')
  const text = formatIP(a.bytes, 0, a.bytes.length)
  const flags = spec.flags ?? 0
  const m: AddressMessage = {
    family: a.family,
    prefixLength: a.prefixLength,
    flags: flags <= 0xff ? flags : 0,
    scope: spec.scope ?? (a.family === AF_INET && a.bytes[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE),
    index: spec.index,
    attributes: { local: text, ...toKernel(spec, ADDRESS_SPEC) }
  }
  const at = m.attributes
  if (flags > 0xff) at.flags = flags
  if (spec.peer !== undefined) {
    const p = parseIP(spec.peer)
    if (p === undefined || p.length !== a.bytes.length) throw new TypeError(`peer: not an address of the same family: ${JSON.stringify(spec.peer)}`)
    at.address = formatIP(p, 0, p.length)
  } else {
    at.address = text
  }
  if (spec.broadcast === 'auto') {
    if (a.family === AF_INET && a.prefixLength < 31) at.broadcast = broadcastOf(a.bytes, a.prefixLength)
  } else if (spec.broadcast !== undefined) {
    const b = parseIP(spec.broadcast)
    if (b === undefined || b.length !== 4 || a.family !== AF_INET) throw new TypeError(`broadcast: only an IPv4 address or 'auto' fits an IPv4 address, not ${JSON.stringify(spec.broadcast)}`)
    at.broadcast = formatIP(b, 0, 4)
  }
  if (spec.validLifetime !== undefined || spec.preferredLifetime !== undefined) {
    const valid = lifetime(spec.validLifetime, 'validLifetime')
    const preferred = lifetime(spec.preferredLifetime, 'preferredLifetime')
    if (valid === 0) throw new TypeError('validLifetime must not be 0')
    if (preferred > valid) throw new TypeError(`preferredLifetime (${preferred}) is greater than validLifetime (${valid})`)
    at.cacheInfo = { preferred, valid, created: 0, updated: 0 }
  }
  return m
}

function request (type: number, flags: number, m: AddressMessage): Buffer {
  const w = new NetlinkWriter(128)
  w.beginMessage(type, flags)
  encodeAddressMessage(w, m)
  w.endMessage()
  return Buffer.from(w.bytes())
}

/** RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL, as `ip addr add`. */
export function buildAddAddressRequest (spec: AddressSpec): Buffer {
  return request(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, addressMessageFor(spec))
}

/** RTM_NEWADDR with NLM_F_CREATE|NLM_F_REPLACE, as `ip addr replace`. */
export function buildReplaceAddressRequest (spec: AddressSpec): Buffer {
  return request(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, addressMessageFor(spec))
}

/** RTM_DELADDR, as `ip addr del ADDRESS dev X`: IFA_LOCAL and IFA_ADDRESS, or only IFA_LOCAL for a bare IPv4 address. */
export function buildDeleteAddressRequest (spec: AddressDeleteSpec): Buffer {
  const a = parseAddress(spec.address, 'address')
  const text = formatIP(a.bytes, 0, a.bytes.length)
  const m: AddressMessage = {
    family: a.family,
    prefixLength: a.prefixLength,
    flags: 0,
    scope: 0,
    index: spec.index,
    attributes: a.hasPrefix || a.family === AF_INET6 ? { local: text, address: text } : { local: text }
  }
  return request(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, m)
}

/** RTM_GETADDR dump of a family (AF_UNSPEC: all); the index is a filter only under strict checking. */
export function buildListAddressesRequest (filter: AddressListFilter = {}): Buffer {
  return request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, {
    family: filter.family ?? AF_UNSPEC, prefixLength: 0, flags: 0, scope: 0, index: filter.index ?? 0, attributes: {}
  })
}

function seconds (v: number): number { return v === INFINITY_LIFE_TIME ? Infinity : v }

/** The friendly form of a decoded RTM_NEWADDR. */
export function toAddress (m: AddressMessage): Address {
  const at = m.attributes
  const flags = at.flags ?? m.flags
  const address = at.local ?? at.address ?? ''
  return {
    family: m.family,
    index: m.index,
    address,
    prefixLength: m.prefixLength,
    cidr: `${address}/${m.prefixLength}`,
    local: at.local,
    peer: at.local !== undefined && at.address !== undefined && at.address !== at.local ? at.address : undefined,
    broadcast: at.broadcast,
    anycast: at.anycast,
    label: at.label,
    flags,
    scope: m.scope,
    tentative: (flags & IFA_F_TENTATIVE) !== 0,
    deprecated: (flags & IFA_F_DEPRECATED) !== 0,
    dadFailed: (flags & IFA_F_DADFAILED) !== 0,
    permanent: (flags & IFA_F_PERMANENT) !== 0,
    secondary: (flags & IFA_F_SECONDARY) !== 0,
    noPrefixRoute: (flags & IFA_F_NOPREFIXROUTE) !== 0,
    validLifetime: at.cacheInfo !== undefined ? seconds(at.cacheInfo.valid) : Infinity,
    preferredLifetime: at.cacheInfo !== undefined ? seconds(at.cacheInfo.preferred) : Infinity,
    priority: at.priority,
    protocol: at.proto
  }
}

/** Decodes one RTM_NEWADDR payload (buf[start, end) after the nlmsghdr) to an Address. */
export function decodeAddress (buf: Uint8Array, start: number, end: number): Address {
  return toAddress(decodeAddressMessage(buf, start, end))
}

function describe (verb: string, address: string, dev: string, label?: string): string {
  return `${verb} ${address} dev ${dev}${label !== undefined ? ` label ${label}` : ''}`
}

export class AddressService {
  constructor (private readonly socket: NetlinkSocket) {}

  /** Every address, or those of one interface / family. */
  async list (filter: AddressListFilter = {}): Promise<Address[]> {
    const what = [filter.family === AF_INET ? 'inet' : filter.family === AF_INET6 ? 'inet6' : undefined,
      filter.index !== undefined ? `index ${filter.index}` : undefined].filter(Boolean).join(' ')
    const all = await this.socket.dump(buildListAddressesRequest(filter), (buf, type, start, end) =>
      type === RTM_NEWADDR ? decodeAddress(buf, start, end) : undefined, `RTM_GETADDR dump${what !== '' ? ' ' + what : ''}`)
    // Without strict checking the kernel ignores the index: filter here too.
    return all.filter(a => (filter.index === undefined || a.index === filter.index) &&
      (filter.family === undefined || filter.family === AF_UNSPEC || a.family === filter.family))
  }

  /** Adds an address; EEXIST when the interface already has it. */
  add (spec: AddressSpec): Promise<void> {
    return this.send(buildAddAddressRequest(spec), 'RTM_NEWADDR', spec.index, spec.address, spec.label)
  }

  /** Adds or updates an address (lifetimes, flags, broadcast). */
  replace (spec: AddressSpec): Promise<void> {
    return this.send(buildReplaceAddressRequest(spec), 'RTM_NEWADDR (replace)', spec.index, spec.address, spec.label)
  }

  /** Removes an address; EADDRNOTAVAIL when the interface does not have it. */
  async delete (spec: AddressDeleteSpec): Promise<void> {
    let address = spec.address
    // An IPv6 address must be deleted with its own prefix length: look it up.
    if (!address.includes('/')) {
      const ip = parseIP(address)
      if (ip !== undefined && ip.length === 16) {
        const text = formatIP(ip, 0, 16)
        const found = (await this.list({ index: spec.index, family: AF_INET6 })).find(a => a.address === text)
        if (found !== undefined) address = found.cidr
      }
    }
    return this.send(buildDeleteAddressRequest({ index: spec.index, address }), 'RTM_DELADDR', spec.index, address)
  }

  private send (req: Buffer, verb: string, index: number, address: string, label?: string): Promise<void> {
    return withDeviceNames(this.socket, [index], (dev) => describe(verb, address, dev(index), label),
      (operation) => this.socket.ack(req, operation))
  }
}

// NeighbourService: the ARP/NDP neighbour tables and bridge FDB entries,
// with addresses as text. Request builders are pure functions (bytes out,
// no socket) that send what `ip neigh` and `bridge fdb` send.
import { NetlinkWriter } from '../attributes.js'
import { formatIP, parseIP, parseMAC, formatMAC } from '../addr.js'
import { NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../message.js'
import type { NetlinkSocket } from '../socket.js'
import { AF_BRIDGE, AF_INET, AF_INET6, AF_UNSPEC, RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH } from './rtnetlink.js'
import {
  NTF_EXT_LEARNED, NTF_MASTER, NTF_OFFLOADED, NTF_PROXY, NTF_ROUTER, NTF_SELF, NTF_STICKY, NUD_NOARP, NUD_PERMANENT,
  NUD_REACHABLE, NUD_STALE, decodeNeighbourMessage, encodeNeighbourMessage, neighbourStateToString,
  type NeighbourAttributes, type NeighbourMessage
} from './neighbour.js'
import { type FieldMap, toKernel } from './field-map.js'
import { withDeviceNames } from './interface-name.js'

/** A neighbour (ARP or NDP) entry, as `ip -j neigh` shows it. */
export interface Neighbour {
  family: number
  index: number
  /** The neighbour's IP address (NDA_DST). */
  address: string | undefined
  /** Its link-layer address (NDA_LLADDR); undefined while unresolved. */
  lladdr: string | undefined
  /** NUD_*. */
  state: number
  /** "REACHABLE", "PERMANENT", "STALE"…, joined with "|" when several bits are set. */
  stateName: string
  /** NTF_*. */
  flags: number
  router: boolean
  proxy: boolean
  externallyLearned: boolean
  probes: number | undefined
  vlan: number | undefined
  /** NDA_PROTOCOL. */
  protocol: number | undefined
}

/** A bridge forwarding database entry, as `bridge -j fdb` shows it. */
export interface FdbEntry {
  /** The port (or device) the entry belongs to. */
  index: number
  mac: string
  /** NDA_MASTER: the bridge's index, for entries of a bridge port. */
  master: number | undefined
  vlan: number | undefined
  /** NDA_DST: remote endpoint (VXLAN). */
  dst: string | undefined
  port: number | undefined
  vni: number | undefined
  srcVni: number | undefined
  /** NDA_IFINDEX: VXLAN outgoing interface ("via"). */
  via: number | undefined
  /** NUD_*. */
  state: number
  /** As `bridge fdb` prints the state: permanent, static (NUD_NOARP), stale, or dynamic. */
  kind: 'permanent' | 'static' | 'stale' | 'dynamic'
  /** NTF_*. */
  flags: number
  /** NTF_SELF: an entry of the device's own table. */
  self: boolean
  /** NTF_MASTER: an entry of the bridge (master) table. */
  onMaster: boolean
  externallyLearned: boolean
  offloaded: boolean
  sticky: boolean
}

export type NeighbourStateName = 'permanent' | 'noarp' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'incomplete' | 'none'

export interface NeighbourSpec {
  index: number
  /** The IP address. */
  address: string
  /** The link-layer address, "02:00:00:00:00:09". */
  lladdr?: string
  /** NUD_* number or name; permanent by default (as `ip neigh add`). */
  state?: number | NeighbourStateName
  /** NTF_* (e.g. NTF_ROUTER, NTF_PROXY). */
  flags?: number
}

export interface NeighbourDeleteSpec {
  index: number
  address: string
  /** A proxy entry (NTF_PROXY), as `ip neigh del proxy ADDRESS dev X`. */
  proxy?: boolean
}

export interface NeighbourListFilter {
  /** AF_INET or AF_INET6; both by default. */
  family?: number
  index?: number
  /**
   * Proxy ARP/NDP entries (`ip neigh show proxy`) instead of the neighbour
   * cache: the dump asks with ndm_flags NTF_PROXY, the kernel's way to
   * select its proxy table.
   */
  proxy?: boolean
}

export interface FdbSpec {
  /** The port (bridge member) or device (vxlan) index. */
  index: number
  mac: string
  /** NTF_MASTER: the entry goes to the bridge's table (`bridge fdb add … master`). */
  master?: boolean
  /** NTF_SELF: the device's own table. Default when neither master nor self is set (as `bridge fdb add`). */
  self?: boolean
  /** permanent (NUD_NOARP|NUD_PERMANENT, default), static (NUD_NOARP|NUD_REACHABLE) or dynamic (NUD_REACHABLE), or NUD_* bits. */
  state?: 'permanent' | 'static' | 'dynamic' | number
  vlan?: number
  /** Remote endpoint (VXLAN). */
  dst?: string
  port?: number
  vni?: number
  srcVni?: number
  /** NDA_IFINDEX: the VXLAN outgoing interface. */
  via?: number
  /** NTF_STICKY. */
  sticky?: boolean
  /** NTF_EXT_LEARNED. */
  externallyLearned?: boolean
}

export interface FdbListFilter {
  /** Only entries of ports of this bridge (NDA_MASTER). */
  master?: number
  /** Only entries of this port or device. */
  index?: number
}

const STATE_BY_NAME: Record<NeighbourStateName, number> = {
  permanent: NUD_PERMANENT, noarp: NUD_NOARP, reachable: NUD_REACHABLE, stale: NUD_STALE, delay: 0x08, probe: 0x10,
  failed: 0x20, incomplete: 0x01, none: 0
}

function neighbourState (s: number | NeighbourStateName | undefined): number {
  if (s === undefined) return NUD_PERMANENT
  if (typeof s === 'number') return s
  const v = STATE_BY_NAME[s]
  if (v === undefined) throw new TypeError(`unknown neighbour state ${JSON.stringify(s)}`)
  return v
}

function ipOf (text: string, what: string): { text: string, family: number } {
  const b = parseIP(text)
  if (b === undefined) throw new TypeError(`${what}: not an IP address: ${JSON.stringify(text)}`)
  return { text: formatIP(b, 0, b.length), family: b.length === 4 ? AF_INET : AF_INET6 }
}

function macOf (text: string, what: string): string {
  const b = parseMAC(text)
  if (b === undefined) throw new TypeError(`${what}: not a link-layer address: ${JSON.stringify(text)}`)
  return formatMAC(b, 0, b.length)
}

function request (type: number, flags: number, m: NeighbourMessage): Buffer {
  const w = new NetlinkWriter(96)
  w.beginMessage(type, flags)
  encodeNeighbourMessage(w, m)
  w.endMessage()
  return Buffer.from(w.bytes())
}

/** The ndmsg + attributes for a neighbour entry. */
export function neighbourMessageFor (spec: NeighbourSpec): NeighbourMessage {
  const ip = ipOf(spec.address, 'neighbour address')
  const m: NeighbourMessage = {
    family: ip.family, index: spec.index, state: neighbourState(spec.state), flags: spec.flags ?? 0, type: 0, attributes: { dst: ip.text }
  }
  if (spec.lladdr !== undefined) m.attributes.lladdr = macOf(spec.lladdr, 'lladdr')
  return m
}

/** RTM_NEWNEIGH with NLM_F_CREATE|NLM_F_EXCL, as `ip neigh add`. */
export function buildAddNeighbourRequest (spec: NeighbourSpec): Buffer {
  return request(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, neighbourMessageFor(spec))
}

/** RTM_NEWNEIGH with NLM_F_CREATE|NLM_F_REPLACE, as `ip neigh replace`. */
export function buildReplaceNeighbourRequest (spec: NeighbourSpec): Buffer {
  return request(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, neighbourMessageFor(spec))
}

/** RTM_DELNEIGH, as `ip neigh del [proxy] ADDRESS dev X` (which leaves ndm_state at its default, permanent). */
export function buildDeleteNeighbourRequest (spec: NeighbourDeleteSpec): Buffer {
  return request(RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK, neighbourMessageFor({ index: spec.index, address: spec.address, flags: spec.proxy === true ? NTF_PROXY : 0 }))
}

/** RTM_GETNEIGH dump; NDA_IFINDEX filters in the kernel (strict checking or not); NTF_PROXY selects the proxy table. */
export function buildListNeighboursRequest (filter: NeighbourListFilter = {}): Buffer {
  const m: NeighbourMessage = { family: filter.family ?? AF_UNSPEC, index: 0, state: 0, flags: filter.proxy === true ? NTF_PROXY : 0, type: 0, attributes: {} }
  if (filter.index !== undefined) m.attributes.ifindex = filter.index
  return request(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, m)
}

function fdbState (s: FdbSpec['state']): number {
  if (s === undefined || s === 'permanent') return NUD_NOARP | NUD_PERMANENT
  if (s === 'static') return NUD_NOARP | NUD_REACHABLE
  if (s === 'dynamic') return NUD_REACHABLE
  if (typeof s === 'number') return s
  throw new TypeError(`unknown FDB state ${JSON.stringify(s)}`)
}

/** FdbSpec → NDA_*: what passes as it is. */
const FDB_SPEC: FieldMap<FdbSpec, NeighbourAttributes> = { vlan: 'vlan', srcVni: 'srcVni', port: 'port', vni: 'vni', via: 'ifindex' }

/** The ndmsg + attributes for an FDB entry, with `bridge fdb add`'s defaults (self, permanent). */
export function fdbMessageFor (spec: FdbSpec): NeighbourMessage {
  let flags = (spec.master === true ? NTF_MASTER : 0) | (spec.self === true ? NTF_SELF : 0)
  if (flags === 0) flags = NTF_SELF
  if (spec.sticky === true) flags |= NTF_STICKY
  if (spec.externallyLearned === true) flags |= NTF_EXT_LEARNED
  const a: NeighbourAttributes = { lladdr: macOf(spec.mac, 'mac'), ...toKernel(spec, FDB_SPEC) }
  if (spec.dst !== undefined) a.dst = ipOf(spec.dst, 'FDB dst').text
  return { family: AF_BRIDGE, index: spec.index, state: fdbState(spec.state), flags, type: 0, attributes: a }
}

/** RTM_NEWNEIGH AF_BRIDGE with NLM_F_CREATE|NLM_F_EXCL, as `bridge fdb add`. */
export function buildAddFdbRequest (spec: FdbSpec): Buffer {
  return request(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, fdbMessageFor(spec))
}

/** As `bridge fdb replace`. */
export function buildReplaceFdbRequest (spec: FdbSpec): Buffer {
  return request(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, fdbMessageFor(spec))
}

/** As `bridge fdb append` (several remotes for one MAC on VXLAN). */
export function buildAppendFdbRequest (spec: FdbSpec): Buffer {
  return request(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, fdbMessageFor(spec))
}

/** RTM_DELNEIGH AF_BRIDGE, as `bridge fdb del` (it sends the same state and flags as add). */
export function buildDeleteFdbRequest (spec: FdbSpec): Buffer {
  return request(RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK, fdbMessageFor(spec))
}

/**
 * RTM_GETNEIGH AF_BRIDGE dump with one filter attribute, as `bridge fdb show
 * br X` / `brport X`. Without strict checking the kernel ignores it; the
 * service filters again.
 */
export function buildListFdbRequest (filter: FdbListFilter = {}): Buffer {
  const m: NeighbourMessage = { family: AF_BRIDGE, index: 0, state: 0, flags: 0, type: 0, attributes: {} }
  // Only one: the legacy (non-strict) parser misreads a request with two.
  if (filter.master !== undefined) m.attributes.master = filter.master
  else if (filter.index !== undefined) m.attributes.ifindex = filter.index
  return request(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, m)
}

/** The friendly form of a decoded ARP/NDP entry. */
export function toNeighbour (m: NeighbourMessage): Neighbour {
  const a = m.attributes
  return {
    family: m.family,
    index: m.index,
    address: a.dst,
    lladdr: a.lladdr,
    state: m.state,
    stateName: neighbourStateToString(m.state),
    flags: m.flags,
    router: (m.flags & NTF_ROUTER) !== 0,
    proxy: (m.flags & NTF_PROXY) !== 0,
    externallyLearned: (m.flags & NTF_EXT_LEARNED) !== 0,
    probes: a.probes,
    vlan: a.vlan,
    protocol: a.protocol
  }
}

/** The friendly form of a decoded FDB entry. */
export function toFdbEntry (m: NeighbourMessage): FdbEntry {
  const a = m.attributes
  const kind = (m.state & NUD_PERMANENT) !== 0 ? 'permanent' : (m.state & NUD_NOARP) !== 0 ? 'static' : (m.state & NUD_STALE) !== 0 ? 'stale' : 'dynamic'
  return {
    index: m.index,
    mac: a.lladdr ?? '',
    master: a.master,
    vlan: a.vlan,
    dst: a.dst,
    port: a.port,
    vni: a.vni,
    srcVni: a.srcVni,
    via: a.ifindex,
    state: m.state,
    kind,
    flags: m.flags,
    self: (m.flags & NTF_SELF) !== 0,
    onMaster: (m.flags & NTF_MASTER) !== 0,
    externallyLearned: (m.flags & NTF_EXT_LEARNED) !== 0,
    offloaded: (m.flags & NTF_OFFLOADED) !== 0,
    sticky: (m.flags & NTF_STICKY) !== 0
  }
}

export function decodeNeighbour (buf: Uint8Array, start: number, end: number): Neighbour {
  return toNeighbour(decodeNeighbourMessage(buf, start, end))
}

export function decodeFdbEntry (buf: Uint8Array, start: number, end: number): FdbEntry {
  return toFdbEntry(decodeNeighbourMessage(buf, start, end))
}

function describeFdb (verb: string, spec: FdbSpec, dev: string): string {
  const parts = [verb, spec.mac, 'dev', dev]
  if (spec.dst !== undefined) parts.push('dst', spec.dst)
  if (spec.vlan !== undefined) parts.push('vlan', String(spec.vlan))
  if (spec.vni !== undefined) parts.push('vni', String(spec.vni))
  if (spec.master === true) parts.push('master')
  if (spec.self === true || spec.master !== true) parts.push('self')
  return parts.join(' ')
}

export class NeighbourService {
  constructor (private readonly socket: NetlinkSocket) {}

  /** ARP and NDP entries, or with `proxy` the proxy entries (not FDB entries: see listFdb). */
  async list (filter: NeighbourListFilter = {}): Promise<Neighbour[]> {
    const words = [filter.proxy === true ? 'proxy' : undefined, filter.family === AF_INET ? 'inet' : filter.family === AF_INET6 ? 'inet6' : undefined,
      filter.index !== undefined ? `index ${filter.index}` : undefined].filter(Boolean).join(' ')
    const all = await this.socket.dump(buildListNeighboursRequest(filter), (buf, type, start, end) =>
      type === RTM_NEWNEIGH ? decodeNeighbour(buf, start, end) : undefined, `RTM_GETNEIGH dump${words !== '' ? ' ' + words : ''}`)
    return all.filter(n => (filter.index === undefined || n.index === filter.index) && n.proxy === (filter.proxy === true) &&
      (filter.family === undefined || filter.family === AF_UNSPEC || n.family === filter.family))
  }

  /** Adds an entry (permanent by default); EEXIST when there is one for the address. */
  add (spec: NeighbourSpec): Promise<void> {
    return this.send(buildAddNeighbourRequest(spec), spec.index, (dev) => `RTM_NEWNEIGH ${((spec.flags ?? 0) & NTF_PROXY) !== 0 ? 'proxy ' : ''}${spec.address}${spec.lladdr !== undefined ? ` lladdr ${spec.lladdr}` : ''} dev ${dev}`)
  }

  replace (spec: NeighbourSpec): Promise<void> {
    return this.send(buildReplaceNeighbourRequest(spec), spec.index, (dev) => `RTM_NEWNEIGH (replace) ${spec.address}${spec.lladdr !== undefined ? ` lladdr ${spec.lladdr}` : ''} dev ${dev}`)
  }

  /** Removes an entry; ENOENT when there is none. */
  delete (spec: NeighbourDeleteSpec): Promise<void> {
    return this.send(buildDeleteNeighbourRequest(spec), spec.index, (dev) => `RTM_DELNEIGH ${spec.proxy === true ? 'proxy ' : ''}${spec.address} dev ${dev}`)
  }

  /** Bridge FDB entries: of one bridge's ports (master), of one port or device (index), or all. */
  async listFdb (filter: FdbListFilter = {}): Promise<FdbEntry[]> {
    const words = [filter.master !== undefined ? `master ${filter.master}` : undefined,
      filter.index !== undefined ? `index ${filter.index}` : undefined].filter(Boolean).join(' ')
    const all = await this.socket.dump(buildListFdbRequest(filter), (buf, type, start, end) =>
      type === RTM_NEWNEIGH ? decodeFdbEntry(buf, start, end) : undefined, `RTM_GETNEIGH AF_BRIDGE dump${words !== '' ? ' ' + words : ''}`)
    return all.filter(e => (filter.master === undefined || e.master === filter.master) &&
      (filter.index === undefined || e.index === filter.index))
  }

  addFdb (spec: FdbSpec): Promise<void> {
    return this.send(buildAddFdbRequest(spec), spec.index, (dev) => describeFdb('RTM_NEWNEIGH AF_BRIDGE', spec, dev))
  }

  replaceFdb (spec: FdbSpec): Promise<void> {
    return this.send(buildReplaceFdbRequest(spec), spec.index, (dev) => describeFdb('RTM_NEWNEIGH AF_BRIDGE (replace)', spec, dev))
  }

  appendFdb (spec: FdbSpec): Promise<void> {
    return this.send(buildAppendFdbRequest(spec), spec.index, (dev) => describeFdb('RTM_NEWNEIGH AF_BRIDGE (append)', spec, dev))
  }

  deleteFdb (spec: FdbSpec): Promise<void> {
    return this.send(buildDeleteFdbRequest(spec), spec.index, (dev) => describeFdb('RTM_DELNEIGH AF_BRIDGE', spec, dev))
  }

  private send (req: Buffer, index: number, describe: (dev: string) => string): Promise<void> {
    return withDeviceNames(this.socket, [index], (dev) => describe(dev(index)), (operation) => this.socket.ack(req, operation))
  }
}



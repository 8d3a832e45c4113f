// NexthopService: nexthop objects (`ip nexthop`): single nexthops, groups
// with weights (hash-threshold or resilient), blackholes and FDB nexthops,
// which routes then use by id (RouteSpec.nhId, RTA_NH_ID). Request builders
// are pure functions (bytes out, no socket) that send what iproute2 sends.
import { NetlinkWriter } from '../attributes.js'
import { formatIP, parseIP } from '../addr.js'
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../message.js'
import type { NetlinkSocket } from '../socket.js'
import { AF_INET, AF_INET6, AF_UNSPEC, RTM_DELNEXTHOP, RTM_GETNEXTHOP, RTM_NEWNEXTHOP } from './rtnetlink.js'
import { LWTUNNEL_ENCAP_MPLS, RTNH_F_ONLINK, mplsEncapAttribute } from './route.js'
import {
  NEXTHOP_GRP_TYPE_MPATH, NEXTHOP_GRP_TYPE_RES, NHA_ENCAP, NHA_OP_FLAG_RESP_GRP_RESVD_0, decodeNexthopMessage, encodeNexthopMessage,
  type NexthopGroupEntry, type NexthopMessage, type NexthopResilientGroup
} from './nexthop.js'
import { type FieldMap, pick, toKernel } from './field-map.js'
import { withDeviceNames, type DeviceNamer } from './interface-name.js'

export type { NexthopGroupEntry } from './nexthop.js'

/** Clock ticks per second in NHA_RES_GROUP timers (USER_HZ). */
const USER_HZ = 100

/** A nexthop object as a flat object of fixed shape (undefined: not set). */
export interface Nexthop {
  id: number
  /** AF_INET / AF_INET6 of a single nexthop; AF_UNSPEC for groups. */
  family: number
  /** RT_SCOPE_* the kernel computed (link for a gateway, host for a device-only nexthop). */
  scope: number
  /** RTPROT_*: who added it. */
  protocol: number
  /** RTNH_F_* (e.g. RTNH_F_ONLINK, RTNH_F_DEAD, RTNH_F_LINKDOWN). */
  flags: number
  gateway: string | undefined
  /** Output interface index. */
  oif: number | undefined
  blackhole: boolean
  /** Belongs to a bridge/VXLAN FDB (NHA_FDB). */
  fdb: boolean
  /** Members of a group with their weights (1 unless set). */
  group: NexthopGroupEntry[] | undefined
  /** "mpath" (hash-threshold) or "resilient" for groups. */
  groupType: 'mpath' | 'resilient' | undefined
  /** A resilient group's parameters, timers in seconds. */
  resilient: { buckets: number | undefined, idleTimer: number | undefined, unbalancedTimer: number | undefined, unbalancedTime: number | undefined } | undefined
  /** LWTUNNEL_ENCAP_* of an encapsulating nexthop. */
  encapType: number | undefined
}

export interface NexthopSpec {
  /** The object's id; the kernel picks one when absent (ids are what routes name). */
  id?: number
  /** A gateway address (sets the family). */
  gateway?: string
  /** Output interface index. */
  oif?: number
  /** AF_INET / AF_INET6 when neither gateway nor group says (AF_INET by default, as iproute2). */
  family?: number
  /** Drop packets (NHA_BLACKHOLE). */
  blackhole?: boolean
  /** An FDB nexthop (VXLAN remote) or FDB group. */
  fdb?: boolean
  /** Gateway reachable on the device without a connected route (RTNH_F_ONLINK). */
  onlink?: boolean
  /** RTPROT_*; 0 (unspecified) by default, as iproute2. */
  protocol?: number
  /** Group members: ids of existing nexthops, weights 1..65536 (1 by default). */
  group?: Array<{ id: number, weight?: number }>
  /** Group type; "mpath" by default (the kernel's default: no NHA_GROUP_TYPE sent). */
  groupType?: 'mpath' | 'resilient'
  /** Resilient group parameters; timers in seconds. */
  resilient?: { buckets?: number, idleTimer?: number, unbalancedTimer?: number }
  /** Push MPLS labels (`encap mpls 200/300 [ttl N]`). */
  encap?: { mpls: string, ttl?: number }
}

export interface NexthopListFilter {
  /** Only nexthops through this interface (NHA_OIF). */
  oif?: number
  /** Only nexthops whose interface has this master (NHA_MASTER). */
  master?: number
  /** Only groups (NHA_GROUPS). */
  groups?: boolean
  /** Only FDB nexthops (NHA_FDB). */
  fdb?: boolean
}

const ticks = (seconds: number): number => Math.round(seconds * USER_HZ)
/** NexthopSpec.resilient → NHA_RES_GROUP_* (timers: seconds → clock ticks). */
const RESILIENT_SPEC: FieldMap<NonNullable<NexthopSpec['resilient']>, NexthopResilientGroup> = {
  buckets: 'buckets', idleTimer: ['idleTimer', ticks], unbalancedTimer: ['unbalancedTimer', ticks]
}

/** The nhmsg + attributes for spec, with iproute2's defaults. */
export function nexthopMessageFor (spec: NexthopSpec): NexthopMessage {
  const isGroup = spec.group !== undefined && spec.group.length > 0
  let family = spec.family
  let gateway: string | undefined
  if (spec.gateway !== undefined) {
    const b = parseIP(spec.gateway)
    if (b === undefined) throw new TypeError(`nexthop gateway: not an IP address: ${JSON.stringify(spec.gateway)}`)
    const f = b.length === 4 ? AF_INET : AF_INET6
    if (family !== undefined && family !== f) throw new TypeError(`nexthop gateway ${spec.gateway} is not of family ${family}`)
    family = f
    gateway = formatIP(b, 0, b.length)
  }
  if (isGroup && (spec.gateway !== undefined || spec.oif !== undefined || spec.blackhole === true || spec.encap !== undefined)) {
    throw new TypeError('a nexthop group takes no gateway, device, blackhole or encap: its members have them')
  }
  const m: NexthopMessage = {
    family: isGroup ? AF_UNSPEC : family ?? AF_INET,
    scope: 0,
    protocol: spec.protocol ?? 0,
    resvd: 0,
    flags: spec.onlink === true ? RTNH_F_ONLINK : 0,
    attributes: pick(spec, ['id', 'oif'])
  }
  const a = m.attributes
  if (isGroup) {
    a.group = spec.group!.map(e => ({ id: e.id, weight: e.weight ?? 1 }))
    if (spec.groupType === 'resilient' || spec.resilient !== undefined) {
      a.resGroup = toKernel(spec.resilient ?? {}, RESILIENT_SPEC)
      a.groupType = NEXTHOP_GRP_TYPE_RES
    } else if (spec.groupType === 'mpath') a.groupType = NEXTHOP_GRP_TYPE_MPATH
  }
  if (spec.blackhole === true) a.blackhole = true
  if (spec.encap !== undefined) {
    a.encap = mplsEncapAttribute(spec.encap.mpls, spec.encap.ttl, NHA_ENCAP)
    a.encapType = LWTUNNEL_ENCAP_MPLS
  }
  if (gateway !== undefined) a.gateway = gateway
  if (spec.fdb === true) a.fdb = true
  return m
}

function request (type: number, flags: number, m: NexthopMessage): Buffer {
  const w = new NetlinkWriter(96)
  w.beginMessage(type, flags)
  encodeNexthopMessage(w, m)
  w.endMessage()
  return Buffer.from(w.bytes())
}

const empty = (): NexthopMessage => ({ family: AF_UNSPEC, scope: 0, protocol: 0, resvd: 0, flags: 0, attributes: {} })

/** RTM_NEWNEXTHOP with NLM_F_CREATE|NLM_F_EXCL, as `ip nexthop add`. */
export function buildAddNexthopRequest (spec: NexthopSpec): Buffer {
  return request(RTM_NEWNEXTHOP, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, nexthopMessageFor(spec))
}

/** RTM_NEWNEXTHOP with NLM_F_CREATE|NLM_F_REPLACE, as `ip nexthop replace`. */
export function buildReplaceNexthopRequest (spec: NexthopSpec): Buffer {
  return request(RTM_NEWNEXTHOP, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, nexthopMessageFor(spec))
}

/** RTM_DELNEXTHOP by id, as `ip nexthop del id N`. */
export function buildDeleteNexthopRequest (id: number): Buffer {
  const m = empty()
  m.attributes.id = id
  return request(RTM_DELNEXTHOP, NLM_F_REQUEST | NLM_F_ACK, m)
}

/** RTM_GETNEXTHOP for one id, as `ip nexthop get id N`. */
export function buildGetNexthopRequest (id: number): Buffer {
  const m = empty()
  m.attributes.id = id
  return request(RTM_GETNEXTHOP, NLM_F_REQUEST, m)
}

/** RTM_GETNEXTHOP dump; the kernel applies the filters (it validates nexthop dump requests strictly). */
export function buildListNexthopsRequest (filter: NexthopListFilter = {}): Buffer {
  const m = empty()
  if (filter.oif !== undefined) m.attributes.oif = filter.oif
  if (filter.master !== undefined) m.attributes.master = filter.master
  if (filter.groups === true) m.attributes.groups = true
  if (filter.fdb === true) m.attributes.fdb = true
  return request(RTM_GETNEXTHOP, NLM_F_REQUEST | NLM_F_DUMP, m)
}

/** The friendly form of a decoded nexthop message. */
export function toNexthop (m: NexthopMessage): Nexthop {
  const a = m.attributes
  // Without NHA_OP_FLAG_RESP_GRP_RESVD_0 (kernels before 6.12, and requests) weight_high is not a weight: iproute2 ignores it too.
  const wide = a.opFlags !== undefined && (a.opFlags & NHA_OP_FLAG_RESP_GRP_RESVD_0) !== 0
  const g = a.resGroup
  return {
    id: a.id ?? 0,
    family: m.family,
    scope: m.scope,
    protocol: m.protocol,
    flags: m.flags,
    gateway: a.gateway,
    oif: a.oif,
    blackhole: a.blackhole === true,
    fdb: a.fdb === true,
    group: a.group?.map(e => ({ id: e.id, weight: wide ? e.weight : ((e.weight - 1) & 0xff) + 1 })),
    groupType: a.group === undefined ? undefined : a.groupType === NEXTHOP_GRP_TYPE_RES ? 'resilient' : 'mpath',
    resilient: g === undefined
      ? undefined
      : {
          buckets: g.buckets,
          idleTimer: g.idleTimer !== undefined ? g.idleTimer / USER_HZ : undefined,
          unbalancedTimer: g.unbalancedTimer !== undefined ? g.unbalancedTimer / USER_HZ : undefined,
          unbalancedTime: g.unbalancedTime !== undefined ? g.unbalancedTime / USER_HZ : undefined
        },
    encapType: a.encapType
  }
}

export function decodeNexthop (buf: Uint8Array, start: number, end: number): Nexthop {
  return toNexthop(decodeNexthopMessage(buf, start, end))
}

/** "id 10 group 1,3/2", "id 1 via 10.0.0.1 dev eth0", in `ip nexthop` words, for error messages. */
export function describeNexthop (spec: NexthopSpec, dev: DeviceNamer): string {
  const parts: string[] = []
  if (spec.id !== undefined) parts.push('id', String(spec.id))
  if (spec.group !== undefined) parts.push('group', spec.group.map(e => e.weight !== undefined && e.weight !== 1 ? `${e.id},${e.weight}` : String(e.id)).join('/'))
  if (spec.groupType === 'resilient' || spec.resilient !== undefined) parts.push('type', 'resilient')
  if (spec.blackhole === true) parts.push('blackhole')
  if (spec.encap !== undefined) parts.push('encap', 'mpls', spec.encap.mpls)
  if (spec.gateway !== undefined) parts.push('via', spec.gateway)
  if (spec.oif !== undefined) parts.push('dev', dev(spec.oif))
  if (spec.onlink === true) parts.push('onlink')
  if (spec.fdb === true) parts.push('fdb')
  return parts.join(' ')
}

const decodeNexthopReply = (buf: Uint8Array, type: number, start: number, end: number): Nexthop | undefined =>
  type === RTM_NEWNEXTHOP ? decodeNexthop(buf, start, end) : undefined

export class NexthopService {
  constructor (private readonly socket: NetlinkSocket) {}

  /**
   * Every nexthop object, or those the filter selects, by id. The kernel
   * applies the filters (master only there); oif, groups and fdb are applied
   * here too: the 6.18 kernel these tests run on returns every nexthop for a
   * dump request carrying NHA_FDB.
   */
  async list (filter: NexthopListFilter = {}): Promise<Nexthop[]> {
    const words = [filter.oif !== undefined ? `oif ${filter.oif}` : undefined, filter.master !== undefined ? `master ${filter.master}` : undefined,
      filter.groups === true ? 'groups' : undefined, filter.fdb === true ? 'fdb' : undefined].filter(Boolean).join(' ')
    const all = await this.socket.dump(buildListNexthopsRequest(filter), decodeNexthopReply, `RTM_GETNEXTHOP dump${words !== '' ? ' ' + words : ''}`)
    return all.filter(nh => (filter.oif === undefined || nh.oif === filter.oif) && (filter.groups !== true || nh.group !== undefined) &&
      (filter.fdb !== true || nh.fdb))
  }

  /** One nexthop object by id; ENOENT when there is none. */
  get (id: number): Promise<Nexthop> {
    return this.socket.get(buildGetNexthopRequest(id), decodeNexthopReply, `RTM_GETNEXTHOP id ${id}`)
  }

  /** Adds a nexthop object; EEXIST when the id is taken. */
  add (spec: NexthopSpec): Promise<void> { return this.send(buildAddNexthopRequest(spec), 'RTM_NEWNEXTHOP', spec) }

  /** Adds or replaces the object with spec.id (routes using it follow). */
  replace (spec: NexthopSpec): Promise<void> { return this.send(buildReplaceNexthopRequest(spec), 'RTM_NEWNEXTHOP (replace)', spec) }

  /** Deletes a nexthop object (routes using it go with it); ENOENT when there is none. */
  delete (id: number): Promise<void> { return this.socket.ack(buildDeleteNexthopRequest(id), `RTM_DELNEXTHOP id ${id}`) }

  private send (req: Buffer, verb: string, spec: NexthopSpec): Promise<void> {
    return withDeviceNames(this.socket, spec.oif !== undefined ? [spec.oif] : [], (dev) => `${verb} ${describeNexthop(spec, dev)}`,
      (operation) => this.socket.ack(req, operation))
  }
}

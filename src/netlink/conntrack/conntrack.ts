// ctnetlink messages (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_CTNETLINK):
// the connection-tracking entry the kernel reports (IPCTNL_MSG_CT_NEW in
// dumps, GET replies and events; IPCTNL_MSG_CT_DELETE in destroy events),
// decoded into a ConntrackEntry, and the requests that list (with the
// kernel's dump filters), get and delete entries, written as the conntrack
// program (libnetfilter_conntrack) writes them. Every message starts with
// struct nfgenmsg (../nftables/nfgenmsg.ts); attributes go through the one
// attribute codec (../attributes.ts).
import { AttributeReader, NLA_F_NESTED, type NetlinkWriter, type RawAttribute, keepUnknown } from '../attributes.js'
import { NetlinkDecodeError } from '../errors.js'
import { parseIP } from '../addr.js'
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from '../message.js'
import { NFGENMSG_LEN, beginNfnlMessage, decodeNfGenMsg, nfnlMessageType } from '../nftables/nfgenmsg.js'
import { readAttrBE64 } from '../nftables/data.js'
import { NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_UNSPEC } from '../nftables/constants.js'
import {
  CTA_COUNTERS32_BYTES, CTA_COUNTERS32_PACKETS, CTA_COUNTERS_BYTES, CTA_COUNTERS_ORIG, CTA_COUNTERS_PACKETS, CTA_COUNTERS_REPLY,
  CTA_HELP, CTA_HELP_NAME, CTA_ID, CTA_IP_V4_DST, CTA_IP_V4_SRC, CTA_IP_V6_DST, CTA_IP_V6_SRC, CTA_LABELS, CTA_MARK, CTA_MARK_MASK,
  CTA_PROTOINFO, CTA_PROTOINFO_DCCP, CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ, CTA_PROTOINFO_DCCP_ROLE, CTA_PROTOINFO_DCCP_STATE,
  CTA_PROTOINFO_SCTP, CTA_PROTOINFO_SCTP_STATE, CTA_PROTOINFO_SCTP_VTAG_ORIGINAL, CTA_PROTOINFO_SCTP_VTAG_REPLY, CTA_PROTOINFO_TCP,
  CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, CTA_PROTOINFO_TCP_FLAGS_REPLY, CTA_PROTOINFO_TCP_STATE, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL,
  CTA_PROTOINFO_TCP_WSCALE_REPLY, CTA_PROTO_DST_PORT, CTA_PROTO_ICMPV6_CODE, CTA_PROTO_ICMPV6_ID, CTA_PROTO_ICMPV6_TYPE,
  CTA_PROTO_ICMP_CODE, CTA_PROTO_ICMP_ID, CTA_PROTO_ICMP_TYPE, CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_SECCTX, CTA_SECCTX_NAME,
  CTA_SEQADJ_CORRECTION_POS, CTA_SEQADJ_OFFSET_AFTER, CTA_SEQADJ_OFFSET_BEFORE, CTA_SEQ_ADJ_ORIG, CTA_SEQ_ADJ_REPLY, CTA_STATUS,
  CTA_STATUS_MASK, CTA_SYNPROXY, CTA_SYNPROXY_ISN, CTA_SYNPROXY_ITS, CTA_SYNPROXY_TSOFF, CTA_TIMEOUT, CTA_TIMESTAMP,
  CTA_TIMESTAMP_START, CTA_TIMESTAMP_STOP, CTA_TUPLE_IP, CTA_TUPLE_MASTER, CTA_TUPLE_ORIG, CTA_TUPLE_PROTO, CTA_TUPLE_REPLY,
  CTA_TUPLE_ZONE, CTA_USE, CTA_ZONE, IPCTNL_MSG_CT_DELETE, IPCTNL_MSG_CT_GET, IPCTNL_MSG_CT_NEW, IPCTNL_MSG_NAMES, IPPROTO_DCCP,
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, NFNL_SUBSYS_CTNETLINK, TCP_CONNTRACK_STATES
} from './constants.js'

/** One direction of a connection: addresses, protocol and its ports (or ICMP id/type/code). */
export interface ConntrackTuple {
  src: string
  dst: string
  /** IPPROTO_* (CTA_PROTO_NUM). */
  protocol: number
  /** TCP, UDP, UDP-Lite, SCTP, DCCP. */
  srcPort?: number
  dstPort?: number
  /** ICMP and ICMPv6. */
  icmpId?: number
  icmpType?: number
  icmpCode?: number
  /** CTA_TUPLE_ZONE: a zone that applies to this direction only. */
  zone?: number
  /** Attributes of the tuple (or of its IP / protocol parts) this codec does not know, kept as bytes. */
  unknown?: RawAttribute[]
}

export interface ConntrackCounters { packets: bigint, bytes: bigint }

export interface ConntrackTcpInfo {
  /** enum tcp_conntrack, e.g. 3 = ESTABLISHED. */
  state: number
  /** "ESTABLISHED", as the conntrack program prints it. */
  stateName: string
  wscaleOriginal?: number
  wscaleReply?: number
  /** struct nf_ct_tcp_flags: { flags, mask }. */
  flagsOriginal?: { flags: number, mask: number }
  flagsReply?: { flags: number, mask: number }
}

export interface ConntrackSeqAdj { correctionPos: number, offsetBefore: number, offsetAfter: number }

/** A connection-tracking entry as the kernel reports it. Absent fields were not sent. */
export interface ConntrackEntry {
  /** nfgen_family: NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10). */
  family: number
  original: ConntrackTuple
  reply: ConntrackTuple
  /** CTA_ZONE (both directions); absent for the default zone 0. */
  zone?: number
  /** IPS_* bits (CTA_STATUS). */
  status: number
  /** Seconds left (CTA_TIMEOUT). */
  timeout?: number
  mark?: number
  /** The kernel's id of the entry (CTA_ID). */
  id?: number
  /** Reference count (CTA_USE). */
  use?: number
  tcp?: ConntrackTcpInfo
  sctp?: { state: number, vtagOriginal?: number, vtagReply?: number }
  dccp?: { state: number, role?: number, handshakeSeq?: bigint }
  /** CTA_COUNTERS_ORIG / _REPLY (net.netfilter.nf_conntrack_acct=1). */
  counters?: { original?: ConntrackCounters, reply?: ConntrackCounters }
  /** CTA_TIMESTAMP in ns (net.netfilter.nf_conntrack_timestamp=1). */
  timestamp?: { start?: bigint, stop?: bigint }
  /** CTA_HELP's helper name. */
  helper?: string
  secctx?: string
  labels?: Uint8Array
  /** CTA_TUPLE_MASTER: the connection this one was expected by. */
  master?: ConntrackTuple
  seqAdjOriginal?: ConntrackSeqAdj
  seqAdjReply?: ConntrackSeqAdj
  synproxy?: { isn: number, its: number, tsoff: number }
  /** Attributes this codec does not know, kept as bytes. */
  unknown?: RawAttribute[]
}

/** The tuple of a request: addresses and protocol; ports for TCP/UDP/SCTP/DCCP, id/type/code for ICMP(v6). */
export type ConntrackTupleSpec = Omit<ConntrackTuple, 'unknown'>

/** Kernel-side filters of a dump (all optional; each narrows the result). */
export interface ConntrackListFilter {
  /** NFPROTO_IPV4 / NFPROTO_IPV6 (nfgen_family); both by default. */
  family?: number
  /** Entries of this zone (CTA_ZONE). */
  zone?: number
  /** Entries whose mark & markMask equals mark (CTA_MARK, CTA_MARK_MASK; mask 0xffffffff by default). */
  mark?: number
  markMask?: number
  /** Entries whose status & statusMask equals status (CTA_STATUS, CTA_STATUS_MASK; mask = status by default). */
  status?: number
  statusMask?: number
}

/** nlmsg_type of a ctnetlink message: NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_*. */
export function ctnlMessageType (msg: number): number { return nfnlMessageType(NFNL_SUBSYS_CTNETLINK, msg) }

/** "IPCTNL_MSG_CT_NEW" and the like; undefined when type is not a ctnetlink message. */
export function ctnlMessageName (type: number): string | undefined {
  return (type >> 8) === NFNL_SUBSYS_CTNETLINK ? IPCTNL_MSG_NAMES[type & 0xff] : undefined
}

const PORT_PROTOCOLS = new Set([IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_SCTP, IPPROTO_DCCP])

/** The family (NFPROTO_IPV4 / _IPV6) of an address in text form; TypeError when it is not one. */
export function conntrackFamilyOf (ip: string): number {
  const b = parseIP(ip)
  if (b === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`)
  return b.length === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6
}

// --- decoding -------------------------------------------------------------------

function readTuple (r: AttributeReader, what: string): ConntrackTuple {
  const t: ConntrackTuple = { src: '', dst: '', protocol: 0 }
  let sawProto = false
  const tr = r.nestedReader()
  while (tr.next()) {
    switch (tr.type) {
      case CTA_TUPLE_IP: {
        const ir = tr.nestedReader()
        while (ir.next()) {
          switch (ir.type) {
            case CTA_IP_V4_SRC: case CTA_IP_V6_SRC: t.src = ir.ip(); break
            case CTA_IP_V4_DST: case CTA_IP_V6_DST: t.dst = ir.ip(); break
            default: keepUnknown(t, ir)
          }
        }
        break
      }
      case CTA_TUPLE_PROTO: {
        const pr = tr.nestedReader()
        while (pr.next()) {
          switch (pr.type) {
            case CTA_PROTO_NUM: t.protocol = pr.u8(); sawProto = true; break
            case CTA_PROTO_SRC_PORT: t.srcPort = pr.be16(); break
            case CTA_PROTO_DST_PORT: t.dstPort = pr.be16(); break
            case CTA_PROTO_ICMP_ID: case CTA_PROTO_ICMPV6_ID: t.icmpId = pr.be16(); break
            case CTA_PROTO_ICMP_TYPE: case CTA_PROTO_ICMPV6_TYPE: t.icmpType = pr.u8(); break
            case CTA_PROTO_ICMP_CODE: case CTA_PROTO_ICMPV6_CODE: t.icmpCode = pr.u8(); break
            default: keepUnknown(t, pr)
          }
        }
        break
      }
      case CTA_TUPLE_ZONE: t.zone = tr.be16(); break
      default: keepUnknown(t, tr)
    }
  }
  if (t.src === '' || t.dst === '') throw new NetlinkDecodeError(`${what} has no source or destination address`, r.offset)
  if (!sawProto) throw new NetlinkDecodeError(`${what} has no CTA_PROTO_NUM`, r.offset)
  return t
}

function readCounters (r: AttributeReader): ConntrackCounters {
  const c: ConntrackCounters = { packets: 0n, bytes: 0n }
  const cr = r.nestedReader()
  while (cr.next()) {
    switch (cr.type) {
      case CTA_COUNTERS_PACKETS: c.packets = readAttrBE64(cr); break
      case CTA_COUNTERS_BYTES: c.bytes = readAttrBE64(cr); break
      case CTA_COUNTERS32_PACKETS: c.packets = BigInt(cr.be32()); break
      case CTA_COUNTERS32_BYTES: c.bytes = BigInt(cr.be32()); break
    }
  }
  return c
}

function readSeqAdj (r: AttributeReader): ConntrackSeqAdj {
  const s: ConntrackSeqAdj = { correctionPos: 0, offsetBefore: 0, offsetAfter: 0 }
  const sr = r.nestedReader()
  while (sr.next()) {
    switch (sr.type) {
      case CTA_SEQADJ_CORRECTION_POS: s.correctionPos = sr.be32(); break
      case CTA_SEQADJ_OFFSET_BEFORE: s.offsetBefore = sr.be32(); break
      case CTA_SEQADJ_OFFSET_AFTER: s.offsetAfter = sr.be32(); break
    }
  }
  return s
}

function readProtoinfo (r: AttributeReader, e: ConntrackEntry): void {
  const pr = r.nestedReader()
  while (pr.next()) {
    switch (pr.type) {
      case CTA_PROTOINFO_TCP: {
        const tcp: ConntrackTcpInfo = { state: 0, stateName: 'NONE' }
        const tr = pr.nestedReader()
        while (tr.next()) {
          switch (tr.type) {
            case CTA_PROTOINFO_TCP_STATE: tcp.state = tr.u8(); tcp.stateName = TCP_CONNTRACK_STATES[tcp.state] ?? `STATE_${tcp.state}`; break
            case CTA_PROTOINFO_TCP_WSCALE_ORIGINAL: tcp.wscaleOriginal = tr.u8(); break
            case CTA_PROTOINFO_TCP_WSCALE_REPLY: tcp.wscaleReply = tr.u8(); break
            // struct nf_ct_tcp_flags { u8 flags; u8 mask; }: the u16 read checks both bytes are there.
            case CTA_PROTOINFO_TCP_FLAGS_ORIGINAL: tcp.flagsOriginal = { flags: tr.u16() & 0xff, mask: tr.u16() >> 8 }; break
            case CTA_PROTOINFO_TCP_FLAGS_REPLY: tcp.flagsReply = { flags: tr.u16() & 0xff, mask: tr.u16() >> 8 }; break
          }
        }
        e.tcp = tcp
        break
      }
      case CTA_PROTOINFO_SCTP: {
        const sctp: NonNullable<ConntrackEntry['sctp']> = { state: 0 }
        const sr = pr.nestedReader()
        while (sr.next()) {
          switch (sr.type) {
            case CTA_PROTOINFO_SCTP_STATE: sctp.state = sr.u8(); break
            case CTA_PROTOINFO_SCTP_VTAG_ORIGINAL: sctp.vtagOriginal = sr.be32(); break
            case CTA_PROTOINFO_SCTP_VTAG_REPLY: sctp.vtagReply = sr.be32(); break
          }
        }
        e.sctp = sctp
        break
      }
      case CTA_PROTOINFO_DCCP: {
        const dccp: NonNullable<ConntrackEntry['dccp']> = { state: 0 }
        const dr = pr.nestedReader()
        while (dr.next()) {
          switch (dr.type) {
            case CTA_PROTOINFO_DCCP_STATE: dccp.state = dr.u8(); break
            case CTA_PROTOINFO_DCCP_ROLE: dccp.role = dr.u8(); break
            case CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ: dccp.handshakeSeq = readAttrBE64(dr); break
          }
        }
        e.dccp = dccp
        break
      }
      default: keepUnknown(e, pr)
    }
  }
}

const NO_TUPLE: ConntrackTuple = Object.freeze({ src: '', dst: '', protocol: 0 })

/**
 * A ctnetlink entry message (IPCTNL_MSG_CT_NEW, or IPCTNL_MSG_CT_DELETE in
 * destroy events) from buf[start, end), the payload after the nlmsghdr;
 * undefined for any other message type. Malformed input raises NetlinkDecodeError.
 */
export function decodeConntrack (buf: Uint8Array, type: number, start: number, end: number): ConntrackEntry | undefined {
  if (type !== ctnlMessageType(IPCTNL_MSG_CT_NEW) && type !== ctnlMessageType(IPCTNL_MSG_CT_DELETE)) return undefined
  const h = decodeNfGenMsg(buf, start, end)
  let original: ConntrackTuple | undefined
  let reply: ConntrackTuple | undefined
  // The tuples are filled in (and checked) after the loop.
  const e: ConntrackEntry = { family: h.family, original: NO_TUPLE, reply: NO_TUPLE, status: 0 }
  const r = new AttributeReader(buf, start + NFGENMSG_LEN, end)
  while (r.next()) {
    switch (r.type) {
      case CTA_TUPLE_ORIG: original = readTuple(r, 'CTA_TUPLE_ORIG'); break
      case CTA_TUPLE_REPLY: reply = readTuple(r, 'CTA_TUPLE_REPLY'); break
      case CTA_TUPLE_MASTER: e.master = readTuple(r, 'CTA_TUPLE_MASTER'); break
      case CTA_ZONE: e.zone = r.be16(); break
      case CTA_STATUS: e.status = r.be32(); break
      case CTA_TIMEOUT: e.timeout = r.be32(); break
      case CTA_MARK: e.mark = r.be32(); break
      case CTA_ID: e.id = r.be32(); break
      case CTA_USE: e.use = r.be32(); break
      case CTA_PROTOINFO: readProtoinfo(r, e); break
      case CTA_COUNTERS_ORIG: (e.counters ??= {}).original = readCounters(r); break
      case CTA_COUNTERS_REPLY: (e.counters ??= {}).reply = readCounters(r); break
      case CTA_TIMESTAMP: {
        const ts: NonNullable<ConntrackEntry['timestamp']> = {}
        const tr = r.nestedReader()
        while (tr.next()) {
          if (tr.type === CTA_TIMESTAMP_START) ts.start = readAttrBE64(tr)
          else if (tr.type === CTA_TIMESTAMP_STOP) ts.stop = readAttrBE64(tr)
        }
        e.timestamp = ts
        break
      }
      case CTA_HELP: {
        const hr = r.nestedReader()
        while (hr.next()) if (hr.type === CTA_HELP_NAME) e.helper = hr.string()
        break
      }
      case CTA_SECCTX: {
        const sr = r.nestedReader()
        while (sr.next()) if (sr.type === CTA_SECCTX_NAME) e.secctx = sr.string()
        break
      }
      case CTA_LABELS: e.labels = r.bytes().slice(); break
      case CTA_SEQ_ADJ_ORIG: e.seqAdjOriginal = readSeqAdj(r); break
      case CTA_SEQ_ADJ_REPLY: e.seqAdjReply = readSeqAdj(r); break
      case CTA_SYNPROXY: {
        const s = { isn: 0, its: 0, tsoff: 0 }
        const sr = r.nestedReader()
        while (sr.next()) {
          if (sr.type === CTA_SYNPROXY_ISN) s.isn = sr.be32()
          else if (sr.type === CTA_SYNPROXY_ITS) s.its = sr.be32()
          else if (sr.type === CTA_SYNPROXY_TSOFF) s.tsoff = sr.be32()
        }
        e.synproxy = s
        break
      }
      default: keepUnknown(e, r)
    }
  }
  if (original === undefined || reply === undefined) throw new NetlinkDecodeError('a conntrack entry needs CTA_TUPLE_ORIG and CTA_TUPLE_REPLY', start)
  e.original = original
  e.reply = reply
  return e
}

/** The zone an entry belongs to: CTA_ZONE, else a direction's CTA_TUPLE_ZONE, else 0. */
export function conntrackZone (e: ConntrackEntry): number {
  return e.zone ?? e.original.zone ?? e.reply.zone ?? 0
}

// --- encoding -------------------------------------------------------------------

function ipBytes (text: string, what: string): Uint8Array {
  const b = parseIP(text)
  if (b === undefined) throw new TypeError(`${what}: not an IP address: ${JSON.stringify(text)}`)
  return b
}

function u16 (v: number | undefined, what: string): number {
  if (v === undefined || !Number.isInteger(v) || v < 0 || v > 0xffff) throw new TypeError(`${what} must be 0..65535, not ${String(v)}`)
  return v
}

function u8 (v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new TypeError(`${what} must be 0..255, not ${v}`)
  return v
}

/** The family (NFPROTO_IPV4 / _IPV6) of a tuple; TypeError when its addresses disagree. */
export function tupleFamily (t: Pick<ConntrackTupleSpec, 'src' | 'dst'>): number {
  const s = ipBytes(t.src, 'conntrack tuple source')
  const d = ipBytes(t.dst, 'conntrack tuple destination')
  if (s.length !== d.length) throw new TypeError(`conntrack tuple ${t.src} -> ${t.dst} mixes IPv4 and IPv6`)
  return s.length === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6
}

/**
 * A tuple as a nested attribute (type is CTA_TUPLE_ORIG, _REPLY or _MASTER),
 * in the order and with the NLA_F_NESTED flags libnetfilter_conntrack uses:
 * IP {src, dst}, PROTO {num, ports | icmp id, type, code}, then CTA_TUPLE_ZONE.
 */
export function writeConntrackTuple (w: NetlinkWriter, type: number, t: ConntrackTupleSpec): void {
  const s = ipBytes(t.src, 'conntrack tuple source')
  const d = ipBytes(t.dst, 'conntrack tuple destination')
  if (s.length !== d.length) throw new TypeError(`conntrack tuple ${t.src} -> ${t.dst} mixes IPv4 and IPv6`)
  const v4 = s.length === 4
  const outer = w.beginNested(type | NLA_F_NESTED)
  const ip = w.beginNested(CTA_TUPLE_IP | NLA_F_NESTED)
  w.attr(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, s)
  w.attr(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, d)
  w.endNested(ip)
  const proto = w.beginNested(CTA_TUPLE_PROTO | NLA_F_NESTED)
  w.u8(CTA_PROTO_NUM, u8(t.protocol, 'conntrack tuple protocol'))
  if (PORT_PROTOCOLS.has(t.protocol)) {
    w.be16(CTA_PROTO_SRC_PORT, u16(t.srcPort, 'conntrack tuple source port'))
    w.be16(CTA_PROTO_DST_PORT, u16(t.dstPort, 'conntrack tuple destination port'))
  } else if (t.protocol === IPPROTO_ICMP || t.protocol === IPPROTO_ICMPV6) {
    // libnetfilter_conntrack's order: code, type, id (the kernel answers id, type, code).
    const v6 = t.protocol === IPPROTO_ICMPV6
    w.u8(v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE, u8(t.icmpCode ?? 0, 'conntrack tuple ICMP code'))
    w.u8(v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE, u8(t.icmpType ?? -1, 'conntrack tuple ICMP type'))
    w.be16(v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID, u16(t.icmpId, 'conntrack tuple ICMP id'))
  }
  w.endNested(proto)
  if (t.zone !== undefined) w.be16(CTA_TUPLE_ZONE, u16(t.zone, 'conntrack tuple zone'))
  w.endNested(outer)
}

/**
 * IPCTNL_MSG_CT_GET with NLM_F_DUMP, as `conntrack -L`: the family in
 * nfgenmsg, then the filters in libnetfilter_conntrack's order (CTA_MARK,
 * CTA_MARK_MASK, CTA_STATUS, CTA_STATUS_MASK, CTA_ZONE).
 */
export function writeListConntrackRequest (w: NetlinkWriter, filter: ConntrackListFilter = {}): void {
  beginNfnlMessage(w, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, filter.family ?? NFPROTO_UNSPEC)
  if (filter.markMask !== undefined && filter.mark === undefined) throw new TypeError('a conntrack mark mask needs a mark')
  if (filter.mark !== undefined) {
    w.be32(CTA_MARK, filter.mark >>> 0)
    w.be32(CTA_MARK_MASK, (filter.markMask ?? 0xffffffff) >>> 0)
  }
  if (filter.statusMask !== undefined && filter.status === undefined) throw new TypeError('a conntrack status mask needs a status')
  if (filter.status !== undefined) {
    const mask = filter.statusMask ?? filter.status
    if ((mask >>> 0) === 0) throw new TypeError('a conntrack status filter needs a non-zero mask (the kernel refuses 0 with EINVAL)')
    w.be32(CTA_STATUS, filter.status >>> 0)
    w.be32(CTA_STATUS_MASK, mask >>> 0)
  }
  if (filter.zone !== undefined) w.be16(CTA_ZONE, u16(filter.zone, 'conntrack zone'))
  w.endMessage()
}

/** IPCTNL_MSG_CT_GET for one entry by its original tuple, with NLM_F_ACK, as `conntrack -G`. */
export function writeGetConntrackRequest (w: NetlinkWriter, tuple: ConntrackTupleSpec, options: { zone?: number, reply?: boolean } = {}): void {
  beginNfnlMessage(w, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_ACK, tupleFamily(tuple))
  writeConntrackTuple(w, options.reply === true ? CTA_TUPLE_REPLY : CTA_TUPLE_ORIG, tuple)
  if (options.zone !== undefined) w.be16(CTA_ZONE, u16(options.zone, 'conntrack zone'))
  w.endMessage()
}

/**
 * IPCTNL_MSG_CT_DELETE of one entry by its original (or reply) tuple, with
 * NLM_F_ACK. The conntrack program sends the whole entry it listed; the
 * kernel (ctnetlink_del_conntrack) reads only the tuple, CTA_ZONE and
 * CTA_ID, and this sends the tuple and zone, in the same order and bytes.
 */
export function writeDeleteConntrackRequest (w: NetlinkWriter, tuple: ConntrackTupleSpec, options: { zone?: number, reply?: boolean } = {}): void {
  beginNfnlMessage(w, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, tupleFamily(tuple))
  writeConntrackTuple(w, options.reply === true ? CTA_TUPLE_REPLY : CTA_TUPLE_ORIG, tuple)
  if (options.zone !== undefined && options.zone !== 0) w.be16(CTA_ZONE, u16(options.zone, 'conntrack zone'))
  w.endMessage()
}

/** The fields of a decoded tuple a request needs. */
export function tupleSpecOf (t: ConntrackTuple): ConntrackTupleSpec {
  const { unknown: _unknown, ...spec } = t
  return spec
}

/** "tcp 10.0.0.1:1234 -> 10.0.0.2:80", for operation names in errors. */
export function describeTuple (t: ConntrackTupleSpec): string {
  const name = t.protocol === IPPROTO_TCP ? 'tcp' : t.protocol === IPPROTO_UDP ? 'udp' : t.protocol === IPPROTO_ICMP ? 'icmp' : t.protocol === IPPROTO_ICMPV6 ? 'icmpv6' : `proto ${t.protocol}`
  const host = (ip: string): string => ip.includes(':') ? `[${ip}]` : ip
  const port = (p: number | undefined): string => p !== undefined ? `:${p}` : ''
  return `${name} ${host(t.src)}${port(t.srcPort)} -> ${host(t.dst)}${port(t.dstPort)}`
}

// ConntrackService: the connection-tracking table over a NETLINK_NETFILTER
// socket (ctnetlink). Lists entries with the kernel's dump filters, gets and
// deletes one by its tuple, and deletes every entry an address appears in.
// The table is per network namespace: open the service in the namespace
// whose connections you mean.
import { AttributeReader, NetlinkWriter } from '../attributes.js'
import { parseIP } from '../addr.js'
import { NETLINK_NETFILTER } from '../message.js'
import { NetlinkSocket } from '../socket.js'
import type { NetNamespace } from '../netns.js'
import { NFGENMSG_LEN } from '../nftables/nfgenmsg.js'
import { NFPROTO_IPV4, NFPROTO_IPV6 } from '../nftables/constants.js'
import {
  CTA_IP_V4_DST, CTA_IP_V4_SRC, CTA_IP_V6_DST, CTA_IP_V6_SRC, CTA_TUPLE_IP, CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, IPCTNL_MSG_CT_NEW
} from './constants.js'
import {
  conntrackZone, ctnlMessageType, decodeConntrack, describeTuple, tupleSpecOf, writeDeleteConntrackRequest,
  writeGetConntrackRequest, writeListConntrackRequest, type ConntrackEntry, type ConntrackListFilter, type ConntrackTupleSpec
} from './conntrack.js'

export interface ConntrackServiceOptions {
  namespace?: NetNamespace | undefined
  timeoutMs?: number | undefined
  /** Ask for the kernel's error texts (extended acks). */
  extendedAck?: boolean | undefined
  /** SO_RCVBUF for dumps of large tables. Default 1 MiB. */
  receiveBufferSize?: number | undefined
}

/** How many deletes go into one sendmsg: their acks must fit the receive buffer at once. */
const DELETES_PER_DATAGRAM = 256
const ENOENT = 2

function familyName (f: number | undefined): string {
  return f === NFPROTO_IPV4 ? 'ipv4' : f === NFPROTO_IPV6 ? 'ipv6' : f === undefined ? '' : `family ${f}`
}

function describeFilter (f: ConntrackListFilter): string {
  const words = [familyName(f.family),
    f.zone !== undefined ? `zone ${f.zone}` : '',
    f.mark !== undefined ? `mark ${f.mark}${f.markMask !== undefined ? '/0x' + (f.markMask >>> 0).toString(16) : ''}` : '',
    f.status !== undefined ? `status 0x${(f.status >>> 0).toString(16)}${f.statusMask !== undefined ? '/0x' + (f.statusMask >>> 0).toString(16) : ''}` : ''
  ].filter(w => w !== '')
  return words.length > 0 ? ' ' + words.join(' ') : ''
}

/** The filters checked again here: the same result on kernels that ignore some of them (zone 0 always matches there). */
function matches (e: ConntrackEntry, f: ConntrackListFilter): boolean {
  if (f.family !== undefined && f.family !== 0 && e.family !== f.family) return false
  if (f.zone !== undefined && conntrackZone(e) !== f.zone) return false
  if (f.mark !== undefined && (((e.mark ?? 0) & (f.markMask ?? 0xffffffff)) >>> 0) !== (f.mark >>> 0)) return false
  if (f.status !== undefined && ((e.status & (f.statusMask ?? f.status)) >>> 0) !== (f.status >>> 0)) return false
  return true
}

const decodeEntryReply = (buf: Uint8Array, type: number, start: number, end: number): ConntrackEntry | undefined =>
  type === ctnlMessageType(IPCTNL_MSG_CT_NEW) ? decodeConntrack(buf, type, start, end) : undefined

/** Whether a CTA_TUPLE_ORIG / _REPLY payload holds one of the addresses (as bytes) as its source or destination. */
function tupleHolds (r: AttributeReader, addresses: Uint8Array[]): boolean {
  const tr = r.nestedReader()
  while (tr.next()) {
    if (tr.type !== CTA_TUPLE_IP) continue
    const ir = tr.nestedReader()
    while (ir.next()) {
      if (ir.type !== CTA_IP_V4_SRC && ir.type !== CTA_IP_V4_DST && ir.type !== CTA_IP_V6_SRC && ir.type !== CTA_IP_V6_DST) continue
      for (const address of addresses) {
        if (ir.length !== address.length) continue
        let same = true
        for (let i = 0; i < address.length; i++) if (ir.buf[ir.offset + i] !== address[i]) { same = false; break }
        if (same) return true
      }
    }
  }
  return false
}

export class ConntrackService {
  readonly socket: NetlinkSocket
  private readonly ownsSocket: boolean

  /** Wraps an open NETLINK_NETFILTER socket (left open by close()). */
  constructor (socket: NetlinkSocket, ownsSocket = false) {
    this.socket = socket
    this.ownsSocket = ownsSocket
  }

  /** Opens its own NETLINK_NETFILTER socket, in options.namespace when given. */
  static open (options: ConntrackServiceOptions = {}): ConntrackService {
    const { namespace, timeoutMs, extendedAck, receiveBufferSize } = options
    const socket = NetlinkSocket.open({ protocol: NETLINK_NETFILTER, namespace, timeoutMs, extendedAck, receiveBufferSize })
    return new ConntrackService(socket, true)
  }

  close (): void { if (this.ownsSocket) this.socket.close() }

  /**
   * The entries of the table, filtered by the kernel (family, zone, mark
   * under a mask, status bits under a mask), as `conntrack -L` with those
   * options. The filters are checked here again, so the result is the same
   * on kernels that ignore one (CTA_ZONE in dumps needs Linux 6.8).
   */
  async list (filter: ConntrackListFilter = {}): Promise<ConntrackEntry[]> {
    const w = new NetlinkWriter(64)
    writeListConntrackRequest(w, filter)
    const all = await this.socket.dump(w.bytes(), decodeEntryReply, `IPCTNL_MSG_CT_GET dump${describeFilter(filter)}`)
    return all.filter(e => matches(e, filter))
  }

  /** The entry whose original tuple is `tuple` (in `zone`); rejects with ENOENT when there is none. */
  async get (tuple: ConntrackTupleSpec, options: { zone?: number } = {}): Promise<ConntrackEntry> {
    const w = new NetlinkWriter(128)
    writeGetConntrackRequest(w, tuple, options)
    return await this.socket.get(w.bytes(), decodeEntryReply, `IPCTNL_MSG_CT_GET ${describeTuple(tuple)}${options.zone !== undefined ? ` zone ${options.zone}` : ''}`)
  }

  /** Deletes the entry whose original tuple is `tuple`; rejects with ENOENT when there is none. */
  async delete (tuple: ConntrackTupleSpec, options: { zone?: number } = {}): Promise<void> {
    const w = new NetlinkWriter(128)
    writeDeleteConntrackRequest(w, tuple, options)
    await this.socket.ack(w.bytes(), `IPCTNL_MSG_CT_DELETE ${describeTuple(tuple)}${options.zone !== undefined ? ` zone ${options.zone}` : ''}`)
  }

  /**
   * Deletes every entry whose original or reply tuple holds `ip` (or one of
   * several addresses) as source or destination (so NATed connections to or
   * from it too), in every zone or in options.zone. One dump, filtered by
   * the addresses' family when they share one (and by the zone): each dump
   * walks the kernel's whole table, so a dual-stack pod's addresses go
   * together. Entries are matched on the raw bytes; then the deletes, many
   * per sendmsg. Entries that vanish meanwhile are not an error. Resolves
   * with how many entries it deleted.
   */
  async deleteByAddress (ip: string | string[], options: { zone?: number } = {}): Promise<number> {
    const ips = typeof ip === 'string' ? [ip] : ip
    if (ips.length === 0) return 0
    const addresses = ips.map(a => {
      const b = parseIP(a)
      if (b === undefined) throw new TypeError(`conntrack deleteByAddress: not an IP address: ${JSON.stringify(a)}`)
      return b
    })
    const families = new Set(addresses.map(a => a.length === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6))
    const filter: ConntrackListFilter = {}
    if (families.size === 1) filter.family = [...families][0]!
    if (options.zone !== undefined) filter.zone = options.zone
    const what = ips.join(', ')
    // Only the matching entries are decoded; the others are skipped after a look at their addresses.
    const pick = (buf: Uint8Array, type: number, start: number, end: number): ConntrackEntry | undefined => {
      if (type !== ctnlMessageType(IPCTNL_MSG_CT_NEW) || end - start < NFGENMSG_LEN) return undefined
      const r = new AttributeReader(buf, start + NFGENMSG_LEN, end)
      let hit = false
      while (!hit && r.next()) {
        if ((r.type === CTA_TUPLE_ORIG || r.type === CTA_TUPLE_REPLY) && tupleHolds(r, addresses)) hit = true
      }
      return hit ? decodeConntrack(buf, type, start, end) : undefined
    }
    const w = new NetlinkWriter(64)
    writeListConntrackRequest(w, filter)
    const found = (await this.socket.dump(w.bytes(), pick, `IPCTNL_MSG_CT_GET dump${describeFilter(filter)} (entries of ${what})`))
      .filter(e => matches(e, filter))
    let deleted = 0
    for (let i = 0; i < found.length; i += DELETES_PER_DATAGRAM) {
      const chunk = found.slice(i, i + DELETES_PER_DATAGRAM)
      const dw = new NetlinkWriter(chunk.length * 96)
      for (const e of chunk) {
        const zone = e.original.zone !== undefined ? undefined : e.zone
        writeDeleteConntrackRequest(dw, tupleSpecOf(e.original), zone !== undefined ? { zone } : {})
      }
      const gone = await this.socket.batch(Buffer.from(dw.bytes()), `IPCTNL_MSG_CT_DELETE of ${chunk.length} entries of ${what}`, 0,
        (k) => `IPCTNL_MSG_CT_DELETE ${describeTuple(chunk[k]!.original)}${conntrackZone(chunk[k]!) !== 0 ? ` zone ${conntrackZone(chunk[k]!)}` : ''} (entry of ${what})`,
        (errno) => errno === ENOENT)
      deleted += chunk.length - gone
    }
    return deleted
  }
}

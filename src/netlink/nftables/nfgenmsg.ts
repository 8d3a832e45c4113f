// struct nfgenmsg (the 4-byte header after nlmsghdr in every nfnetlink
// message, nf_tables and ctnetlink alike), nf_tables message types, the batch control messages that make a
// set of changes atomic, and the ruleset generation (NFT_MSG_GETGEN).
import { NetlinkDecodeError } from '../errors.js'
import { AttributeReader, type NetlinkWriter, type RawAttribute, keepUnknown } from '../attributes.js'
import { NLM_F_REQUEST } from '../message.js'
import {
  NFNETLINK_V0, NFNL_BATCH_GENID, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NFPROTO_UNSPEC,
  NFTA_GEN_ID, NFTA_GEN_PROC_NAME, NFTA_GEN_PROC_PID, NFT_MSG_GETGEN, NFT_MSG_NAMES, NFT_MSG_NEWGEN, nftFamilyName, type NftFamily
} from './constants.js'

export const NFGENMSG_LEN = 4

export interface NfGenMsg {
  /** nfgen_family: NFPROTO_* */
  family: number
  version: number
  /** res_id (be16): the subsystem in batch messages, the generation's low 16 bits in replies. */
  resId: number
}

/** nlmsg_type of an nfnetlink message: the subsystem (NFNL_SUBSYS_*) in the high byte, its message in the low one. */
export function nfnlMessageType (subsystem: number, msg: number): number { return ((subsystem & 0xff) << 8) | (msg & 0xff) }

/** nlmsg_type of an nf_tables message: NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*. */
export function nftMessageType (msg: number): number { return nfnlMessageType(NFNL_SUBSYS_NFTABLES, msg) }

/** The NFT_MSG_* of an nlmsg_type, or -1 when it is not an nf_tables message. */
export function nftMessageOf (type: number): number {
  return (type >> 8) === NFNL_SUBSYS_NFTABLES ? type & 0xff : -1
}

/** "NFT_MSG_NEWRULE" and the like, for errors and diagnostics. */
export function nftMessageName (type: number): string {
  if (type === NFNL_MSG_BATCH_BEGIN) return 'NFNL_MSG_BATCH_BEGIN'
  if (type === NFNL_MSG_BATCH_END) return 'NFNL_MSG_BATCH_END'
  const m = nftMessageOf(type)
  return (m >= 0 ? NFT_MSG_NAMES[m] : undefined) ?? `nfnetlink message 0x${type.toString(16)}`
}

export function decodeNfGenMsg (b: Uint8Array, start: number, end: number): NfGenMsg {
  if (end - start < NFGENMSG_LEN) throw new NetlinkDecodeError(`nfgenmsg needs ${NFGENMSG_LEN} bytes, the payload has ${end - start}`, start)
  return { family: b[start]!, version: b[start + 1]!, resId: (b[start + 2]! << 8) | b[start + 3]! }
}

export function writeNfGenMsg (w: NetlinkWriter, family: number, resId = 0): void {
  const off = w.reserve(NFGENMSG_LEN)
  w.setU8(off, family)
  w.setU8(off + 1, NFNETLINK_V0)
  w.setBE16(off + 2, resId)
}

/** Starts an nfnetlink message of any subsystem: nlmsghdr + nfgenmsg. Close it with w.endMessage(). */
export function beginNfnlMessage (w: NetlinkWriter, subsystem: number, msg: number, flags: number, family: number, resId = 0): void {
  w.beginMessage(nfnlMessageType(subsystem, msg), flags)
  writeNfGenMsg(w, family, resId)
}

/** Starts an nf_tables message: nlmsghdr + nfgenmsg. Close it with w.endMessage(). */
export function beginNftMessage (w: NetlinkWriter, msg: number, flags: number, family: number, resId = 0): void {
  beginNfnlMessage(w, NFNL_SUBSYS_NFTABLES, msg, flags, family, resId)
}

/**
 * NFNL_MSG_BATCH_BEGIN: AF_UNSPEC, res_id = NFNL_SUBSYS_NFTABLES. With genId
 * (NFNL_BATCH_GENID) the kernel refuses the batch (ERESTART) if the ruleset
 * changed since that generation.
 */
export function writeBatchBegin (w: NetlinkWriter, flags = 0, genId?: number): void {
  w.beginMessage(NFNL_MSG_BATCH_BEGIN, flags)
  writeNfGenMsg(w, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES)
  if (genId !== undefined) w.be32(NFNL_BATCH_GENID, genId)
  w.endMessage()
}

export function writeBatchEnd (w: NetlinkWriter, flags = 0): void {
  w.beginMessage(NFNL_MSG_BATCH_END, flags)
  writeNfGenMsg(w, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES)
  w.endMessage()
}

export interface NftBatchControl {
  kind: 'begin' | 'end'
  resId: number
  genId?: number
  unknown?: RawAttribute[]
}

/** Decodes a BATCH_BEGIN/END payload (for tests and tools reading batches). */
export function decodeBatchControl (b: Uint8Array, type: number, start: number, end: number): NftBatchControl | undefined {
  if (type !== NFNL_MSG_BATCH_BEGIN && type !== NFNL_MSG_BATCH_END) return undefined
  const h = decodeNfGenMsg(b, start, end)
  const out: NftBatchControl = { kind: type === NFNL_MSG_BATCH_BEGIN ? 'begin' : 'end', resId: h.resId }
  const r = new AttributeReader(b, start + NFGENMSG_LEN, end)
  while (r.next()) {
    if (r.type === NFNL_BATCH_GENID) out.genId = r.be32()
    else keepUnknown(out, r)
  }
  return out
}

/** The ruleset generation: bumped by every committed batch. */
export interface NftGeneration {
  id: number
  /** Pid and name of the process that committed the last change. */
  pid?: number
  processName?: string
  unknown?: RawAttribute[]
}

/** NFT_MSG_GETGEN request (nft sends this before each batch). */
export function writeGetGen (w: NetlinkWriter): void {
  beginNftMessage(w, NFT_MSG_GETGEN, NLM_F_REQUEST, NFPROTO_UNSPEC)
  w.endMessage()
}

/** NFT_MSG_NEWGEN reply; undefined for other message types. */
export function decodeGeneration (b: Uint8Array, type: number, start: number, end: number): NftGeneration | undefined {
  if (type !== nftMessageType(NFT_MSG_NEWGEN)) return undefined
  decodeNfGenMsg(b, start, end)
  const out: NftGeneration = { id: 0 }
  const r = new AttributeReader(b, start + NFGENMSG_LEN, end)
  while (r.next()) {
    switch (r.type) {
      case NFTA_GEN_ID: out.id = r.be32(); break
      case NFTA_GEN_PROC_PID: out.pid = r.be32(); break
      case NFTA_GEN_PROC_NAME: out.processName = r.string(); break
      default: keepUnknown(out, r)
    }
  }
  return out
}

/** The table family of a message's nfgenmsg; NetlinkDecodeError when it is not one. */
export function decodeNftFamily (b: Uint8Array, start: number, end: number): NftFamily {
  const h = decodeNfGenMsg(b, start, end)
  const f = nftFamilyName(h.family)
  if (f === undefined) throw new NetlinkDecodeError(`nfgen_family ${h.family} is not an nf_tables table family`, start)
  return f
}

// Tables: NFT_MSG_NEWTABLE / GETTABLE / DELTABLE. A table holds chains and
// belongs to one family (ip, ip6, inet, arp, bridge, netdev).
import { AttributeReader, type NetlinkWriter, type RawAttribute, keepUnknown } from '../attributes.js'
import { NLM_F_DUMP, NLM_F_REQUEST } from '../message.js'
import {
  NFTA_TABLE_FLAGS, NFTA_TABLE_HANDLE, NFTA_TABLE_NAME, NFTA_TABLE_OWNER, NFTA_TABLE_PAD, NFTA_TABLE_USE, NFTA_TABLE_USERDATA,
  NFT_MSG_DELTABLE, NFT_MSG_GETTABLE, NFT_MSG_NEWTABLE, NFT_MSG_DESTROYTABLE, NFPROTO_UNSPEC, nftFamilyNumber, type NftFamily
} from './constants.js'
import { readAttrBE64 } from './data.js'
import { NFGENMSG_LEN, beginNftMessage, decodeNftFamily, nftMessageOf } from './nfgenmsg.js'

export interface NftTable {
  family: NftFamily
  name: string
  /** Kernel-assigned, unique in the family. */
  handle?: bigint
  /** NFT_TABLE_F_DORMANT, NFT_TABLE_F_OWNER */
  flags?: number
  /** Number of chains, sets ... in it. */
  use?: number
  userdata?: Uint8Array
  /** Netlink port of the owning process (NFT_TABLE_F_OWNER). */
  owner?: number
  unknown?: RawAttribute[]
}

/** What NFT_MSG_NEWTABLE takes. */
export interface NftTableSpec {
  family: NftFamily
  name: string
  /** nft always sends flags (0 by default); so do we. */
  flags?: number
  userdata?: Uint8Array
}

/** Decodes an NFT_MSG_NEWTABLE message (a dump reply, request or event; also NFT_MSG_DELTABLE and NFT_MSG_DESTROYTABLE); undefined for other types. */
export function decodeTable (b: Uint8Array, type: number, start: number, end: number): NftTable | undefined {
  const m = nftMessageOf(type)
  if (m !== NFT_MSG_NEWTABLE && m !== NFT_MSG_DELTABLE && m !== NFT_MSG_DESTROYTABLE) return undefined
  const t: NftTable = { family: decodeNftFamily(b, start, end), name: '' }
  const r = new AttributeReader(b, start + NFGENMSG_LEN, end)
  while (r.next()) {
    switch (r.type) {
      case NFTA_TABLE_NAME: t.name = r.string(); break
      case NFTA_TABLE_HANDLE: t.handle = readAttrBE64(r); break
      case NFTA_TABLE_FLAGS: t.flags = r.be32(); break
      case NFTA_TABLE_USE: t.use = r.be32(); break
      case NFTA_TABLE_USERDATA: t.userdata = r.buf.slice(r.offset, r.offset + r.length); break
      case NFTA_TABLE_OWNER: t.owner = r.be32(); break
      case NFTA_TABLE_PAD: break
      default: keepUnknown(t, r)
    }
  }
  return t
}

/** NFT_MSG_NEWTABLE, attributes in nft's order: name, flags, userdata. */
export function writeNewTable (w: NetlinkWriter, t: NftTableSpec, nlmFlags: number): void {
  beginNftMessage(w, NFT_MSG_NEWTABLE, nlmFlags, nftFamilyNumber(t.family))
  w.string(NFTA_TABLE_NAME, t.name)
  w.be32(NFTA_TABLE_FLAGS, t.flags ?? 0)
  if (t.userdata !== undefined) w.attr(NFTA_TABLE_USERDATA, t.userdata)
  w.endMessage()
}

/** NFT_MSG_DELTABLE by name (or by handle when name is a bigint). */
export function writeDelTable (w: NetlinkWriter, family: NftFamily, name: string | bigint, nlmFlags: number, msg = NFT_MSG_DELTABLE): void {
  beginNftMessage(w, msg, nlmFlags, nftFamilyNumber(family))
  if (typeof name === 'bigint') w.be64(NFTA_TABLE_HANDLE, name); else w.string(NFTA_TABLE_NAME, name)
  w.endMessage()
}

/** NFT_MSG_GETTABLE: a dump of every table (of one family), or one table by name. */
export function writeGetTable (w: NetlinkWriter, family?: NftFamily, name?: string): void {
  beginNftMessage(w, NFT_MSG_GETTABLE, name === undefined ? NLM_F_REQUEST | NLM_F_DUMP : NLM_F_REQUEST, family === undefined ? NFPROTO_UNSPEC : nftFamilyNumber(family))
  if (name !== undefined) w.string(NFTA_TABLE_NAME, name)
  w.endMessage()
}

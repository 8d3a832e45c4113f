// Chains: NFT_MSG_NEWCHAIN / GETCHAIN / DELCHAIN. A base chain has a hook
// (hook number, priority, type nat|filter|route, policy); a regular chain is
// only reached by jump or goto.
import { AttributeReader, NLA_F_NESTED, type NetlinkWriter, type RawAttribute, keepUnknown } from '../attributes.js'
import { NLM_F_DUMP, NLM_F_REQUEST } from '../message.js'
import {
  NFTA_CHAIN_COUNTERS, NFTA_CHAIN_FLAGS, NFTA_CHAIN_HANDLE, NFTA_CHAIN_HOOK, NFTA_CHAIN_ID, NFTA_CHAIN_NAME, NFTA_CHAIN_PAD,
  NFTA_CHAIN_POLICY, NFTA_CHAIN_TABLE, NFTA_CHAIN_TYPE, NFTA_CHAIN_USE, NFTA_CHAIN_USERDATA, NFTA_COUNTER_BYTES,
  NFTA_COUNTER_PACKETS, NFTA_HOOK_DEV, NFTA_HOOK_DEVS, NFTA_HOOK_HOOKNUM, NFTA_HOOK_PRIORITY, NFT_MSG_DELCHAIN,
  NFT_MSG_GETCHAIN, NFT_MSG_NEWCHAIN, NFT_MSG_DESTROYCHAIN, NFPROTO_UNSPEC, nftFamilyNumber, type NftFamily
} from './constants.js'
import { readAttrBE64 } from './data.js'
import { NFGENMSG_LEN, beginNftMessage, decodeNftFamily, nftMessageOf } from './nfgenmsg.js'

export interface NftHook {
  /** NF_INET_POST_ROUTING, NF_BR_PRE_ROUTING, ... */
  hooknum: number
  /** Signed: srcnat is 100, the bridge dstnat priority -300. */
  priority: number
  /** netdev / ingress chains: the device. */
  device?: string
  devices?: string[]
  unknown?: RawAttribute[]
}

export interface NftChain {
  family: NftFamily
  table: string
  name: string
  handle?: bigint
  hook?: NftHook
  /** "filter", "nat", "route" (base chains). */
  type?: string
  /** NF_ACCEPT or NF_DROP (base chains). */
  policy?: number
  /** NFT_CHAIN_BASE, NFT_CHAIN_HW_OFFLOAD, NFT_CHAIN_BINDING */
  flags?: number
  /** Number of rules that jump here and the like. */
  use?: number
  counters?: { bytes?: bigint, packets?: bigint }
  id?: number
  userdata?: Uint8Array
  unknown?: RawAttribute[]
}

/** What NFT_MSG_NEWCHAIN takes. */
export interface NftChainSpec {
  family: NftFamily
  table: string
  name: string
  /** For a base chain: type, hook, and optionally policy. */
  type?: string
  hook?: { hooknum: number, priority: number, device?: string }
  policy?: number
  flags?: number
  userdata?: Uint8Array
}

function decodeHook (outer: AttributeReader): NftHook {
  const h: NftHook = { hooknum: 0, priority: 0 }
  const r = outer.nestedReader()
  while (r.next()) {
    switch (r.type) {
      case NFTA_HOOK_HOOKNUM: h.hooknum = r.be32(); break
      case NFTA_HOOK_PRIORITY: h.priority = r.be32() | 0; break
      case NFTA_HOOK_DEV: h.device = r.string(); break
      case NFTA_HOOK_DEVS: {
        const devs: string[] = []
        const d = r.nestedReader()
        while (d.next()) devs.push(d.string())
        h.devices = devs
        break
      }
      default: keepUnknown(h, r)
    }
  }
  return h
}

function decodeCounters (outer: AttributeReader): { bytes?: bigint, packets?: bigint } {
  const c: { bytes?: bigint, packets?: bigint } = {}
  const r = outer.nestedReader()
  while (r.next()) {
    if (r.type === NFTA_COUNTER_BYTES) c.bytes = readAttrBE64(r)
    else if (r.type === NFTA_COUNTER_PACKETS) c.packets = readAttrBE64(r)
  }
  return c
}

/** Decodes an NFT_MSG_NEWCHAIN message (a dump reply, request or event; also NFT_MSG_DELCHAIN and NFT_MSG_DESTROYCHAIN); undefined for other types. */
export function decodeChain (b: Uint8Array, type: number, start: number, end: number): NftChain | undefined {
  const m = nftMessageOf(type)
  if (m !== NFT_MSG_NEWCHAIN && m !== NFT_MSG_DELCHAIN && m !== NFT_MSG_DESTROYCHAIN) return undefined
  const c: NftChain = { family: decodeNftFamily(b, start, end), table: '', name: '' }
  const r = new AttributeReader(b, start + NFGENMSG_LEN, end)
  while (r.next()) {
    switch (r.type) {
      case NFTA_CHAIN_TABLE: c.table = r.string(); break
      case NFTA_CHAIN_NAME: c.name = r.string(); break
      case NFTA_CHAIN_HANDLE: c.handle = readAttrBE64(r); break
      case NFTA_CHAIN_HOOK: c.hook = decodeHook(r); break
      case NFTA_CHAIN_POLICY: c.policy = r.be32(); break
      case NFTA_CHAIN_TYPE: c.type = r.string(); break
      case NFTA_CHAIN_FLAGS: c.flags = r.be32(); break
      case NFTA_CHAIN_USE: c.use = r.be32(); break
      case NFTA_CHAIN_COUNTERS: c.counters = decodeCounters(r); break
      case NFTA_CHAIN_ID: c.id = r.be32(); break
      case NFTA_CHAIN_USERDATA: c.userdata = r.buf.slice(r.offset, r.offset + r.length); break
      case NFTA_CHAIN_PAD: break
      default: keepUnknown(c, r)
    }
  }
  return c
}

/**
 * NFT_MSG_NEWCHAIN in nft's attribute order: table, name, type, policy,
 * flags, userdata, then the hook nest.
 */
export function writeNewChain (w: NetlinkWriter, c: NftChainSpec, nlmFlags: number): void {
  if ((c.hook === undefined) !== (c.type === undefined)) {
    throw new TypeError(`chain ${c.family} ${c.table} ${c.name}: a base chain needs both type and hook, a regular chain neither`)
  }
  beginNftMessage(w, NFT_MSG_NEWCHAIN, nlmFlags, nftFamilyNumber(c.family))
  w.string(NFTA_CHAIN_TABLE, c.table)
  w.string(NFTA_CHAIN_NAME, c.name)
  if (c.type !== undefined) w.string(NFTA_CHAIN_TYPE, c.type)
  if (c.policy !== undefined) w.be32(NFTA_CHAIN_POLICY, c.policy)
  if (c.flags !== undefined) w.be32(NFTA_CHAIN_FLAGS, c.flags)
  if (c.userdata !== undefined) w.attr(NFTA_CHAIN_USERDATA, c.userdata)
  if (c.hook !== undefined) {
    const off = w.beginNested(NFTA_CHAIN_HOOK | NLA_F_NESTED)
    w.be32(NFTA_HOOK_HOOKNUM, c.hook.hooknum)
    w.be32(NFTA_HOOK_PRIORITY, c.hook.priority >>> 0)
    if (c.hook.device !== undefined) w.string(NFTA_HOOK_DEV, c.hook.device)
    w.endNested(off)
  }
  w.endMessage()
}

/** NFT_MSG_DELCHAIN by name (or handle when a bigint is given). */
export function writeDelChain (w: NetlinkWriter, family: NftFamily, table: string, name: string | bigint, nlmFlags: number, msg = NFT_MSG_DELCHAIN): void {
  beginNftMessage(w, msg, nlmFlags, nftFamilyNumber(family))
  w.string(NFTA_CHAIN_TABLE, table)
  if (typeof name === 'bigint') w.be64(NFTA_CHAIN_HANDLE, name); else w.string(NFTA_CHAIN_NAME, name)
  w.endMessage()
}

/** NFT_MSG_GETCHAIN: a dump of every chain (of one family), or one chain by table and name. */
export function writeGetChain (w: NetlinkWriter, family?: NftFamily, one?: { table: string, name: string }): void {
  if (one !== undefined && family === undefined) throw new TypeError('NFT_MSG_GETCHAIN of one chain needs its family')
  beginNftMessage(w, NFT_MSG_GETCHAIN, one === undefined ? NLM_F_REQUEST | NLM_F_DUMP : NLM_F_REQUEST, family === undefined ? NFPROTO_UNSPEC : nftFamilyNumber(family))
  if (one !== undefined) {
    w.string(NFTA_CHAIN_TABLE, one.table)
    w.string(NFTA_CHAIN_NAME, one.name)
  }
  w.endMessage()
}

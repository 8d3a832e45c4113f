// Rules: NFT_MSG_NEWRULE / GETRULE / DELRULE. A rule is a list of
// expressions run in order, and userdata where nft keeps its comment.
import { NetlinkDecodeError } from '../errors.js'
import { AttributeReader, type NetlinkWriter, type RawAttribute, keepUnknown } from '../attributes.js'
import { NLM_F_DUMP, NLM_F_REQUEST } from '../message.js'
import {
  NFTA_RULE_CHAIN, NFTA_RULE_CHAIN_ID, NFTA_RULE_COMPAT, NFTA_RULE_EXPRESSIONS, NFTA_RULE_HANDLE, NFTA_RULE_ID, NFTA_RULE_PAD,
  NFTA_RULE_POSITION, NFTA_RULE_POSITION_ID, NFTA_RULE_TABLE, NFTA_RULE_USERDATA, NFTNL_UDATA_COMMENT_MAXLEN,
  NFTNL_UDATA_RULE_COMMENT, NFT_MSG_DELRULE, NFT_MSG_GETRULE, NFT_MSG_NEWRULE, NFT_MSG_DESTROYRULE, NFPROTO_UNSPEC, nftFamilyNumber, type NftFamily
} from './constants.js'
import { readAttrBE64 } from './data.js'
import { decodeExpressions, writeExpressions, type NftExpression } from './expressions/index.js'
import { NFGENMSG_LEN, beginNftMessage, decodeNftFamily, nftMessageOf } from './nfgenmsg.js'
import { nftCommentItem, nftCommentText, decodeNftUserdata, encodeNftUserdata, type NftUserdataItem } from './userdata.js'

export interface NftRule {
  family: NftFamily
  table: string
  chain: string
  handle?: bigint
  /** Handle of the rule before this one (dumps), or where to insert (requests). */
  position?: bigint
  expressions: NftExpression[]
  /**
   * Set by decodeRuleSummary instead of expressions: the NFTA_RULE_EXPRESSIONS
   * payload, undecoded (decodeExpressionBytes decodes it when needed).
   */
  expressionBytes?: Uint8Array
  /** nft's comment, from the userdata. */
  comment?: string
  /** Userdata TLVs other than the comment. */
  userdataItems?: NftUserdataItem[]
  /** Userdata that is not libnftnl TLVs, kept as bytes (then comment is absent). */
  userdata?: Uint8Array
  id?: number
  positionId?: number
  chainId?: number
  /** NFTA_RULE_COMPAT (iptables-nft), kept whole. */
  compat?: RawAttribute
  unknown?: RawAttribute[]
}

/** What NFT_MSG_NEWRULE takes. */
export interface NftRuleSpec {
  family: NftFamily
  table: string
  chain: string
  expressions: readonly NftExpression[]
  /** Stored as nft stores it, so `nft list` shows it (at most 128 bytes). */
  comment?: string
  userdataItems?: readonly NftUserdataItem[]
  /** Raw userdata; when given, comment and userdataItems are not used. */
  userdata?: Uint8Array
  /** Replace the rule with this handle (NLM_F_REPLACE). */
  handle?: bigint
  /** Add after (append) or insert before the rule with this handle. */
  position?: bigint
  id?: number
}

/** Decodes an NFT_MSG_NEWRULE message (a dump reply, request or event; also NFT_MSG_DELRULE and NFT_MSG_DESTROYRULE); undefined for other types. */
export function decodeRule (b: Uint8Array, type: number, start: number, end: number): NftRule | undefined {
  return decodeRuleWith(b, type, start, end, true)
}

/**
 * decodeRule without decoding the expressions (left empty; their bytes are
 * kept in expressionBytes): for finding rules by chain, handle or comment,
 * where decoding every expression of a long chain would be wasted.
 */
export function decodeRuleSummary (b: Uint8Array, type: number, start: number, end: number): NftRule | undefined {
  return decodeRuleWith(b, type, start, end, false)
}

function decodeRuleWith (b: Uint8Array, type: number, start: number, end: number, expressions: boolean): NftRule | undefined {
  const m = nftMessageOf(type)
  if (m !== NFT_MSG_NEWRULE && m !== NFT_MSG_DELRULE && m !== NFT_MSG_DESTROYRULE) return undefined
  const rule: NftRule = { family: decodeNftFamily(b, start, end), table: '', chain: '', expressions: [] }
  const r = new AttributeReader(b, start + NFGENMSG_LEN, end)
  while (r.next()) {
    switch (r.type) {
      case NFTA_RULE_TABLE: rule.table = r.string(); break
      case NFTA_RULE_CHAIN: rule.chain = r.string(); break
      case NFTA_RULE_HANDLE: rule.handle = readAttrBE64(r); break
      case NFTA_RULE_POSITION: rule.position = readAttrBE64(r); break
      case NFTA_RULE_EXPRESSIONS:
        if (expressions) rule.expressions = decodeExpressions(r); else rule.expressionBytes = r.bytes()
        break
      case NFTA_RULE_USERDATA: decodeRuleUserdata(rule, r); break
      case NFTA_RULE_ID: rule.id = r.be32(); break
      case NFTA_RULE_POSITION_ID: rule.positionId = r.be32(); break
      case NFTA_RULE_CHAIN_ID: rule.chainId = r.be32(); break
      case NFTA_RULE_COMPAT: rule.compat = r.raw(); break
      case NFTA_RULE_PAD: break
      default: keepUnknown(rule, r)
    }
  }
  return rule
}

function decodeRuleUserdata (rule: NftRule, r: AttributeReader): void {
  let items: NftUserdataItem[]
  try {
    items = decodeNftUserdata(r.buf, r.offset, r.offset + r.length)
  } catch (err) {
    // Userdata is opaque to the kernel: anything may be there. Keep it whole.
    if (!(err instanceof NetlinkDecodeError)) throw err
    rule.userdata = r.buf.slice(r.offset, r.offset + r.length)
    return
  }
  for (const it of items) {
    if (it.type === NFTNL_UDATA_RULE_COMMENT && rule.comment === undefined) rule.comment = nftCommentText(it.value)
    else (rule.userdataItems ??= []).push(it)
  }
}

/** The NFTA_RULE_USERDATA bytes for a spec, or undefined when there is nothing to store. */
export function nftRuleUserdata (spec: Pick<NftRuleSpec, 'comment' | 'userdataItems' | 'userdata'>): Uint8Array | undefined {
  if (spec.userdata !== undefined) return spec.userdata
  const items: NftUserdataItem[] = []
  if (spec.comment !== undefined) {
    const c = nftCommentItem(spec.comment)
    if (c.value.length > NFTNL_UDATA_COMMENT_MAXLEN) throw new TypeError(`rule comment is ${c.value.length - 1} bytes, nft allows ${NFTNL_UDATA_COMMENT_MAXLEN - 1}`)
    items.push(c)
  }
  if (spec.userdataItems !== undefined) items.push(...spec.userdataItems)
  return items.length > 0 ? encodeNftUserdata(items) : undefined
}

/** NFT_MSG_NEWRULE in nft's attribute order: table, chain, handle, expressions, position, userdata. */
export function writeNewRule (w: NetlinkWriter, spec: NftRuleSpec, nlmFlags: number): void {
  const userdata = nftRuleUserdata(spec)
  beginNftMessage(w, NFT_MSG_NEWRULE, nlmFlags, nftFamilyNumber(spec.family))
  w.string(NFTA_RULE_TABLE, spec.table)
  w.string(NFTA_RULE_CHAIN, spec.chain)
  if (spec.handle !== undefined) w.be64(NFTA_RULE_HANDLE, spec.handle)
  writeExpressions(w, NFTA_RULE_EXPRESSIONS, spec.expressions)
  if (spec.position !== undefined) w.be64(NFTA_RULE_POSITION, spec.position)
  if (userdata !== undefined) w.attr(NFTA_RULE_USERDATA, userdata)
  if (spec.id !== undefined) w.be32(NFTA_RULE_ID, spec.id)
  w.endMessage()
}

/**
 * NFT_MSG_DELRULE: one rule by handle; without a handle every rule of the
 * chain (nft's `flush chain`); without a chain every rule of the table.
 */
export function writeDelRule (w: NetlinkWriter, family: NftFamily, table: string, chain: string | undefined, handle: bigint | undefined, nlmFlags: number, msg = NFT_MSG_DELRULE): void {
  beginNftMessage(w, msg, nlmFlags, nftFamilyNumber(family))
  w.string(NFTA_RULE_TABLE, table)
  if (chain !== undefined) w.string(NFTA_RULE_CHAIN, chain)
  if (handle !== undefined) w.be64(NFTA_RULE_HANDLE, handle)
  w.endMessage()
}

/** NFT_MSG_GETRULE dump, which the kernel filters by table and chain when given. */
export function writeGetRules (w: NetlinkWriter, family?: NftFamily, table?: string, chain?: string): void {
  beginNftMessage(w, NFT_MSG_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, family === undefined ? NFPROTO_UNSPEC : nftFamilyNumber(family))
  if (table !== undefined) w.string(NFTA_RULE_TABLE, table)
  if (chain !== undefined) w.string(NFTA_RULE_CHAIN, chain)
  w.endMessage()
}

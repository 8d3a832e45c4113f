// Any nf_tables datagram decoded message by message: batches we or nft
// send, dump replies, events. For tools, tests and the fuzzer; the service
// uses the per-object decoders directly.
import { NLMSG_DONE, NLMSG_ERROR, decodeErrorMessage, forEachMessage, type ErrorMessage } from '../message.js'
import { NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END } from './constants.js'
import { decodeBatchControl, decodeGeneration, nftMessageName, type NftBatchControl, type NftGeneration } from './nfgenmsg.js'
import { decodeTable, type NftTable } from './table.js'
import { decodeChain, type NftChain } from './chain.js'
import { decodeRule, type NftRule } from './rule.js'

export type NftMessageBody =
  | { kind: 'batch', batch: NftBatchControl }
  | { kind: 'table', table: NftTable }
  | { kind: 'chain', chain: NftChain }
  | { kind: 'rule', rule: NftRule }
  | { kind: 'generation', generation: NftGeneration }
  | { kind: 'error', error: ErrorMessage }
  | { kind: 'done' }
  /** A message type this module does not decode (sets, objects, ...): its payload. */
  | { kind: 'other', payload: Uint8Array }

export interface NftMessage {
  type: number
  /** e.g. "NFT_MSG_NEWRULE" */
  name: string
  flags: number
  seq: number
  body: NftMessageBody
}

/** Decodes every message in buf; malformed input raises NetlinkDecodeError. */
export function decodeNftMessages (buf: Uint8Array): NftMessage[] {
  const out: NftMessage[] = []
  forEachMessage(buf, (type, flags, seq, _pid, start, end) => {
    let body: NftMessageBody
    let v
    if (type === NFNL_MSG_BATCH_BEGIN || type === NFNL_MSG_BATCH_END) body = { kind: 'batch', batch: decodeBatchControl(buf, type, start, end)! }
    else if (type === NLMSG_ERROR) body = { kind: 'error', error: decodeErrorMessage(buf, start, end, flags) }
    else if (type === NLMSG_DONE) body = { kind: 'done' }
    else if ((v = decodeTable(buf, type, start, end)) !== undefined) body = { kind: 'table', table: v }
    else if ((v = decodeChain(buf, type, start, end)) !== undefined) body = { kind: 'chain', chain: v }
    else if ((v = decodeRule(buf, type, start, end)) !== undefined) body = { kind: 'rule', rule: v }
    else if ((v = decodeGeneration(buf, type, start, end)) !== undefined) body = { kind: 'generation', generation: v }
    else body = { kind: 'other', payload: buf.slice(start, end) }
    out.push({ type, name: type === NLMSG_ERROR ? 'NLMSG_ERROR' : type === NLMSG_DONE ? 'NLMSG_DONE' : nftMessageName(type), flags, seq, body })
  })
  return out
}

// A set of nf_tables changes encoded as one batch: NFNL_MSG_BATCH_BEGIN, the
// operations, NFNL_MSG_BATCH_END. The kernel applies the whole batch or none
// of it. This file only builds bytes; NftService sends them.
import { NetlinkWriter } from '../attributes.js'
import { NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../message.js'
import {
  NFT_MSG_DESTROYCHAIN, NFT_MSG_DESTROYRULE, NFT_MSG_DESTROYTABLE, NFT_MSG_DELCHAIN, NFT_MSG_DELRULE, NFT_MSG_DELTABLE,
  NFT_MSG_NAMES, type NftFamily
} from './constants.js'
import { writeBatchBegin, writeBatchEnd } from './nfgenmsg.js'
import { writeDelTable, writeNewTable, type NftTableSpec } from './table.js'
import { writeDelChain, writeNewChain, type NftChainSpec } from './chain.js'
import { writeDelRule, writeNewRule, type NftRuleSpec } from './rule.js'

export interface NftBatchEncodeOptions {
  /**
   * NLM_F_ACK on every operation (default true), so the sender learns when
   * the batch is done and which operation failed. nft 1.0.6 sends none.
   */
  ack?: boolean
  /** NFNL_BATCH_GENID: refuse the batch if the ruleset changed since this generation. */
  genId?: number
}

interface Operation {
  /** e.g. "NFT_MSG_NEWRULE inet t masq_checks": names the operation in errors. */
  description: string
  /** Writes the message; extra holds NLM_F_REQUEST and, when asked for, NLM_F_ACK. */
  write: (w: NetlinkWriter, extra: number) => void
}

const msgName = (msg: number): string => NFT_MSG_NAMES[msg] ?? `NFT_MSG ${msg}`
const quote = (s: string): string => /^[\w.-]+$/.test(s) ? s : JSON.stringify(s)

export class NftBatch {
  private readonly ops: Operation[] = []

  /** Number of operations. */
  get size (): number { return this.ops.length }
  /** The operations' descriptions, in order. */
  get descriptions (): string[] { return this.ops.map(o => o.description) }

  private push (description: string, write: Operation['write']): this {
    this.ops.push({ description, write })
    return this
  }

  /**
   * NFT_MSG_NEWTABLE. Like `nft add table`, an existing table is fine;
   * exclusive (`nft create table`) makes it EEXIST.
   */
  addTable (t: NftTableSpec, options: { exclusive?: boolean } = {}): this {
    const flags = options.exclusive === true ? NLM_F_CREATE | NLM_F_EXCL : 0
    return this.push(`NFT_MSG_NEWTABLE ${t.family} ${quote(t.name)}`, (w, ack) => { writeNewTable(w, t, flags | ack) })
  }

  /** NFT_MSG_NEWCHAIN (NLM_F_CREATE, as nft): an existing chain is fine unless exclusive. */
  addChain (c: NftChainSpec, options: { exclusive?: boolean } = {}): this {
    const flags = NLM_F_CREATE | (options.exclusive === true ? NLM_F_EXCL : 0)
    return this.push(`NFT_MSG_NEWCHAIN ${c.family} ${quote(c.table)} ${quote(c.name)}`, (w, ack) => { writeNewChain(w, c, flags | ack) })
  }

  /**
   * NFT_MSG_NEWRULE. Appended at the end of the chain (or after
   * spec.position); insert puts it first (or before spec.position);
   * spec.handle replaces that rule.
   */
  addRule (r: NftRuleSpec, options: { insert?: boolean } = {}): this {
    let flags = NLM_F_CREATE
    if (r.handle !== undefined) flags |= NLM_F_REPLACE
    else if (options.insert !== true) flags |= NLM_F_APPEND
    const what = r.handle !== undefined ? ` handle ${r.handle}` : r.position !== undefined ? ` position ${r.position}` : ''
    return this.push(`NFT_MSG_NEWRULE ${r.family} ${quote(r.table)} ${quote(r.chain)}${what}`, (w, ack) => { writeNewRule(w, r, flags | ack) })
  }

  /** NFT_MSG_DELRULE of one rule by handle. */
  deleteRule (family: NftFamily, table: string, chain: string, handle: bigint | number, options: { ifExists?: boolean } = {}): this {
    const h = BigInt(handle)
    const msg = options.ifExists === true ? NFT_MSG_DESTROYRULE : NFT_MSG_DELRULE
    return this.push(`${msgName(msg)} ${family} ${quote(table)} ${quote(chain)} handle ${h}`, (w, ack) => { writeDelRule(w, family, table, chain, h, ack, msg) })
  }

  /** Deletes every rule of a chain (`nft flush chain`). */
  flushChain (family: NftFamily, table: string, chain: string): this {
    return this.push(`NFT_MSG_DELRULE ${family} ${quote(table)} ${quote(chain)} (flush chain)`, (w, ack) => { writeDelRule(w, family, table, chain, undefined, ack) })
  }

  /** Deletes every rule of every chain of a table (`nft flush table`). */
  flushTable (family: NftFamily, table: string): this {
    return this.push(`NFT_MSG_DELRULE ${family} ${quote(table)} (flush table)`, (w, ack) => { writeDelRule(w, family, table, undefined, undefined, ack) })
  }

  /**
   * NFT_MSG_DELCHAIN: the chain must be empty and unreferenced. ifExists uses
   * NFT_MSG_DESTROYCHAIN (Linux 6.3+), which does not fail when it is gone.
   */
  deleteChain (family: NftFamily, table: string, name: string, options: { ifExists?: boolean } = {}): this {
    const msg = options.ifExists === true ? NFT_MSG_DESTROYCHAIN : NFT_MSG_DELCHAIN
    return this.push(`${msgName(msg)} ${family} ${quote(table)} ${quote(name)}`, (w, ack) => { writeDelChain(w, family, table, name, ack, msg) })
  }

  /** NFT_MSG_DELTABLE (with everything in it); ifExists: NFT_MSG_DESTROYTABLE. */
  deleteTable (family: NftFamily, name: string, options: { ifExists?: boolean } = {}): this {
    const msg = options.ifExists === true ? NFT_MSG_DESTROYTABLE : NFT_MSG_DELTABLE
    return this.push(`${msgName(msg)} ${family} ${quote(name)}`, (w, ack) => { writeDelTable(w, family, name, ack, msg) })
  }

  /**
   * The batch as one buffer: BATCH_BEGIN, each operation, BATCH_END, with
   * seq and pid 0 (the socket stamps them when sending).
   */
  encode (options: NftBatchEncodeOptions = {}): Buffer {
    // NLM_F_REQUEST as on the wire (the socket would add it anyway).
    const ack = NLM_F_REQUEST | (options.ack === false ? 0 : NLM_F_ACK)
    const w = new NetlinkWriter(256 + this.ops.length * 256)
    writeBatchBegin(w, NLM_F_REQUEST, options.genId)
    for (const op of this.ops) op.write(w, ack)
    writeBatchEnd(w, NLM_F_REQUEST)
    return Buffer.from(w.bytes())
  }

  /**
   * Names message i of the encoded batch (0 = BATCH_BEGIN), for the error of
   * the operation that failed.
   */
  describe (index: number): string {
    const total = this.ops.length
    if (index === 0) return 'nf_tables batch: NFNL_MSG_BATCH_BEGIN'
    if (index === total + 1) return 'nf_tables batch: NFNL_MSG_BATCH_END'
    const op = this.ops[index - 1]
    return op === undefined ? `nf_tables batch: message ${index}` : `nf_tables batch operation ${index} of ${total}: ${op.description}`
  }
}

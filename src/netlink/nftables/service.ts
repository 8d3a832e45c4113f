// NftService: nf_tables over a NETLINK_NETFILTER socket. Lists tables,
// chains and rules (decoded into plain objects) and commits batches of
// changes atomically. Rulesets are per network namespace: open the service
// in the namespace whose firewall you mean.
import { NetlinkWriter } from '../attributes.js'
import { NETLINK_NETFILTER } from '../message.js'
import { NetlinkSocket } from '../socket.js'
import type { NetNamespace } from '../netns.js'
import type { NftFamily } from './constants.js'
import { NftBatch, type NftBatchEncodeOptions } from './batch.js'
import { decodeGeneration, writeGetGen, type NftGeneration } from './nfgenmsg.js'
import { decodeTable, writeGetTable, type NftTable } from './table.js'
import { decodeChain, writeGetChain, type NftChain } from './chain.js'
import { decodeRule, decodeRuleSummary, writeGetRules, type NftRule } from './rule.js'

export interface NftServiceOptions {
  namespace?: NetNamespace | undefined
  timeoutMs?: number | undefined
  /** Ask for the kernel's error texts (extended acks). */
  extendedAck?: boolean | undefined
}

/** A batch bound to a service: build it, then commit() sends it as one datagram. */
export class NftTransaction extends NftBatch {
  private readonly service: NftService
  private readonly options: NftBatchEncodeOptions
  private committed = false

  constructor (service: NftService, options: NftBatchEncodeOptions = {}) {
    super()
    this.service = service
    this.options = options
  }

  /**
   * Sends BATCH_BEGIN, the operations, BATCH_END in one sendmsg and waits
   * for every acknowledgement. All or nothing: on any failure the kernel
   * applies none of it, and the NetlinkError names the operation that failed
   * ("nf_tables batch operation 3 of 5: NFT_MSG_NEWRULE inet t masq_checks").
   */
  async commit (): Promise<void> {
    if (this.committed) throw new Error('this nf_tables batch was already committed')
    this.committed = true
    if (this.size === 0) return
    const buf = this.encode({ ...this.options, ack: true })
    await this.service.socket.batch(buf, `nf_tables batch of ${this.size} operations`, 0, i => this.describe(i))
  }
}

export class NftService {
  readonly socket: NetlinkSocket
  private readonly ownsSocket: boolean

  /** Wraps an open NETLINK_NETFILTER socket (left open by close()). */
  constructor (socket: NetlinkSocket, ownsSocket = false) {
    this.socket = socket
    this.ownsSocket = ownsSocket
  }

  /** Opens its own NETLINK_NETFILTER socket, in options.namespace when given. */
  static open (options: NftServiceOptions = {}): NftService {
    const socket = NetlinkSocket.open({ protocol: NETLINK_NETFILTER, namespace: options.namespace, timeoutMs: options.timeoutMs, extendedAck: options.extendedAck })
    return new NftService(socket, true)
  }

  close (): void { if (this.ownsSocket) this.socket.close() }

  /** Every table, or those of one family. */
  async listTables (family?: NftFamily): Promise<NftTable[]> {
    const w = new NetlinkWriter(64)
    writeGetTable(w, family)
    return await this.socket.dump(w.bytes(), decodeTable, `NFT_MSG_GETTABLE dump${family !== undefined ? ` ${family}` : ''}`)
  }

  /** One table; rejects with ENOENT when it does not exist. */
  async getTable (family: NftFamily, name: string): Promise<NftTable> {
    const w = new NetlinkWriter(64)
    writeGetTable(w, family, name)
    return await this.socket.get(w.bytes(), decodeTable, `NFT_MSG_GETTABLE ${family} ${name}`)
  }

  /** Every chain, or those of a family, or of one table. */
  async listChains (family?: NftFamily, table?: string): Promise<NftChain[]> {
    const w = new NetlinkWriter(64)
    writeGetChain(w, family)
    const all = await this.socket.dump(w.bytes(), decodeChain, `NFT_MSG_GETCHAIN dump${family !== undefined ? ` ${family}` : ''}${table !== undefined ? ` ${table}` : ''}`)
    // The kernel filters chain dumps by family only.
    return table === undefined ? all : all.filter(c => c.table === table)
  }

  /** One chain; rejects with ENOENT when it (or its table) does not exist. */
  async getChain (family: NftFamily, table: string, name: string): Promise<NftChain> {
    const w = new NetlinkWriter(128)
    writeGetChain(w, family, { table, name })
    return await this.socket.get(w.bytes(), decodeChain, `NFT_MSG_GETCHAIN ${family} ${table} ${name}`)
  }

  /**
   * The rules of a table, or of one chain, in chain order; none when the
   * table or chain does not exist (this kernel; older ones may answer
   * ENOENT). `expressions: false` leaves each rule's expressions undecoded
   * (decodeRuleSummary): enough to find rules by handle or comment, and
   * cheaper on long chains.
   */
  async listRules (family: NftFamily, table: string, chain?: string, options: { expressions?: boolean } = {}): Promise<NftRule[]> {
    const w = new NetlinkWriter(128)
    writeGetRules(w, family, table, chain)
    return await this.socket.dump(w.bytes(), options.expressions === false ? decodeRuleSummary : decodeRule, `NFT_MSG_GETRULE dump ${family} ${table}${chain !== undefined ? ` ${chain}` : ''}`)
  }

  /** The ruleset generation (changes with every committed batch). */
  async getGeneration (): Promise<NftGeneration> {
    const w = new NetlinkWriter(32)
    writeGetGen(w)
    return await this.socket.get(w.bytes(), decodeGeneration, 'NFT_MSG_GETGEN')
  }

  /** A new, empty batch; nothing is sent before its commit(). */
  batch (options: NftBatchEncodeOptions = {}): NftTransaction {
    return new NftTransaction(this, options)
  }
}

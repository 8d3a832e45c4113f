// Building rules without knowing registers: the expressions nft generates
// for `ip saddr 10.1.0.2`, `ip daddr != 10.1.0.0/24`, `iifname "veth0"`,
// `ether saddr ...`, verdicts and `masquerade`, with the same protocol
// dependencies nft adds (meta nfproto in inet tables, meta protocol in bridge
// and netdev tables, meta iiftype for ether outside bridge tables), each once.
import { parseCIDR, parseIP, parseMAC } from '../addr.js'
import {
  NFPROTO_IPV4, NFPROTO_IPV6, NFT_CMP_EQ, NFT_CMP_NEQ, NFT_GOTO, NFT_JUMP, NFT_META_IIFNAME, NFT_META_IIFTYPE,
  NFT_META_NFPROTO, NFT_META_OIFNAME, NFT_META_PROTOCOL, NFT_PAYLOAD_LL_HEADER, NFT_PAYLOAD_NETWORK_HEADER,
  NFT_REG_1, NFT_REG_VERDICT, NFT_RETURN, NFT_CONTINUE, NF_ACCEPT, NF_DROP, type NftFamily
} from './constants.js'
import type {
  BitwiseExpression, CmpExpression, CounterExpression, ImmediateExpression, MasqExpression, MetaExpression, NftExpression,
  PayloadExpression
} from './expressions/index.js'

// --- single expressions ------------------------------------------------------

export function nftPayload (base: number, offset: number, len: number, dreg = NFT_REG_1): PayloadExpression {
  return { type: 'payload', dreg, base, offset, len }
}

export function nftCmp (op: number, value: Uint8Array, sreg = NFT_REG_1): CmpExpression {
  return { type: 'cmp', sreg, op, data: { value } }
}

export function nftMeta (key: number, dreg = NFT_REG_1): MetaExpression {
  return { type: 'meta', key, dreg }
}

/** dreg = (sreg & mask) ^ xor, as nft writes prefix masks (xor all zero). */
export function nftBitwiseMask (mask: Uint8Array, xor = new Uint8Array(mask.length), reg = NFT_REG_1): BitwiseExpression {
  return { type: 'bitwise', sreg: reg, dreg: reg, len: mask.length, mask: { value: mask }, xor: { value: xor } }
}

/** A verdict: NF_ACCEPT, NF_DROP, NFT_RETURN, NFT_CONTINUE, or NFT_JUMP / NFT_GOTO with a chain. */
export function nftVerdict (code: number, chain?: string): ImmediateExpression {
  if ((code === NFT_JUMP || code === NFT_GOTO) !== (chain !== undefined)) throw new TypeError('jump and goto need a chain, other verdicts none')
  return { type: 'immediate', dreg: NFT_REG_VERDICT, data: { verdict: chain !== undefined ? { code, chain } : { code } } }
}

export const nftAccept = (): ImmediateExpression => nftVerdict(NF_ACCEPT)
export const nftDrop = (): ImmediateExpression => nftVerdict(NF_DROP)
export const nftReturn = (): ImmediateExpression => nftVerdict(NFT_RETURN)
export const nftContinue = (): ImmediateExpression => nftVerdict(NFT_CONTINUE)
export const nftJump = (chain: string): ImmediateExpression => nftVerdict(NFT_JUMP, chain)
export const nftGoto = (chain: string): ImmediateExpression => nftVerdict(NFT_GOTO, chain)

/** `masquerade` (flags: NF_NAT_RANGE_PROTO_RANDOM, ..._PERSISTENT, ..._RANDOM_FULLY). */
export function nftMasquerade (flags?: number): MasqExpression {
  return flags === undefined ? { type: 'masq' } : { type: 'masq', flags }
}

export function nftCounter (): CounterExpression { return { type: 'counter' } }

/**
 * payload [+ bitwise] + cmp for `field == prefix` as nft emits it: a prefix
 * on a byte boundary loads and compares only the bytes it covers (none of
 * the mask); any other prefix loads the whole field and masks it.
 */
export function nftPrefixMatch (base: number, offset: number, address: Uint8Array, prefixLength: number, op: number): NftExpression[] {
  const bits = address.length * 8
  if (!Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > bits) {
    throw new TypeError(`prefix length ${prefixLength} is out of range 1..${bits}${prefixLength === 0 ? ' (a /0 prefix matches everything: leave the match out)' : ''}`)
  }
  if (prefixLength % 8 === 0) {
    const n = prefixLength / 8
    return [nftPayload(base, offset, n), nftCmp(op, address.slice(0, n))]
  }
  const mask = new Uint8Array(address.length)
  const value = new Uint8Array(address.length)
  for (let i = 0; i < address.length; i++) {
    const left = prefixLength - i * 8
    mask[i] = left >= 8 ? 0xff : left <= 0 ? 0 : (0xff << (8 - left)) & 0xff
    value[i] = address[i]! & mask[i]!
  }
  return [nftPayload(base, offset, address.length), nftBitwiseMask(mask), nftCmp(op, value)]
}

// --- the rule builder ----------------------------------------------------------

export type NftMatchOp = 'eq' | 'neq'
const cmpOp = (op: NftMatchOp): number => op === 'neq' ? NFT_CMP_NEQ : NFT_CMP_EQ

const ETH_P_IP = 0x0800
const ETH_P_IPV6 = 0x86dd
const ARPHRD_ETHER = 1
const IFNAMSIZ = 16

/**
 * Collects the expressions of one rule for a table of the given family:
 *   new NftRuleBuilder('inet').ipSaddr('10.1.0.2').ipDaddr('10.1.0.0/24', 'neq').masquerade().build()
 * gives the same expressions as `nft add rule inet t c ip saddr 10.1.0.2 ip daddr != 10.1.0.0/24 masquerade`.
 */
export class NftRuleBuilder {
  readonly family: NftFamily
  private readonly list: NftExpression[] = []
  private network: 'ip' | 'ip6' | undefined
  private ethernet = false

  constructor (family: NftFamily) { this.family = family }

  /** Appends expressions as they are. */
  add (...expressions: NftExpression[]): this { this.list.push(...expressions); return this }

  /** The expressions so far (a copy). */
  build (): NftExpression[] { return this.list.slice() }

  ipSaddr (addressOrCidr: string, op: NftMatchOp = 'eq'): this { return this.ipMatch('ip', 12, addressOrCidr, op) }
  ipDaddr (addressOrCidr: string, op: NftMatchOp = 'eq'): this { return this.ipMatch('ip', 16, addressOrCidr, op) }
  ip6Saddr (addressOrCidr: string, op: NftMatchOp = 'eq'): this { return this.ipMatch('ip6', 8, addressOrCidr, op) }
  ip6Daddr (addressOrCidr: string, op: NftMatchOp = 'eq'): this { return this.ipMatch('ip6', 24, addressOrCidr, op) }

  /** `iifname NAME`; a trailing * matches a prefix, as in nft. */
  iifname (name: string, op: NftMatchOp = 'eq'): this { return this.ifnameMatch(NFT_META_IIFNAME, name, op) }
  oifname (name: string, op: NftMatchOp = 'eq'): this { return this.ifnameMatch(NFT_META_OIFNAME, name, op) }

  etherSaddr (mac: string, op: NftMatchOp = 'eq'): this { return this.etherMatch(6, mac, op) }
  etherDaddr (mac: string, op: NftMatchOp = 'eq'): this { return this.etherMatch(0, mac, op) }

  counter (): this { return this.add(nftCounter()) }
  masquerade (flags?: number): this { return this.add(nftMasquerade(flags)) }
  accept (): this { return this.add(nftAccept()) }
  drop (): this { return this.add(nftDrop()) }
  return (): this { return this.add(nftReturn()) }
  continue (): this { return this.add(nftContinue()) }
  jump (chain: string): this { return this.add(nftJump(chain)) }
  goto (chain: string): this { return this.add(nftGoto(chain)) }

  private ipMatch (proto: 'ip' | 'ip6', offset: number, text: string, op: NftMatchOp): this {
    const len = proto === 'ip' ? 4 : 16
    let address: Uint8Array | undefined
    let prefix = len * 8
    if (text.includes('/')) {
      const c = parseCIDR(text)
      if (c !== undefined) { address = c.address; prefix = c.prefixLength }
    } else {
      address = parseIP(text)
    }
    if (address === undefined || address.length !== len) throw new TypeError(`${proto} match: ${JSON.stringify(text)} is not an ${proto === 'ip' ? 'IPv4' : 'IPv6'} address or prefix`)
    this.networkDependency(proto)
    return this.add(...nftPrefixMatch(NFT_PAYLOAD_NETWORK_HEADER, offset, address, prefix, cmpOp(op)))
  }

  // The check that the packet is IPv4/IPv6 before its header is read.
  private networkDependency (proto: 'ip' | 'ip6'): void {
    if (this.network === proto) return
    if (this.network !== undefined) throw new TypeError(`a rule cannot match both ${this.network} and ${proto} headers`)
    this.network = proto
    switch (this.family) {
      case 'ip': case 'ip6':
        if (this.family !== proto) throw new TypeError(`an ${this.family} table cannot match ${proto} headers`)
        return
      case 'inet':
        this.add(nftMeta(NFT_META_NFPROTO), nftCmp(NFT_CMP_EQ, Uint8Array.of(proto === 'ip' ? NFPROTO_IPV4 : NFPROTO_IPV6)))
        return
      case 'bridge': case 'netdev': {
        const ethertype = proto === 'ip' ? ETH_P_IP : ETH_P_IPV6
        this.add(nftMeta(NFT_META_PROTOCOL), nftCmp(NFT_CMP_EQ, Uint8Array.of(ethertype >> 8, ethertype & 0xff)))
        return
      }
      default: throw new TypeError(`an ${this.family} table cannot match ${proto} headers`)
    }
  }

  private ifnameMatch (key: number, name: string, op: NftMatchOp): this {
    const wildcard = name.endsWith('*')
    const text = Buffer.from(wildcard ? name.slice(0, -1) : name, 'utf8')
    if (text.length >= IFNAMSIZ || text.length === 0) throw new TypeError(`interface name ${JSON.stringify(name)} must be 1..${IFNAMSIZ - 1} bytes`)
    // An exact name is compared with its NUL padding to IFNAMSIZ, a wildcard on its prefix only.
    const value = new Uint8Array(wildcard ? text.length : IFNAMSIZ)
    value.set(text)
    return this.add(nftMeta(key), nftCmp(cmpOp(op), value))
  }

  private etherMatch (offset: number, text: string, op: NftMatchOp): this {
    const mac = parseMAC(text)
    if (mac === undefined || mac.length !== 6) throw new TypeError(`ether match: ${JSON.stringify(text)} is not a MAC address`)
    if (this.family !== 'bridge' && !this.ethernet) {
      // Outside the bridge family the link layer may not be Ethernet: nft checks iiftype first (host byte order u16).
      this.add(nftMeta(NFT_META_IIFTYPE), nftCmp(NFT_CMP_EQ, Uint8Array.of(ARPHRD_ETHER & 0xff, ARPHRD_ETHER >> 8)))
    }
    this.ethernet = true
    return this.add(nftPayload(NFT_PAYLOAD_LL_HEADER, offset, 6), nftCmp(cmpOp(op), mac))
  }
}

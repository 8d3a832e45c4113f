// The "veth" link kind: IFLA_INFO_DATA holds VETH_INFO_PEER, which is a whole
// struct ifinfomsg plus link attributes describing the peer (its name, and
// IFLA_NET_NS_FD to create it directly in another namespace). The link codec
// is reused for it.
import type { AttributeReader, NetlinkWriter } from '../../attributes.js'
import { type AttributeSet, encodeAttributeSet, keepUnknown } from './fields.js'
import type { LinkKindDriver } from './registry.js'
import { decodeLinkMessage, encodeLinkMessage, type LinkMessage } from '../link.js'

export const VETH_INFO_PEER = 1

export interface VethData extends AttributeSet {
  /** The peer end: sent when creating a pair; the kernel does not report it back. */
  peer?: LinkMessage
}

function decode (r: AttributeReader, keepOrder = false): VethData {
  const d: VethData = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    if (r.type === VETH_INFO_PEER) d.peer = decodeLinkMessage(r.buf, r.offset, r.offset + r.length, { keepOrder })
    else keepUnknown(d, r)
  }
  if (order !== undefined) d.order = order
  return d
}

function emit (w: NetlinkWriter, d: VethData, t: number): boolean {
  if ((t & 0x3fff) !== VETH_INFO_PEER || d.peer === undefined) return false
  const off = w.beginNested(t)
  encodeLinkMessage(w, d.peer)
  w.endNested(off)
  return true
}

const CANONICAL = [VETH_INFO_PEER] as const

export const vethKind: LinkKindDriver<VethData> = {
  kind: 'veth',
  encode (w, data) { encodeAttributeSet(w, data, CANONICAL, emit) },
  decode
}

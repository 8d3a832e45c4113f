// The "vlan" link kind (802.1Q): IFLA_VLAN_* inside IFLA_INFO_DATA. This
// kernel has no 8021q, so only the bytes are tested, not the kernel.
import type { AttributeReader, NetlinkWriter } from '../../attributes.js'
import { NetlinkDecodeError } from '../../errors.js'
import { type AttributeSet, encodeAttributeSet, keepUnknown } from './fields.js'
import type { LinkKindDriver } from './registry.js'

export const IFLA_VLAN_ID = 1
export const IFLA_VLAN_FLAGS = 2
export const IFLA_VLAN_EGRESS_QOS = 3
export const IFLA_VLAN_INGRESS_QOS = 4
export const IFLA_VLAN_PROTOCOL = 5

// enum vlan_flags (linux/if_vlan.h)
export const VLAN_FLAG_REORDER_HDR = 0x1
export const VLAN_FLAG_GVRP = 0x2
export const VLAN_FLAG_LOOSE_BINDING = 0x4
export const VLAN_FLAG_MVRP = 0x8
export const VLAN_FLAG_BRIDGE_BINDING = 0x10

export interface VlanData extends AttributeSet {
  /** The VLAN id, 0..4095 (u16) */
  id?: number
  /** struct ifla_vlan_flags: VLAN_FLAG_* to set, and which of them to change */
  flags?: { flags: number, mask: number }
  /** ETH_P_8021Q (0x8100) or ETH_P_8021AD (0x88a8), big-endian on the wire */
  protocol?: number
}

function decode (r: AttributeReader, keepOrder = false): VlanData {
  const d: VlanData = {}
  const order: number[] | undefined = keepOrder ? [] : undefined
  while (r.next()) {
    if (order !== undefined) order.push(r.rawType)
    switch (r.type) {
      case IFLA_VLAN_ID: d.id = r.u16(); break
      case IFLA_VLAN_FLAGS: {
        if (r.length < 8) throw new NetlinkDecodeError(`IFLA_VLAN_FLAGS has ${r.length} bytes, needs 8`, r.offset)
        const flags = r.u32()
        const b = r.buf; const o = r.offset + 4
        d.flags = { flags, mask: (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0 }
        break
      }
      case IFLA_VLAN_PROTOCOL: d.protocol = r.be16(); break
      default: keepUnknown(d, r) // the QoS maps stay raw
    }
  }
  if (order !== undefined) d.order = order
  return d
}

const CANONICAL = [IFLA_VLAN_ID, IFLA_VLAN_FLAGS, IFLA_VLAN_PROTOCOL] as const

function emit (w: NetlinkWriter, d: VlanData, t: number): boolean {
  switch (t & 0x3fff) {
    case IFLA_VLAN_ID: if (d.id === undefined) return false; w.u16(t, d.id); return true
    case IFLA_VLAN_FLAGS: {
      if (d.flags === undefined) return false
      const b = new Uint8Array(8); const dv = new DataView(b.buffer)
      dv.setUint32(0, d.flags.flags, true); dv.setUint32(4, d.flags.mask, true)
      w.attr(t, b); return true
    }
    case IFLA_VLAN_PROTOCOL: if (d.protocol === undefined) return false; w.be16(t, d.protocol); return true
    default: return false
  }
}

export const vlanKind: LinkKindDriver<VlanData> = {
  kind: 'vlan',
  encode (w, data) { encodeAttributeSet(w, data, CANONICAL, emit) },
  decode
}

// The "veth" link kind: IFLA_INFO_DATA holds VETH_INFO_PEER, which is a whole
// struct ifinfomsg plus link attributes describing the peer (its name, and
// IFLA_NET_NS_FD to create it directly in another namespace). Its driver,
// vethKind, lives with the link codec it reuses (link.ts).
import type { AttributeSet } from '../attribute-set.js'
import type { LinkMessage } from '../link.js'

export const VETH_INFO_PEER = 1

export interface VethData extends AttributeSet {
  /** The peer end: sent when creating a pair; the kernel does not report it back. */
  peer?: LinkMessage
}

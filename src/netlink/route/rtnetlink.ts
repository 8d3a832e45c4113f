// rtnetlink message types, multicast groups and address families shared by
// the route-family codecs (linux/rtnetlink.h, linux/socket.h).

export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18
export const RTM_SETLINK = 19
export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22
export const RTM_NEWROUTE = 24
export const RTM_DELROUTE = 25
export const RTM_GETROUTE = 26
export const RTM_NEWNEIGH = 28
export const RTM_DELNEIGH = 29
export const RTM_GETNEIGH = 30
export const RTM_NEWRULE = 32
export const RTM_DELRULE = 33
export const RTM_GETRULE = 34
export const RTM_NEWNSID = 88
export const RTM_DELNSID = 89
export const RTM_GETNSID = 90
export const RTM_NEWNEXTHOP = 104
export const RTM_DELNEXTHOP = 105
export const RTM_GETNEXTHOP = 106

/** Message type → its kernel name, for error contexts and debugging. */
export const RTM_NAMES: Record<number, string> = {
  16: 'RTM_NEWLINK', 17: 'RTM_DELLINK', 18: 'RTM_GETLINK', 19: 'RTM_SETLINK',
  20: 'RTM_NEWADDR', 21: 'RTM_DELADDR', 22: 'RTM_GETADDR',
  24: 'RTM_NEWROUTE', 25: 'RTM_DELROUTE', 26: 'RTM_GETROUTE',
  28: 'RTM_NEWNEIGH', 29: 'RTM_DELNEIGH', 30: 'RTM_GETNEIGH',
  32: 'RTM_NEWRULE', 33: 'RTM_DELRULE', 34: 'RTM_GETRULE',
  88: 'RTM_NEWNSID', 89: 'RTM_DELNSID', 90: 'RTM_GETNSID',
  104: 'RTM_NEWNEXTHOP', 105: 'RTM_DELNEXTHOP', 106: 'RTM_GETNEXTHOP'
}

// Address families
export const AF_UNSPEC = 0
export const AF_INET = 2
export const AF_BRIDGE = 7
export const AF_INET6 = 10
export const AF_PACKET = 17
export const AF_MPLS = 28

// Multicast groups (enum rtnetlink_groups): join with addMembership(group).
export const RTNLGRP_LINK = 1
export const RTNLGRP_NEIGH = 3
export const RTNLGRP_IPV4_IFADDR = 5
export const RTNLGRP_IPV4_ROUTE = 7
export const RTNLGRP_IPV6_IFADDR = 9
export const RTNLGRP_IPV4_RULE = 8
export const RTNLGRP_IPV6_ROUTE = 11
export const RTNLGRP_IPV6_RULE = 19
export const RTNLGRP_NSID = 28
export const RTNLGRP_NEXTHOP = 32

// IFLA_EXT_MASK / RTEXT_FILTER_*
export const RTEXT_FILTER_VF = 1
export const RTEXT_FILTER_BRVLAN = 2
export const RTEXT_FILTER_BRVLAN_COMPRESSED = 4
export const RTEXT_FILTER_SKIP_STATS = 8

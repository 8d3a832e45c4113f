// ctnetlink constants, named as in linux/netfilter/nfnetlink.h,
// linux/netfilter/nfnetlink_conntrack.h, linux/netfilter/nf_conntrack_common.h
// and linux/netfilter/nf_conntrack_tcp.h. Numbers inside ctnetlink attributes
// are big-endian (be16/be32/be64) unless noted (CTA_PROTO_NUM, the TCP
// protoinfo bytes and CTA_FILTER's flags are host order).

// --- nfnetlink.h ---------------------------------------------------------------
export const NFNL_SUBSYS_CTNETLINK = 1
export const NFNLGRP_CONNTRACK_NEW = 1
export const NFNLGRP_CONNTRACK_UPDATE = 2
export const NFNLGRP_CONNTRACK_DESTROY = 3

// --- enum cntl_msg_types (the low byte; the subsystem is the high byte) --------
export const IPCTNL_MSG_CT_NEW = 0
export const IPCTNL_MSG_CT_GET = 1
export const IPCTNL_MSG_CT_DELETE = 2
export const IPCTNL_MSG_CT_GET_CTRZERO = 3
export const IPCTNL_MSG_CT_GET_STATS_CPU = 4
export const IPCTNL_MSG_CT_GET_STATS = 5
export const IPCTNL_MSG_CT_GET_DYING = 6
export const IPCTNL_MSG_CT_GET_UNCONFIRMED = 7

export const IPCTNL_MSG_NAMES: Record<number, string> = {
  0: 'IPCTNL_MSG_CT_NEW', 1: 'IPCTNL_MSG_CT_GET', 2: 'IPCTNL_MSG_CT_DELETE', 3: 'IPCTNL_MSG_CT_GET_CTRZERO',
  4: 'IPCTNL_MSG_CT_GET_STATS_CPU', 5: 'IPCTNL_MSG_CT_GET_STATS', 6: 'IPCTNL_MSG_CT_GET_DYING', 7: 'IPCTNL_MSG_CT_GET_UNCONFIRMED'
}

// --- enum ctattr_type ------------------------------------------------------------
export const CTA_UNSPEC = 0
export const CTA_TUPLE_ORIG = 1
export const CTA_TUPLE_REPLY = 2
export const CTA_STATUS = 3
export const CTA_PROTOINFO = 4
export const CTA_HELP = 5
export const CTA_NAT_SRC = 6
export const CTA_TIMEOUT = 7
export const CTA_MARK = 8
export const CTA_COUNTERS_ORIG = 9
export const CTA_COUNTERS_REPLY = 10
export const CTA_USE = 11
export const CTA_ID = 12
export const CTA_NAT_DST = 13
export const CTA_TUPLE_MASTER = 14
export const CTA_SEQ_ADJ_ORIG = 15
export const CTA_SEQ_ADJ_REPLY = 16
export const CTA_SECMARK = 17
export const CTA_ZONE = 18
export const CTA_SECCTX = 19
export const CTA_TIMESTAMP = 20
export const CTA_MARK_MASK = 21
export const CTA_LABELS = 22
export const CTA_LABELS_MASK = 23
export const CTA_SYNPROXY = 24
export const CTA_FILTER = 25
export const CTA_STATUS_MASK = 26

// --- enum ctattr_tuple -------------------------------------------------------------
export const CTA_TUPLE_IP = 1
export const CTA_TUPLE_PROTO = 2
export const CTA_TUPLE_ZONE = 3

// --- enum ctattr_ip ------------------------------------------------------------------
export const CTA_IP_V4_SRC = 1
export const CTA_IP_V4_DST = 2
export const CTA_IP_V6_SRC = 3
export const CTA_IP_V6_DST = 4

// --- enum ctattr_l4proto -------------------------------------------------------------
export const CTA_PROTO_NUM = 1
export const CTA_PROTO_SRC_PORT = 2
export const CTA_PROTO_DST_PORT = 3
export const CTA_PROTO_ICMP_ID = 4
export const CTA_PROTO_ICMP_TYPE = 5
export const CTA_PROTO_ICMP_CODE = 6
export const CTA_PROTO_ICMPV6_ID = 7
export const CTA_PROTO_ICMPV6_TYPE = 8
export const CTA_PROTO_ICMPV6_CODE = 9

// --- enum ctattr_protoinfo and its TCP / DCCP / SCTP members ---------------------------
export const CTA_PROTOINFO_TCP = 1
export const CTA_PROTOINFO_DCCP = 2
export const CTA_PROTOINFO_SCTP = 3
export const CTA_PROTOINFO_TCP_STATE = 1
export const CTA_PROTOINFO_TCP_WSCALE_ORIGINAL = 2
export const CTA_PROTOINFO_TCP_WSCALE_REPLY = 3
export const CTA_PROTOINFO_TCP_FLAGS_ORIGINAL = 4
export const CTA_PROTOINFO_TCP_FLAGS_REPLY = 5
export const CTA_PROTOINFO_DCCP_STATE = 1
export const CTA_PROTOINFO_DCCP_ROLE = 2
export const CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ = 3
export const CTA_PROTOINFO_SCTP_STATE = 1
export const CTA_PROTOINFO_SCTP_VTAG_ORIGINAL = 2
export const CTA_PROTOINFO_SCTP_VTAG_REPLY = 3

// --- enum ctattr_counters / ctattr_tstamp / ctattr_help / ctattr_secctx ------------------
export const CTA_COUNTERS_PACKETS = 1
export const CTA_COUNTERS_BYTES = 2
export const CTA_COUNTERS32_PACKETS = 3
export const CTA_COUNTERS32_BYTES = 4
export const CTA_TIMESTAMP_START = 1
export const CTA_TIMESTAMP_STOP = 2
export const CTA_HELP_NAME = 1
export const CTA_HELP_INFO = 2
export const CTA_SECCTX_NAME = 1

// --- enum ctattr_seqadj / ctattr_synproxy ---------------------------------------------------
export const CTA_SEQADJ_CORRECTION_POS = 1
export const CTA_SEQADJ_OFFSET_BEFORE = 2
export const CTA_SEQADJ_OFFSET_AFTER = 3
export const CTA_SYNPROXY_ISN = 1
export const CTA_SYNPROXY_ITS = 2
export const CTA_SYNPROXY_TSOFF = 3

// --- enum ctattr_filter: CTA_FILTER_ORIG_FLAGS / REPLY_FLAGS are u32 (host order) -----------
export const CTA_FILTER_ORIG_FLAGS = 1
export const CTA_FILTER_REPLY_FLAGS = 2
/** The filter flags: one bit per tuple attribute the kernel should compare (CTA_FILTER_FLAG in the kernel). */
export const CTA_FILTER_F_CTA_IP_SRC = 1 << 0
export const CTA_FILTER_F_CTA_IP_DST = 1 << 1
export const CTA_FILTER_F_CTA_TUPLE_ZONE = 1 << 2
export const CTA_FILTER_F_CTA_PROTO_NUM = 1 << 3
export const CTA_FILTER_F_CTA_PROTO_SRC_PORT = 1 << 4
export const CTA_FILTER_F_CTA_PROTO_DST_PORT = 1 << 5

// --- nf_conntrack_common.h: enum ip_conntrack_status (CTA_STATUS bits) -----------------------
export const IPS_EXPECTED = 1 << 0
export const IPS_SEEN_REPLY = 1 << 1
export const IPS_ASSURED = 1 << 2
export const IPS_CONFIRMED = 1 << 3
export const IPS_SRC_NAT = 1 << 4
export const IPS_DST_NAT = 1 << 5
export const IPS_SEQ_ADJUST = 1 << 6
export const IPS_SRC_NAT_DONE = 1 << 7
export const IPS_DST_NAT_DONE = 1 << 8
export const IPS_DYING = 1 << 9
export const IPS_FIXED_TIMEOUT = 1 << 10
export const IPS_TEMPLATE = 1 << 11
export const IPS_UNTRACKED = 1 << 12
export const IPS_NAT_CLASH = 1 << 12
export const IPS_HELPER = 1 << 13
export const IPS_OFFLOAD = 1 << 14
export const IPS_HW_OFFLOAD = 1 << 15

/** Status bit names as the conntrack program prints them ([ASSURED], [UNREPLIED] is "no SEEN_REPLY"). */
export const IPS_NAMES: Array<[number, string]> = [
  [IPS_EXPECTED, 'EXPECTED'], [IPS_SEEN_REPLY, 'SEEN_REPLY'], [IPS_ASSURED, 'ASSURED'], [IPS_CONFIRMED, 'CONFIRMED'],
  [IPS_SRC_NAT, 'SRC_NAT'], [IPS_DST_NAT, 'DST_NAT'], [IPS_SEQ_ADJUST, 'SEQ_ADJUST'], [IPS_SRC_NAT_DONE, 'SRC_NAT_DONE'],
  [IPS_DST_NAT_DONE, 'DST_NAT_DONE'], [IPS_DYING, 'DYING'], [IPS_FIXED_TIMEOUT, 'FIXED_TIMEOUT'], [IPS_TEMPLATE, 'TEMPLATE'],
  [IPS_NAT_CLASH, 'NAT_CLASH'], [IPS_HELPER, 'HELPER'], [IPS_OFFLOAD, 'OFFLOAD'], [IPS_HW_OFFLOAD, 'HW_OFFLOAD']
]

// --- nf_conntrack_tcp.h: enum tcp_conntrack (CTA_PROTOINFO_TCP_STATE) ----------------------
export const TCP_CONNTRACK_STATES = [
  'NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'
] as const

// IP protocol numbers the tuple codec knows the ports or ids of.
export const IPPROTO_ICMP = 1
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17
export const IPPROTO_DCCP = 33
export const IPPROTO_GRE = 47
export const IPPROTO_ICMPV6 = 58
export const IPPROTO_SCTP = 132
export const IPPROTO_UDPLITE = 136

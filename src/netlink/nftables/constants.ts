// nf_tables and nfnetlink constants, named as in linux/netfilter/nfnetlink.h,
// linux/netfilter/nf_tables.h, linux/netfilter.h and linux/netfilter_bridge.h.
// Numbers inside nf_tables attributes are big-endian (be32/be64) unless noted.

// --- nfnetlink.h -----------------------------------------------------------
export const NFNETLINK_V0 = 0
export const NFNL_SUBSYS_NFTABLES = 10
/** Control messages of nfnetlink batches (res_id carries the subsystem). */
export const NFNL_MSG_BATCH_BEGIN = 0x10
export const NFNL_MSG_BATCH_END = 0x11
export const NFNL_BATCH_GENID = 1
export const NFNLGRP_NFTABLES = 7

// --- nf_tables.h: message types (the low byte; the subsystem is the high byte)
export const NFT_MSG_NEWTABLE = 0
export const NFT_MSG_GETTABLE = 1
export const NFT_MSG_DELTABLE = 2
export const NFT_MSG_NEWCHAIN = 3
export const NFT_MSG_GETCHAIN = 4
export const NFT_MSG_DELCHAIN = 5
export const NFT_MSG_NEWRULE = 6
export const NFT_MSG_GETRULE = 7
export const NFT_MSG_DELRULE = 8
export const NFT_MSG_NEWSET = 9
export const NFT_MSG_GETSET = 10
export const NFT_MSG_DELSET = 11
export const NFT_MSG_NEWSETELEM = 12
export const NFT_MSG_GETSETELEM = 13
export const NFT_MSG_DELSETELEM = 14
export const NFT_MSG_NEWGEN = 15
export const NFT_MSG_GETGEN = 16
export const NFT_MSG_TRACE = 17
export const NFT_MSG_NEWOBJ = 18
export const NFT_MSG_GETOBJ = 19
export const NFT_MSG_DELOBJ = 20
export const NFT_MSG_GETOBJ_RESET = 21
export const NFT_MSG_NEWFLOWTABLE = 22
export const NFT_MSG_GETFLOWTABLE = 23
export const NFT_MSG_DELFLOWTABLE = 24
export const NFT_MSG_DESTROYTABLE = 26
export const NFT_MSG_DESTROYCHAIN = 27
export const NFT_MSG_DESTROYRULE = 28

export const NFT_MSG_NAMES: Record<number, string> = {
  0: 'NFT_MSG_NEWTABLE', 1: 'NFT_MSG_GETTABLE', 2: 'NFT_MSG_DELTABLE',
  3: 'NFT_MSG_NEWCHAIN', 4: 'NFT_MSG_GETCHAIN', 5: 'NFT_MSG_DELCHAIN',
  6: 'NFT_MSG_NEWRULE', 7: 'NFT_MSG_GETRULE', 8: 'NFT_MSG_DELRULE',
  9: 'NFT_MSG_NEWSET', 10: 'NFT_MSG_GETSET', 11: 'NFT_MSG_DELSET',
  12: 'NFT_MSG_NEWSETELEM', 13: 'NFT_MSG_GETSETELEM', 14: 'NFT_MSG_DELSETELEM',
  15: 'NFT_MSG_NEWGEN', 16: 'NFT_MSG_GETGEN', 17: 'NFT_MSG_TRACE',
  18: 'NFT_MSG_NEWOBJ', 19: 'NFT_MSG_GETOBJ', 20: 'NFT_MSG_DELOBJ', 21: 'NFT_MSG_GETOBJ_RESET',
  22: 'NFT_MSG_NEWFLOWTABLE', 23: 'NFT_MSG_GETFLOWTABLE', 24: 'NFT_MSG_DELFLOWTABLE',
  26: 'NFT_MSG_DESTROYTABLE', 27: 'NFT_MSG_DESTROYCHAIN', 28: 'NFT_MSG_DESTROYRULE'
}

// --- netfilter.h: families (nfgen_family) ------------------------------------
export const NFPROTO_UNSPEC = 0
export const NFPROTO_INET = 1
export const NFPROTO_IPV4 = 2
export const NFPROTO_ARP = 3
export const NFPROTO_NETDEV = 5
export const NFPROTO_BRIDGE = 7
export const NFPROTO_IPV6 = 10

/** Table families by the names nft uses. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev'
export const NFT_FAMILIES: Record<NftFamily, number> = {
  ip: NFPROTO_IPV4, ip6: NFPROTO_IPV6, inet: NFPROTO_INET, arp: NFPROTO_ARP, bridge: NFPROTO_BRIDGE, netdev: NFPROTO_NETDEV
}
const FAMILY_BY_NUMBER: Array<NftFamily | undefined> = []
for (const [name, n] of Object.entries(NFT_FAMILIES)) FAMILY_BY_NUMBER[n] = name as NftFamily
/** The nft name of an nfgen_family number, undefined when it is not a table family. */
export function nftFamilyName (n: number): NftFamily | undefined { return FAMILY_BY_NUMBER[n] }
export function nftFamilyNumber (f: NftFamily): number {
  const n = NFT_FAMILIES[f]
  if (n === undefined) throw new TypeError(`unknown nf_tables family ${JSON.stringify(f)}`)
  return n
}

// Verdicts: netfilter.h (NF_*) and nf_tables.h (NFT_*), sent as be32 of the signed value.
export const NF_DROP = 0
export const NF_ACCEPT = 1
export const NF_QUEUE = 3
export const NFT_CONTINUE = -1
export const NFT_BREAK = -2
export const NFT_JUMP = -3
export const NFT_GOTO = -4
export const NFT_RETURN = -5
export const NFT_VERDICT_NAMES: Record<number, string> = {
  [NF_DROP]: 'drop', [NF_ACCEPT]: 'accept', [NF_QUEUE]: 'queue', [NFT_CONTINUE]: 'continue',
  [NFT_BREAK]: 'break', [NFT_JUMP]: 'jump', [NFT_GOTO]: 'goto', [NFT_RETURN]: 'return'
}

// Hooks: netfilter.h (inet, ip, ip6), netfilter_bridge.h (same numbers), netdev.
export const NF_INET_PRE_ROUTING = 0
export const NF_INET_LOCAL_IN = 1
export const NF_INET_FORWARD = 2
export const NF_INET_LOCAL_OUT = 3
export const NF_INET_POST_ROUTING = 4
export const NF_INET_INGRESS = 5
export const NF_BR_PRE_ROUTING = 0
export const NF_BR_LOCAL_IN = 1
export const NF_BR_FORWARD = 2
export const NF_BR_LOCAL_OUT = 3
export const NF_BR_POST_ROUTING = 4
export const NF_NETDEV_INGRESS = 0
export const NF_NETDEV_EGRESS = 1
// Priorities nft names (srcnat = NF_IP_PRI_NAT_SRC ...), and the bridge ones.
export const NF_IP_PRI_RAW = -300
export const NF_IP_PRI_MANGLE = -150
export const NF_IP_PRI_NAT_DST = -100
export const NF_IP_PRI_FILTER = 0
export const NF_IP_PRI_SECURITY = 50
export const NF_IP_PRI_NAT_SRC = 100
export const NF_BR_PRI_NAT_DST_BRIDGED = -300
export const NF_BR_PRI_FILTER_BRIDGED = -200
export const NF_BR_PRI_NAT_DST_OTHER = 100
export const NF_BR_PRI_FILTER_OTHER = 200
export const NF_BR_PRI_NAT_SRC = 300

// --- nf_tables.h: attributes -------------------------------------------------
export const NFTA_LIST_ELEM = 1

export const NFTA_HOOK_HOOKNUM = 1
export const NFTA_HOOK_PRIORITY = 2
export const NFTA_HOOK_DEV = 3
export const NFTA_HOOK_DEVS = 4

export const NFT_TABLE_F_DORMANT = 0x1
export const NFT_TABLE_F_OWNER = 0x2
export const NFTA_TABLE_NAME = 1
export const NFTA_TABLE_FLAGS = 2
export const NFTA_TABLE_USE = 3
export const NFTA_TABLE_HANDLE = 4
export const NFTA_TABLE_PAD = 5
export const NFTA_TABLE_USERDATA = 6
export const NFTA_TABLE_OWNER = 7

export const NFT_CHAIN_BASE = 1 << 0
export const NFT_CHAIN_HW_OFFLOAD = 1 << 1
export const NFT_CHAIN_BINDING = 1 << 2
export const NFTA_CHAIN_TABLE = 1
export const NFTA_CHAIN_HANDLE = 2
export const NFTA_CHAIN_NAME = 3
export const NFTA_CHAIN_HOOK = 4
export const NFTA_CHAIN_POLICY = 5
export const NFTA_CHAIN_USE = 6
export const NFTA_CHAIN_TYPE = 7
export const NFTA_CHAIN_COUNTERS = 8
export const NFTA_CHAIN_PAD = 9
export const NFTA_CHAIN_FLAGS = 10
export const NFTA_CHAIN_ID = 11
export const NFTA_CHAIN_USERDATA = 12

export const NFTA_RULE_TABLE = 1
export const NFTA_RULE_CHAIN = 2
export const NFTA_RULE_HANDLE = 3
export const NFTA_RULE_EXPRESSIONS = 4
export const NFTA_RULE_COMPAT = 5
export const NFTA_RULE_POSITION = 6
export const NFTA_RULE_USERDATA = 7
export const NFTA_RULE_PAD = 8
export const NFTA_RULE_ID = 9
export const NFTA_RULE_POSITION_ID = 10
export const NFTA_RULE_CHAIN_ID = 11

export const NFTA_GEN_ID = 1
export const NFTA_GEN_PROC_PID = 2
export const NFTA_GEN_PROC_NAME = 3

export const NFTA_DATA_VALUE = 1
export const NFTA_DATA_VERDICT = 2
export const NFT_DATA_VALUE_MAXLEN = 64
export const NFTA_VERDICT_CODE = 1
export const NFTA_VERDICT_CHAIN = 2
export const NFTA_VERDICT_CHAIN_ID = 3

export const NFTA_EXPR_NAME = 1
export const NFTA_EXPR_DATA = 2

// Registers: NFT_REG_1..4 are the 128-bit ones nft uses; NFT_REG32_* the 32-bit views.
export const NFT_REG_VERDICT = 0
export const NFT_REG_1 = 1
export const NFT_REG_2 = 2
export const NFT_REG_3 = 3
export const NFT_REG_4 = 4
export const NFT_REG32_00 = 8

export const NFTA_IMMEDIATE_DREG = 1
export const NFTA_IMMEDIATE_DATA = 2

export const NFT_BITWISE_MASK_XOR = 0
export const NFT_BITWISE_LSHIFT = 1
export const NFT_BITWISE_RSHIFT = 2
export const NFTA_BITWISE_SREG = 1
export const NFTA_BITWISE_DREG = 2
export const NFTA_BITWISE_LEN = 3
export const NFTA_BITWISE_MASK = 4
export const NFTA_BITWISE_XOR = 5
export const NFTA_BITWISE_OP = 6
export const NFTA_BITWISE_DATA = 7

export const NFT_CMP_EQ = 0
export const NFT_CMP_NEQ = 1
export const NFT_CMP_LT = 2
export const NFT_CMP_LTE = 3
export const NFT_CMP_GT = 4
export const NFT_CMP_GTE = 5
export const NFTA_CMP_SREG = 1
export const NFTA_CMP_OP = 2
export const NFTA_CMP_DATA = 3

export const NFT_LOOKUP_F_INV = 1 << 0
export const NFTA_LOOKUP_SET = 1
export const NFTA_LOOKUP_SREG = 2
export const NFTA_LOOKUP_DREG = 3
export const NFTA_LOOKUP_SET_ID = 4
export const NFTA_LOOKUP_FLAGS = 5

export const NFT_PAYLOAD_LL_HEADER = 0
export const NFT_PAYLOAD_NETWORK_HEADER = 1
export const NFT_PAYLOAD_TRANSPORT_HEADER = 2
export const NFT_PAYLOAD_INNER_HEADER = 3
export const NFTA_PAYLOAD_DREG = 1
export const NFTA_PAYLOAD_BASE = 2
export const NFTA_PAYLOAD_OFFSET = 3
export const NFTA_PAYLOAD_LEN = 4
export const NFTA_PAYLOAD_SREG = 5
export const NFTA_PAYLOAD_CSUM_TYPE = 6
export const NFTA_PAYLOAD_CSUM_OFFSET = 7
export const NFTA_PAYLOAD_CSUM_FLAGS = 8

export const NFT_META_LEN = 0
export const NFT_META_PROTOCOL = 1
export const NFT_META_PRIORITY = 2
export const NFT_META_MARK = 3
export const NFT_META_IIF = 4
export const NFT_META_OIF = 5
export const NFT_META_IIFNAME = 6
export const NFT_META_OIFNAME = 7
export const NFT_META_IIFTYPE = 8
export const NFT_META_OIFTYPE = 9
export const NFT_META_NFPROTO = 15
export const NFT_META_L4PROTO = 16
export const NFT_META_BRI_IIFNAME = 17
export const NFT_META_BRI_OIFNAME = 18
export const NFTA_META_DREG = 1
export const NFTA_META_KEY = 2
export const NFTA_META_SREG = 3

export const NFTA_COUNTER_BYTES = 1
export const NFTA_COUNTER_PACKETS = 2
export const NFTA_COUNTER_PAD = 3

export const NFTA_MASQ_FLAGS = 1
export const NFTA_MASQ_REG_PROTO_MIN = 2
export const NFTA_MASQ_REG_PROTO_MAX = 3

// libnftnl's rule userdata TLVs (udata.h): u8 type, u8 length, value.
export const NFTNL_UDATA_RULE_COMMENT = 0
export const NFTNL_UDATA_RULE_EBTABLES_POLICY = 1
export const NFTNL_UDATA_COMMENT_MAXLEN = 128

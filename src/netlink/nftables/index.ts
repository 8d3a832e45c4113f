// nf_tables over netlink (NETLINK_NETFILTER): codecs for tables, chains,
// rules and expressions, batches, a rule builder, and NftService.
export * from './constants.js'
export * from './nfgenmsg.js'
export * from './data.js'
export * from './userdata.js'
export * from './expressions/index.js'
export * from './table.js'
export * from './chain.js'
export * from './rule.js'
export * from './batch.js'
export * from './messages.js'
export * from './match.js'
export * from './service.js'

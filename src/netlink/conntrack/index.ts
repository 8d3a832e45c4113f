// Connection tracking over netlink (NETLINK_NETFILTER, ctnetlink): the entry
// codec, its requests, and ConntrackService.
export * from './constants.js'
export * from './conntrack.js'
export * from './service.js'

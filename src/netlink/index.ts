// tscni/netlink: a standalone rtnetlink library. Nothing here knows about CNI.
export * from './errors.js'
export * from './addr.js'
export * from './attributes.js'
export * from './message.js'
export * from './socket.js'
export * from './netns.js'
export { SystemCallError, flock, flockAsync, LOCK_EX, LOCK_SH, LOCK_NB, LOCK_UN } from './libc.js'

// tscni/cni: the CNI spec layer the plugins are built on. Plugins should
// import the modules they need directly (start-up time); this entry is the
// public API for everyone else.
export * from './errors.js'
export * from './env.js'
export * from './version.js'
export * from './result.js'
export * from './args.js'
export * from './config.js'
export * from './skel.js'
export * from './invoke.js'
export { marshalIndent, marshalCompact, fieldCI, goQuote, goQuoteList, isObject, type JSONObject } from './json.js'

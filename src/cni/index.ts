// tscni/cni: the CNI spec layer (spec 1.1.0) the plugins are built on, a
// drop-in for the Go library's pkg/skel, pkg/types, pkg/invoke, pkg/version.
//
// A plugin:
//   import { runPlugin } from 'tscni/cni'   // plugins: import './cni/skel.js' directly (start-up)
//   await runPlugin({
//     name: 'mine',
//     async add (ctx) {                          // env, config and version already checked
//       const conf = await validateWithSchema(ctx.config, () => import('./schema.js'))  // zod, lazily; errors → code 7
//       const ipam = await delegateAdd(conf.ipam.type, ctx.stdin, ctx.env, delegateOptionsOf(ctx))
//       return { cniVersion: '1.1.0', interfaces: [...], ips: ipam.ips }   // printed in ctx.cniVersion
//     },
//     async del (ctx) { ... }, async check (ctx) { ... }, async gc (ctx) { ... }, async status (ctx) { ... }
//   })
// Errors: throw CniError(code, msg, details) (errors.ts); anything else is
// reported as code 999 with its message. Logs: ctx.log (stderr, or the
// config's "logFile"; level "logLevel", default warn).
export * from './errors.js'
export * from './env.js'
export * from './version.js'
export * from './result.js'
export * from './args.js'
export * from './config.js'
export * from './skel.js'
export * from './invoke.js'
export { marshalIndent, marshalCompact, fieldCI, goQuote, goQuoteList, isObject, jsonTypeName, type JSONObject } from './json.js'

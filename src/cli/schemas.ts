// The config schemas of our plugins, whole: the fields every network config
// shares (cniVersion, name, type, …) plus each plugin's own, from the zod
// schemas the plugins themselves use to explain a mistyped config (one
// definition of each field). `npm run build` writes them as JSON Schema to
// schemas/*.json (scripts/build-schemas.mjs), and `tscni validate` checks
// types with them. Never loaded by a plugin run.
import * as z from 'zod/mini'
import { schema as bridgeFields } from '../plugins/bridge/schema.js'
import { schema as hostLocalFields } from '../ipam/config-schema.js'
import { baseShape } from '../cni/config.js'
import { toZod } from '../cni/shape-zod.js'

type Shape = Record<string, z.ZodMiniType>

const shapeOf = (s: unknown): Shape => (s as { _zod: { def: { shape: Shape } } })._zod.def.shape

/** The fields of every network config (the skel's baseShape); `type` is required here: a runtime needs it. */
const baseFields: Shape = { ...shapeOf(toZod(baseShape)), type: z.string() }

/** A plugin's whole config: the shared fields, then its own (which win, e.g. a typed runtimeConfig). Unknown keys are allowed, as in Go. */
function pluginSchema (own: Shape): z.ZodMiniType {
  return z.looseObject({ ...baseFields, ...own })
}

/** The zod schema of each plugin's whole stdin config, by plugin type. */
export const PLUGIN_SCHEMAS: Readonly<Record<string, z.ZodMiniType>> = {
  bridge: pluginSchema(shapeOf(bridgeFields)),
  'host-local': pluginSchema(shapeOf(hostLocalFields)),
  loopback: pluginSchema({})
}

/** A network configuration list (.conflist), as libcni reads it; the plugins are checked one by one. */
export const CONFLIST_SCHEMA = z.looseObject({
  cniVersion: z.optional(z.string()),
  cniVersions: z.optional(z.array(z.string())),
  name: z.string(),
  disableCheck: z.optional(z.boolean()),
  disableGC: z.optional(z.boolean()),
  loadOnlyInlinedPlugins: z.optional(z.boolean()),
  plugins: z.array(z.looseObject({ type: z.string() }))
})

/** Descriptions for the JSON Schema (editors show them); keys are top-level fields. */
const DESCRIPTIONS: Record<string, Record<string, string>> = {
  '*': {
    cniVersion: 'CNI spec version of this config; absent = 0.1.0',
    name: 'network name: letters, digits, "_", "." and "-", starting with a letter or digit',
    type: 'the plugin to run',
    logFile: 'tscni: append log lines to this file instead of stderr',
    logLevel: 'tscni: error, warn (default), info or debug (debug: each step with its duration)'
  },
  bridge: {
    bridge: 'bridge name (default cni0); created if missing',
    mtu: 'MTU of the bridge and both veth ends; "auto" = the MTU of the interface carrying the default route (IPv4, else IPv6); applied to an existing bridge too',
    groupFwdMask: 'IFLA_BR_GROUP_FWD_MASK: link-local groups 01:80:C2:00:00:0X the bridge forwards (16384 = LLDP); bits 0-2 are refused by the kernel; 0/absent = leave as is',
    enableSlaac: 'keep IPv6 router advertisements and SLAAC on in the container (default: accept_ra=0, autoconf=0 before the interface goes up)',
    isolate: 'drop forwarded traffic between this bridge and every other bridge of an isolate:true network (nf_tables table inet tscni_isolation)',
    ipam: 'IPAM plugin config; {} or absent = L2 only; keys without "type" are an error'
  },
  'host-local': {
    ipam: 'host-local: ranges, routes, dataDir, resolvConf'
  },
  loopback: {}
}

function describe (json: Record<string, any>, plugin: string): Record<string, any> {
  const props = json.properties as Record<string, Record<string, unknown>> | undefined
  if (props === undefined) return json
  for (const [key, text] of Object.entries({ ...DESCRIPTIONS['*'], ...DESCRIPTIONS[plugin] })) {
    if (props[key] !== undefined) props[key] = { description: text, ...props[key] }
  }
  return json
}

/** JSON Schema (draft 2020-12) of every plugin's config and of a conflist, by file name (without .json). */
export function jsonSchemas (): Record<string, Record<string, any>> {
  const out: Record<string, Record<string, any>> = {}
  for (const [plugin, schema] of Object.entries(PLUGIN_SCHEMAS)) {
    out[plugin] = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `tscni/schemas/${plugin}.json`,
      title: `tscni ${plugin} plugin network config`,
      ...describe(withoutDialect(z.toJSONSchema(schema, { io: 'input' })), plugin)
    }
  }
  // In a list the plugins get name and cniVersion from the list (libcni injects them).
  const defs: Record<string, unknown> = {}
  for (const plugin of Object.keys(PLUGIN_SCHEMAS)) {
    const { $schema, $id, title, ...rest } = out[plugin]!
    void $schema; void $id; void title
    defs[plugin] = { ...rest, required: (rest.required as string[]).filter(k => k !== 'name') }
  }
  const list = withoutDialect(z.toJSONSchema(CONFLIST_SCHEMA, { io: 'input' }))
  list.properties.plugins.items = {
    ...list.properties.plugins.items,
    allOf: Object.keys(PLUGIN_SCHEMAS).map(p => ({ if: { properties: { type: { const: p } } }, then: { $ref: `#/$defs/${p}` } }))
  }
  out.conflist = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'tscni/schemas/conflist.json',
    title: 'CNI network configuration list (tscni plugins checked by type)',
    ...describe(list, '*'),
    $defs: defs
  }
  return out
}

function withoutDialect (json: Record<string, any>): Record<string, any> {
  const { $schema, ...rest } = json
  void $schema
  return rest
}

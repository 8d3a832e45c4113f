// The bridge plugin's config schema (zod/mini, which bundles small). Loaded
// only when the fast check in config.ts finds a field of the wrong type, to
// name every bad field precisely; a valid config never loads it. Also the
// source of schemas/bridge.json and of `tscni validate` (src/cli/schemas.ts).
import * as z from 'zod/mini'

const vlanTrunk = z.object({
  id: z.optional(z.int()),
  minID: z.optional(z.int()),
  maxID: z.optional(z.int())
})

const dns = z.object({
  nameservers: z.optional(z.array(z.string())),
  domain: z.optional(z.string()),
  search: z.optional(z.array(z.string())),
  options: z.optional(z.array(z.string()))
})

export const schema = z.object({
  bridge: z.optional(z.string()),
  isGateway: z.optional(z.boolean()),
  isDefaultGateway: z.optional(z.boolean()),
  forceAddress: z.optional(z.boolean()),
  ipMasq: z.optional(z.boolean()),
  ipMasqBackend: z.optional(z.string()),
  mtu: z.optional(z.union([z.int().check(z.minimum(0)), z.literal('auto')])),
  hairpinMode: z.optional(z.boolean()),
  promiscMode: z.optional(z.boolean()),
  vlan: z.optional(z.int().check(z.minimum(0), z.maximum(4094))),
  vlanTrunk: z.optional(z.array(z.nullable(vlanTrunk))),
  preserveDefaultVlan: z.optional(z.boolean()),
  macspoofchk: z.optional(z.boolean()),
  enabledad: z.optional(z.boolean()),
  disableContainerInterface: z.optional(z.boolean()),
  portIsolation: z.optional(z.boolean()),
  groupFwdMask: z.optional(z.int().check(z.minimum(0), z.maximum(65535))),
  enableSlaac: z.optional(z.boolean()),
  isolate: z.optional(z.boolean()),
  ipam: z.optional(z.looseObject({ type: z.optional(z.string()) })),
  dns: z.optional(dns),
  args: z.optional(z.object({ cni: z.optional(z.object({ mac: z.optional(z.string()) })) })),
  runtimeConfig: z.optional(z.object({ mac: z.optional(z.string()) }))
})

export default schema

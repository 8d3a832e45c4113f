// The bridge plugin's config schema (zod). Loaded only when the fast check in
// config.ts finds a field of the wrong type, to name every bad field
// precisely; a valid config never loads zod (~45 ms of start-up).
import { z } from 'zod'

const int = z.number().int()

const vlanTrunk = z.object({
  id: int.optional(),
  minID: int.optional(),
  maxID: int.optional()
})

const dns = z.object({
  nameservers: z.array(z.string()).optional(),
  domain: z.string().optional(),
  search: z.array(z.string()).optional(),
  options: z.array(z.string()).optional()
})

export const schema = z.object({
  bridge: z.string().optional(),
  isGateway: z.boolean().optional(),
  isDefaultGateway: z.boolean().optional(),
  forceAddress: z.boolean().optional(),
  ipMasq: z.boolean().optional(),
  ipMasqBackend: z.string().optional(),
  mtu: int.optional(),
  hairpinMode: z.boolean().optional(),
  promiscMode: z.boolean().optional(),
  vlan: int.optional(),
  vlanTrunk: z.array(vlanTrunk.nullable()).optional(),
  preserveDefaultVlan: z.boolean().optional(),
  macspoofchk: z.boolean().optional(),
  enabledad: z.boolean().optional(),
  disableContainerInterface: z.boolean().optional(),
  portIsolation: z.boolean().optional(),
  ipam: z.object({ type: z.string().optional() }).optional(),
  dns: dns.optional(),
  args: z.object({ cni: z.object({ mac: z.string().optional() }).optional() }).optional(),
  runtimeConfig: z.object({ mac: z.string().optional() }).optional()
})

export default schema

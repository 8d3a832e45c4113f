// The shape of a host-local network config, as a zod schema. Loaded only
// when the fast reader in config.ts finds a field of the wrong type: the
// schema then names every bad field (importing zod costs ~50 ms, more than a
// whole plugin run, so the happy path never loads it).
import * as z from 'zod/mini'

const address = z.string()

const range = z.object({
  subnet: z.optional(z.string()),
  rangeStart: z.optional(address),
  rangeEnd: z.optional(address),
  gateway: z.optional(address)
})

const rangeSet = z.array(range)

const route = z.object({
  dst: z.string(),
  gw: z.optional(address),
  mtu: z.optional(z.int()),
  advmss: z.optional(z.int()),
  priority: z.optional(z.int()),
  table: z.optional(z.int()),
  scope: z.optional(z.int())
})

const attachment = z.object({
  containerID: z.string(),
  ifname: z.string()
})

export const ipamSchema = z.object({
  type: z.optional(z.string()),
  // The legacy single range at the top of ipam.
  subnet: z.optional(z.string()),
  rangeStart: z.optional(address),
  rangeEnd: z.optional(address),
  gateway: z.optional(address),
  ranges: z.optional(z.array(rangeSet)),
  routes: z.optional(z.array(route)),
  dataDir: z.optional(z.string()),
  resolvConf: z.optional(z.string()),
  reclaimAfterReboot: z.optional(z.boolean()),
  statusFailsWhenFull: z.optional(z.boolean())
})

export const schema = z.object({
  name: z.string(),
  cniVersion: z.optional(z.string()),
  ipam: z.optional(ipamSchema),
  runtimeConfig: z.optional(z.object({
    ipRanges: z.optional(z.array(rangeSet)),
    ips: z.optional(z.array(address))
  })),
  args: z.optional(z.object({
    cni: z.optional(z.object({
      ips: z.optional(z.array(address))
    }))
  })),
  'cni.dev/valid-attachments': z.optional(z.array(attachment)),
  'cni.dev/attachments': z.optional(z.array(attachment))
})

export type HostLocalNetConf = z.infer<typeof schema>

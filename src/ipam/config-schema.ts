// The host-local network config as a zod schema, made from the shape the fast
// reader uses (config.ts hostLocalShape). Loaded only when the fast reader
// finds a field of the wrong type: the schema then names every bad field
// (importing zod costs ~50 ms, more than a whole plugin run, so the happy
// path never loads it). Also the source of schemas/host-local.json.
import { toZod } from '../cni/shape-zod.js'
import { hostLocalShape } from './config.js'

export const schema = toZod(hostLocalShape)

export type { HostLocalNetConf } from './config.js'

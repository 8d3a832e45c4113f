// The bridge plugin's config schema (zod/mini), made from the shape the fast
// reader uses (config.ts bridgeShape). Loaded only when the fast reader finds
// a field of the wrong type, to name every bad field precisely; a valid
// config never loads it. Also the source of schemas/bridge.json and of
// `tscni validate` (src/cli/schemas.ts).
import { toZod } from '../../cni/shape-zod.js'
import { bridgeShape } from './config.js'

export const schema = toZod(bridgeShape)

export default schema

// GC's input (spec 1.1.0): the runtime lists the attachments that are still
// valid in `cni.dev/valid-attachments`; everything else of the network may go.
import { CniError, ErrInvalidNetworkConfig } from './errors.js'
import { fieldCI, isObject, jsonTypeName, type JSONObject } from './json.js'

export interface GCAttachment {
  containerID: string
  ifname: string
}

/**
 * The valid attachments of a GC config, or undefined when the config has no
 * list (then nothing is known to be stale). A malformed list is code 7
 * naming the bad entry.
 */
export function readGCAttachments (config: JSONObject, key = 'cni.dev/valid-attachments'): GCAttachment[] | undefined {
  const list = fieldCI(config, key)
  if (list === undefined) return undefined
  const bad = (path: string, expected: string, got: unknown): CniError =>
    new CniError(ErrInvalidNetworkConfig, 'invalid GC config', `${path}: expected ${expected}, ${got === undefined ? 'missing' : `got ${jsonTypeName(got)}`}`)
  if (!Array.isArray(list)) throw bad(key, 'array', list)
  return list.map((a, i) => {
    const p = `${key}[${i}]`
    if (!isObject(a)) throw bad(p, 'object', a)
    const containerID = fieldCI(a, 'containerID')
    const ifname = fieldCI(a, 'ifname')
    if (typeof containerID !== 'string') throw bad(`${p}.containerID`, 'string', containerID)
    if (typeof ifname !== 'string') throw bad(`${p}.ifname`, 'string', ifname)
    return { containerID, ifname }
  })
}

// Interface names for error messages. The address, route and neighbour
// services take interface indexes; when the kernel refuses a request they
// look the names up (one RTM_GETLINK each, only on failure) so the error says
// "dev eth0" rather than "dev index 3".
import { NetlinkWriter, AttributeReader } from '../attributes.js'
import { NetlinkError } from '../errors.js'
import { NLM_F_REQUEST } from '../message.js'
import type { NetlinkSocket } from '../socket.js'
import { RTM_GETLINK, RTM_NEWLINK } from './rtnetlink.js'

const IFINFOMSG_SIZE = 16
const IFLA_IFNAME = 3

/** The name of the interface with this index, or undefined when there is none. */
export async function interfaceName (socket: NetlinkSocket, index: number): Promise<string | undefined> {
  const w = new NetlinkWriter(32)
  w.beginMessage(RTM_GETLINK, NLM_F_REQUEST)
  const off = w.reserve(IFINFOMSG_SIZE)
  w.setS32(off + 4, index)
  w.endMessage()
  try {
    return await socket.get(w.bytes(), (buf, type, start, end) => {
      if (type !== RTM_NEWLINK) return undefined
      const r = new AttributeReader(buf, start + IFINFOMSG_SIZE, end)
      while (r.next()) if (r.type === IFLA_IFNAME) return r.string()
      return ''
    }, `RTM_GETLINK index ${index}`)
  } catch {
    return undefined
  }
}

/** "eth0", or "index 3" when the name is unknown. */
export type DeviceNamer = (index: number) => string

export const indexNamer: DeviceNamer = (index) => `index ${index}`

/**
 * Runs a request whose operation text names interfaces. If the kernel
 * refuses it, the interfaces are looked up and the error is raised again
 * with their names in the operation.
 */
export async function withDeviceNames<T> (
  socket: NetlinkSocket,
  indexes: readonly number[],
  describe: (dev: DeviceNamer) => string,
  run: (operation: string) => Promise<T>
): Promise<T> {
  try {
    return await run(describe(indexNamer))
  } catch (err) {
    if (!(err instanceof NetlinkError) || indexes.length === 0) throw err
    const names = new Map<number, string>()
    for (const i of new Set(indexes)) {
      const n = await interfaceName(socket, i)
      if (n !== undefined && n !== '') names.set(i, n)
    }
    if (names.size === 0) throw err
    const operation = describe((i) => names.get(i) ?? indexNamer(i))
    throw new NetlinkError(err.errno, { operation, namespace: err.namespace }, { message: err.kernelMessage, offset: err.kernelOffset })
  }
}

// Opening CNI_NETNS the way upstream's ns.GetNS does: the path must be on
// nsfs (or procfs, for /proc/PID/ns/net), so a plain file or a directory is
// refused before setns(2) is attempted, and a missing path is told apart
// (DEL then only releases the IPAM reservation).
import { statfsSync } from 'node:fs'
import { NetNamespace } from '../../netlink/netns.js'

const NSFS_MAGIC = 0x6e736673
const PROC_SUPER_MAGIC = 0x9fa0

/** CNI_NETNS does not exist (upstream's NSPathNotExistErr). */
export class NetnsMissingError extends Error {
  override name = 'NetnsMissingError'
  readonly path: string
  constructor (path: string, cause: unknown) {
    super(`failed to Statfs ${JSON.stringify(path)}: ${(cause as Error).message}`, { cause })
    this.path = path
  }
}

/** CNI_NETNS exists but is not a network namespace (upstream's NSPathNotNSErr). */
export class NotANetnsError extends Error {
  override name = 'NotANetnsError'
  constructor (path: string, magic: number) {
    super(`unknown FS magic on ${JSON.stringify(path)}: ${magic.toString(16)}`)
  }
}

/** Opens the container's namespace; throws NetnsMissingError or NotANetnsError first. */
export function openSandbox (path: string): NetNamespace {
  let magic: number
  try {
    magic = Number(statfsSync(path).type)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NetnsMissingError(path, new Error('no such file or directory'))
    throw new Error(`failed to Statfs ${JSON.stringify(path)}: ${(err as Error).message}`, { cause: err })
  }
  if (magic !== NSFS_MAGIC && magic !== PROC_SUPER_MAGIC) throw new NotANetnsError(path, magic)
  return NetNamespace.open(path)
}

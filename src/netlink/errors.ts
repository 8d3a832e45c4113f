// Typed errors of the netlink library. Two kinds only: a message that could
// not be decoded (our side), and an error the kernel answered (its side).
import { getSystemErrorMap } from 'node:util'

/** A malformed message or attribute: always this error, never a RangeError. */
export class NetlinkDecodeError extends Error {
  override name = 'NetlinkDecodeError'
  /** Byte offset in the buffer being decoded where the problem was found. */
  readonly offset: number
  constructor (message: string, offset: number) {
    super(`${message} (at byte ${offset})`)
    this.offset = offset
  }
}

let errnoMap: Map<number, [string, string]> | undefined
/** The errno's symbolic name (EEXIST) and text (file already exists). */
export function errnoInfo (errno: number): { name: string, text: string } {
  // Ours first: libuv calls 95 ENOTSUP, the kernel's headers say EOPNOTSUPP.
  const extra = EXTRA_ERRNO[Math.abs(errno)]
  if (extra !== undefined) return { name: extra[0], text: extra[1] }
  errnoMap ??= getSystemErrorMap()
  const e = errnoMap.get(-Math.abs(errno))
  if (e !== undefined) return { name: e[0], text: e[1] }
  return { name: `E${Math.abs(errno)}`, text: `errno ${Math.abs(errno)}` }
}

// Errnos that rtnetlink returns but libuv's table does not name.
const EXTRA_ERRNO: Record<number, [string, string]> = {
  95: ['EOPNOTSUPP', 'operation not supported'],
  99: ['EADDRNOTAVAIL', 'cannot assign requested address'],
  3: ['ESRCH', 'no such process'],
  61: ['ENODATA', 'no data available'],
  97: ['EAFNOSUPPORT', 'address family not supported by protocol'],
  34: ['ERANGE', 'numerical result out of range'],
  19: ['ENODEV', 'no such device'],
  // nf_tables: a batch bound to a generation (NFNL_BATCH_GENID) that is no longer current.
  85: ['ERESTART', 'interrupted system call should be restarted']
}

/** Where a failed request came from: what it was and where it went. */
export interface OperationContext {
  /** Message type name and a short description, e.g. "RTM_NEWLINK veth eth0". */
  operation: string
  /** The namespace the socket lives in, e.g. "/var/run/netns/x"; absent for the caller's own. */
  namespace?: string | undefined
}

/** The kernel refused a request (NLMSG_ERROR with a non-zero errno). */
export class NetlinkError extends Error {
  override name = 'NetlinkError'
  /** Positive errno, e.g. 17. */
  readonly errno: number
  /** Symbolic errno, e.g. "EEXIST". */
  readonly code: string
  /** The errno's text, e.g. "file already exists". */
  readonly text: string
  /** The kernel's extended-ack message, when it sent one. */
  readonly kernelMessage?: string
  /** Offset of the offending attribute in the request, from the extended ack. */
  readonly kernelOffset?: number
  readonly operation: string
  readonly namespace?: string
  constructor (errno: number, context: OperationContext, ext: { message?: string | undefined, offset?: number | undefined } = {}) {
    const { name, text } = errnoInfo(errno)
    const where = context.namespace !== undefined ? ` in ${context.namespace}` : ''
    const km = ext.message !== undefined && ext.message !== '' ? ` (kernel: ${ext.message})` : ''
    super(`${context.operation}${where}: ${name}: ${text}${km}`)
    this.errno = Math.abs(errno)
    this.code = name
    this.text = text
    this.operation = context.operation
    if (context.namespace !== undefined) this.namespace = context.namespace
    if (ext.message !== undefined && ext.message !== '') this.kernelMessage = ext.message
    if (ext.offset !== undefined) this.kernelOffset = ext.offset
  }
}

/** The socket's receive queue overflowed (ENOBUFS): messages were lost. */
export class NetlinkOverrunError extends Error {
  override name = 'NetlinkOverrunError'
  readonly code = 'ENOBUFS'
  /** How many messages the kernel dropped, when it was counted (NETLINK_NO_ENOBUFS sockets). */
  readonly dropped?: number
  constructor (context: string, dropped?: number) {
    super(`${context}: ENOBUFS: the netlink receive buffer overflowed and ${dropped !== undefined ? `${dropped} message${dropped === 1 ? ' was' : 's were'}` : 'messages were'} lost`)
    if (dropped !== undefined) this.dropped = dropped
  }
}

/** No answer in time. */
export class NetlinkTimeoutError extends Error {
  override name = 'NetlinkTimeoutError'
  readonly code = 'ETIMEDOUT'
  constructor (context: OperationContext, ms: number) {
    const where = context.namespace !== undefined ? ` in ${context.namespace}` : ''
    super(`${context.operation}${where}: no answer from the kernel within ${ms} ms`)
  }
}

/** True when err is a NetlinkError with one of these errno names. */
export function isErrno (err: unknown, ...codes: string[]): err is NetlinkError {
  return err instanceof NetlinkError && codes.includes(err.code)
}

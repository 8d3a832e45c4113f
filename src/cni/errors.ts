// CNI error results (spec "Error"): a well-known code, a short message and
// optional details, printed on stdout as JSON with a non-zero exit.
// Plugins throw CniError with a precise code; any other thrown error becomes
// code 999 (ErrInternal) with its message, as the Go skel does.

/** Unknown error (the Go library's ErrUnknown; also what a delegated plugin's unparsable failure carries). */
export const ErrUnknown = 0
export const ErrIncompatibleCNIVersion = 1
/** The message must name the unsupported key and value. */
export const ErrUnsupportedField = 2
/** The runtime need not clean up after this container. */
export const ErrUnknownContainer = 3
/** A CNI_* variable is missing or invalid; the message names it. */
export const ErrInvalidEnvironmentVariables = 4
export const ErrIOFailure = 5
export const ErrDecodingFailure = 6
export const ErrInvalidNetworkConfig = 7
/** Go library only: CNI_NETNS is the plugin's own namespace. */
export const ErrInvalidNetNS = 8
/** Transient: the runtime should retry later. */
export const ErrTryAgainLater = 11
/** STATUS: the plugin cannot serve ADD now. */
export const ErrPluginNotAvailable = 50
/** STATUS: cannot serve ADD, and existing containers may be degraded. */
export const ErrLimitedConnectivity = 51
/** Any error that is not a CniError. */
export const ErrInternal = 999

/** The JSON shape of a CNI error on stdout. */
export interface CniErrorJSON {
  cniVersion?: string
  code: number
  msg: string
  details?: string
}

export class CniError extends Error {
  override name = 'CniError'
  readonly code: number
  readonly msg: string
  readonly details: string

  constructor (code: number, msg: string, details = '', options?: { cause?: unknown }) {
    // Error() text as Go's types.Error: "msg; details".
    super(details === '' ? msg : `${msg}; ${details}`, options)
    this.code = code
    this.msg = msg
    this.details = details
  }

  /**
   * The spec's error object: `{ cniVersion, code, msg, details }`; details is
   * omitted when empty, cniVersion when not given (JSON.stringify passes ''
   * as the key, which also leaves it out).
   */
  toJSON (cniVersion?: string): CniErrorJSON {
    const out: CniErrorJSON = {} as CniErrorJSON
    if (typeof cniVersion === 'string' && cniVersion !== '') out.cniVersion = cniVersion
    out.code = this.code
    out.msg = this.msg
    if (this.details !== '') out.details = this.details
    return out
  }
}

/** A CniError as is (also when wrapped as a `cause`), anything else as code 999 with its message. */
export function toCniError (err: unknown): CniError {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof CniError) return e
    e = (e as { cause?: unknown }).cause
  }
  const msg = err instanceof Error ? err.message : String(err)
  return new CniError(ErrInternal, msg, '', { cause: err })
}

/** Code 7 for a config problem; details name the field. */
export function invalidConfig (msg: string, details = ''): CniError {
  return new CniError(ErrInvalidNetworkConfig, msg, details)
}

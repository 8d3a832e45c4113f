// The wire format between the native client (client/tscni-client.c) and the
// agent, on a unix stream socket. One request per connection:
//
//   request  "tscni/1\0" <plugin> "\0" { "<NAME>=<value>\0" } "\0" <stdin bytes>, then the client's EOF
//   reply    "tscni/1\0" "R" <exit code, 1 byte> <stdout length, u32 LE> <stdout> <stderr>, then EOF
//            "tscni/1\0" "F" <why>: the client runs the Node plugin itself (exec path)
//
// The client sends the variables a plugin reads (CNI_*, TSCNI_*, TRACE*).
// An agent that gets another version answers "F" in its own version, and a
// client that reads another version runs the exec path: either side may be
// upgraded first. The plugin name ":status" asks for the agent's counters.

export const PROTOCOL = 'tscni/1'
const MAGIC = Buffer.from(`${PROTOCOL}\0`, 'latin1')
/** The largest stdin the agent takes; the client sends larger ones down the exec path. */
export const MAX_STDIN = 1 << 20
/** Room for the plugin name and the environment. */
export const MAX_HEADER = 256 << 10
export const MAX_REQUEST = MAX_STDIN + MAX_HEADER
export const STATUS_PLUGIN = ':status'

export interface AgentRequest {
  plugin: string
  env: Record<string, string>
  stdin: Buffer
}

export type ParsedRequest = { ok: true, request: AgentRequest } | { ok: false, why: string }

export function encodeRequest (plugin: string, env: Record<string, string | undefined>, stdin: Uint8Array | string): Buffer {
  const vars = Object.entries(env).filter(([k, v]) => v !== undefined && /^(CNI_|TSCNI_|TRACE)/.test(k)).map(([k, v]) => `${k}=${v ?? ''}\0`).join('')
  return Buffer.concat([MAGIC, Buffer.from(`${plugin}\0${vars}\0`), typeof stdin === 'string' ? Buffer.from(stdin) : stdin])
}

export function parseRequest (buf: Buffer): ParsedRequest {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    const nul = buf.indexOf(0)
    return { ok: false, why: `protocol ${JSON.stringify(buf.toString('latin1', 0, nul < 0 ? Math.min(buf.length, 16) : Math.min(nul, 16)))}, not ${PROTOCOL}` }
  }
  let at = MAGIC.length
  const next = (): string | undefined => {
    const end = buf.indexOf(0, at)
    if (end < 0 || end - at > MAX_HEADER) return undefined
    const s = buf.toString('utf8', at, end)
    at = end + 1
    return s
  }
  const plugin = next()
  if (plugin === undefined || plugin === '') return { ok: false, why: 'malformed request: no plugin name' }
  const env: Record<string, string> = {}
  for (;;) {
    const entry = next()
    if (entry === undefined) return { ok: false, why: 'malformed request: unterminated environment' }
    if (entry === '') break
    const eq = entry.indexOf('=')
    if (eq <= 0) return { ok: false, why: `malformed request: environment entry ${JSON.stringify(entry.slice(0, 64))}` }
    env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  if (at > MAX_HEADER) return { ok: false, why: 'malformed request: header too large' }
  return { ok: true, request: { plugin, env, stdin: buf.subarray(at) } }
}

export function encodeReply (exitCode: number, stdout: string, stderr: string): Buffer {
  const out = Buffer.from(stdout)
  const head = Buffer.alloc(MAGIC.length + 6)
  MAGIC.copy(head)
  head[MAGIC.length] = 0x52 // 'R'
  head[MAGIC.length + 1] = exitCode & 0xff
  head.writeUInt32LE(out.length, MAGIC.length + 2)
  return Buffer.concat([head, out, Buffer.from(stderr)])
}

export function encodeFallback (why: string): Buffer {
  return Buffer.concat([MAGIC, Buffer.from(`F${why}`)])
}

export type Reply =
  | { kind: 'result', exitCode: number, stdout: Buffer, stderr: Buffer }
  | { kind: 'fallback', why: string }
  | { kind: 'version', protocol: string }

/** A whole reply, or undefined when it is cut short (the agent went away). */
export function decodeReply (buf: Buffer): Reply | undefined {
  if (buf.length < MAGIC.length + 1) return undefined
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    const nul = buf.indexOf(0)
    return buf.toString('latin1', 0, 6) === 'tscni/' && nul > 0 ? { kind: 'version', protocol: buf.toString('latin1', 0, nul) } : undefined
  }
  const kind = buf[MAGIC.length]
  if (kind === 0x46) return { kind: 'fallback', why: buf.toString('utf8', MAGIC.length + 1) }
  if (kind !== 0x52 || buf.length < MAGIC.length + 6) return undefined
  const len = buf.readUInt32LE(MAGIC.length + 2)
  const start = MAGIC.length + 6
  if (len > buf.length - start) return undefined
  return { kind: 'result', exitCode: buf[MAGIC.length + 1]!, stdout: buf.subarray(start, start + len), stderr: buf.subarray(start + len) }
}

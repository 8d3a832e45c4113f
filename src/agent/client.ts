// A TypeScript client of the agent protocol, for `tscni agent status` and
// tests. (Runtimes exec the native client, client/tscni-client.c: a Node
// client would pay Node's start-up, which is what the agent removes.)
import { connect } from 'node:net'
import { decodeReply, encodeRequest, type Reply } from './protocol.js'

/** Sends one request; resolves with the reply, or undefined when the connection ended without a whole one. */
export async function callAgent (socketPath: string, plugin: string, env: Record<string, string | undefined>, stdin: Uint8Array | string = ''): Promise<Reply | undefined> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const c = connect({ path: socketPath, allowHalfOpen: true })
    c.once('error', reject)
    c.on('data', (d: Buffer) => chunks.push(d))
    c.once('end', () => { resolve(decodeReply(Buffer.concat(chunks))) })
    c.end(encodeRequest(plugin, env, stdin))
  })
}

/** Whether something accepts connections on a unix socket path. */
export async function isListening (path: string): Promise<boolean> {
  return await new Promise(resolve => {
    const c = connect(path)
    c.once('connect', () => { c.destroy(); resolve(true) })
    c.once('error', () => { resolve(false) })
  })
}

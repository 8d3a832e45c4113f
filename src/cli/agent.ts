// `tscni agent [--socket P] [--log-file F] [--log-level L]`: runs the agent
// in the foreground until SIGTERM or SIGINT (it finishes what is in flight
// and removes its socket). `tscni agent status [--socket P]` prints its
// counters as JSON.
import { Agent, DEFAULT_SOCKET, type AgentLogLevel } from '../agent/server.js'
import { callAgent } from '../agent/client.js'
import { STATUS_PLUGIN } from '../agent/protocol.js'
import { parseFlags } from './flags.js'

export const usage = 'agent [--socket PATH] [--log-file FILE] [--log-level error|warn|info|debug] [--max-in-flight N] | agent status [--socket PATH]'

export async function run (args: string[]): Promise<number> {
  if (args[0] === 'status') {
    const { flags } = parseFlags(args.slice(1), { socket: { type: 'string' } }, usage)
    const socket = flags.socket ?? process.env.TSCNI_AGENT_SOCKET ?? DEFAULT_SOCKET
    let reply
    try {
      reply = await callAgent(socket, STATUS_PLUGIN, {})
    } catch (err) {
      process.stderr.write(`tscni agent status: no agent on ${socket}: ${(err as Error).message}\n`)
      return 1
    }
    if (reply?.kind !== 'result') {
      process.stderr.write(`tscni agent status: the agent on ${socket} did not answer (${reply === undefined ? 'connection ended' : reply.kind})\n`)
      return 1
    }
    process.stdout.write(reply.stdout)
    return 0
  }
  const { flags } = parseFlags(args, { socket: { type: 'string' }, 'log-file': { type: 'string' }, 'log-level': { type: 'string' }, 'max-in-flight': { type: 'string' } }, usage)
  const level = flags['log-level']
  if (level !== undefined && !['error', 'warn', 'info', 'debug'].includes(level)) throw new Error(`--log-level: ${JSON.stringify(level)} is not error, warn, info or debug`)
  const agent = new Agent({
    socket: flags.socket ?? process.env.TSCNI_AGENT_SOCKET ?? DEFAULT_SOCKET,
    ...(flags['log-file'] !== undefined ? { logFile: flags['log-file'] } : {}),
    ...(level !== undefined ? { logLevel: level as AgentLogLevel } : {}),
    ...(flags['max-in-flight'] !== undefined ? { maxInFlight: Number(flags['max-in-flight']) } : {})
  })
  await agent.start()
  await new Promise<void>(resolve => {
    const stop = (sig: string): void => { agent.log('info', `${sig}: finishing the requests in flight`); resolve() }
    process.once('SIGTERM', () => { stop('SIGTERM') })
    process.once('SIGINT', () => { stop('SIGINT') })
  })
  await agent.stop()
  return 0
}

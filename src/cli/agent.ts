// `tscni agent [--socket P] [--log-file F] [--log-level L]`: runs the agent
// in the foreground until SIGTERM or SIGINT (it finishes what is in flight
// and removes its socket). `tscni agent status [--socket P]` prints its
// counters as JSON.
import { Agent, DEFAULT_SOCKET, type AgentLogLevel } from '../agent/server.js'
import { callAgent } from '../agent/client.js'
import { STATUS_PLUGIN } from '../agent/protocol.js'

export const usage = 'agent [--socket PATH] [--log-file FILE] [--log-level error|warn|info|debug] [--max-in-flight N] | agent status [--socket PATH]'

function parseFlags (args: string[], allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a)
    if (m === null || !allowed.includes(m[1]!)) throw new Error(`unknown argument ${JSON.stringify(a)} (usage: tscni ${usage})`)
    const value = m[2] ?? args[++i]
    if (value === undefined) throw new Error(`${a} needs a value`)
    out[m[1]!] = value
  }
  return out
}

export async function run (args: string[]): Promise<number> {
  if (args[0] === 'status') {
    const flags = parseFlags(args.slice(1), ['socket'])
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
  const flags = parseFlags(args, ['socket', 'log-file', 'log-level', 'max-in-flight'])
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

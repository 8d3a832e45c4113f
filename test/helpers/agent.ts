// A tscni agent for a test: `bin/tscni agent` on a socket in a temporary
// directory, started in the root namespaces like a systemd service would be
// (the plugins' callers bring their own namespaces), stopped in teardown.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { callAgent } from '../../src/agent/client.js'
import { STATUS_PLUGIN } from '../../src/agent/protocol.js'
import { isListening } from '../../src/agent/client.js'
import { BIN_DIR, makeTempDir } from './bridge.js'

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

export const TSCNI_CLI = join(BIN_DIR, 'tscni')

export interface TestAgent {
  socket: string
  dir: string
  logFile: string
  child: ChildProcess
  /** `tscni agent status` as an object. */
  status: () => Promise<Record<string, any>>
  log: () => string
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop: () => Promise<number | null>
  /** SIGKILL and wait. */
  kill: () => Promise<void>
}

/** Starts an agent and waits until it accepts connections; `at` restarts one on another's socket (its state and log too). */
export async function startAgent (t: Teardown, extraArgs: string[] = [], at?: TestAgent): Promise<TestAgent> {
  const dir = at?.dir ?? makeTempDir(t, 'agent')
  const socket = join(dir, 'run', 'agent.sock')
  const logFile = join(dir, 'agent.log')
  // Its own state directory: the attachments it would watch at start are this test's only.
  const env = { ...process.env, TSCNI_STATE_DIR: join(dir, 'state') }
  const child = spawn(TSCNI_CLI, ['agent', '--socket', socket, '--log-file', logFile, '--log-level', 'debug', ...extraArgs], { stdio: ['ignore', 'inherit', 'inherit'], env })
  const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
  let gone = false
  void exited.then(() => { gone = true })
  t.teardown(async () => { if (!gone) { child.kill('SIGKILL'); await exited } })
  for (let i = 0; !(await isListening(socket)); i++) {
    if (gone || i > 200) throw new Error(`the agent did not start: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : 'no log'}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  return {
    socket,
    dir,
    logFile,
    child,
    status: async () => {
      const r = await callAgent(socket, STATUS_PLUGIN, {})
      if (r?.kind !== 'result') throw new Error(`no status from the agent (${r?.kind ?? 'cut short'})`)
      return JSON.parse(r.stdout.toString('utf8'))
    },
    log: () => existsSync(logFile) ? readFileSync(logFile, 'utf8') : '',
    stop: async () => { if (!gone) child.kill('SIGTERM'); return await exited },
    kill: async () => { if (!gone) child.kill('SIGKILL'); await exited }
  }
}

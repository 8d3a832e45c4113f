// Tracing a plugin call: each step of a command logs its duration at
// logLevel debug, and an error names the step that failed in its details.
// (The W3C trace context the runtime passes in the environment,
// TRACEPARENT/TRACESTATE, goes on every log line: skel.ts traceFields.)
import { CniError, toCniError } from './errors.js'

interface StepLogger { debug (msg: string): void }

/**
 * The error of a failed step as a CniError whose details name the step,
 * e.g. `ADD step "ipam" failed`, after the details it had. Code and msg
 * are kept (a delegated plugin's error keeps its own).
 */
export function stepError (err: unknown, command: string, step: string): CniError {
  const e = toCniError(err)
  if (e instanceof StepError) return e
  const note = `${command} step ${JSON.stringify(step)} failed`
  return new StepError(e.code, e.msg, e.details === '' ? note : `${e.details} (${note})`, { cause: err })
}

/** A CniError that already names its step (not wrapped twice). */
class StepError extends CniError {}

/**
 * Runs one step of a command: logs `step NAME: 1.2 ms` (or `failed after`)
 * at debug, and on failure rethrows the error naming the step.
 */
export async function runStep<T> (log: StepLogger, command: string, name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now()
  try {
    const v = await fn()
    log.debug(`step ${name}: ${(performance.now() - start).toFixed(1)} ms`)
    return v
  } catch (err) {
    log.debug(`step ${name} failed after ${(performance.now() - start).toFixed(1)} ms: ${(err as Error).message}`)
    throw stepError(err, command, name)
  }
}

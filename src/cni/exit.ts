// How a plugin executable ends once its reply is written (runPlugin's
// `exitWith`). Not imported by the skel: the plugins' main modules pass it.
import { loadedKoffi } from '../netlink/native.js'

/**
 * Ends the process at once. The reply is out already (the skel writes
 * stdout and stderr synchronously). When koffi is loaded (every command
 * that entered a namespace or took a lock), libc's _exit skips Node's
 * teardown (stopping and joining its threads, freeing the heap), which the
 * runtime waiting for us would otherwise wait for; without koffi, or when
 * an 'exit' listener must still run (run.cjs writes its code cache there
 * on a first run), process.exit.
 */
export function exitNow (code: number): never {
  const koffi = process.listenerCount('exit') === 0 ? loadedKoffi() : undefined
  if (koffi !== undefined) {
    const exit = koffi.load('libc.so.6').func('void _exit(int status)') as (status: number) => void
    exit(code)
  }
  process.exit(code)
}

// A command of several steps (ADD) as an ordered list, built with `then`
// and `thenIf`: each step is a function from what it needs (the command's
// input and what earlier steps made) to what it makes. The builder's type
// carries every step's outputs forward, so a step can use only what the
// command got and what an earlier step made: the order is checked by the
// compiler. A step that runs under a condition (`thenIf`) leaves its outputs
// optional for the steps after it; a step that needs them names them
// (`needs`) and is skipped without them.
//
// Rollback: as soon as a step has made something that must not outlive a
// failed command, it registers the undo (onUndo), a closure over what it
// made. When a step fails, every undo registered so far runs, newest first,
// the failing step's own included (it may have half-done its work); an
// undo's failure is logged and the others still run.
import type { Logger } from '../../cni/skel.js'
import { runStep } from '../../cni/trace.js'

/** Registers the undo of what the running step has made so far. */
export type OnUndo = (undo: () => Promise<void>) => void

/** A step as the runner sees it (the builder keeps the types). */
export interface Step {
  readonly name: string
  /** Whether the step runs, asked when its turn comes (default: always). */
  readonly when?: (s: never) => boolean
  readonly run: (s: never, onUndo: OnUndo) => Promise<unknown>
}

/** What the input of every command of steps holds: its environment (fault injection) and logger. */
export interface StepInput {
  ctx: { env: NodeJS.ProcessEnv, log: Pick<Logger, 'debug' | 'warn'> }
}

/** What a step that returns nothing makes. */
type Nothing = Record<never, never>
type Made<O> = O extends object ? O : Nothing
/** A step's outputs join what came before, replacing what they name. */
type Merge<C, O> = Omit<C, keyof O> & O
/** The names of what an earlier conditional step may not have made. */
type OptionalKeys<C> = { [K in keyof C]-?: undefined extends C[K] ? K : never }[keyof C]
/** C with the outputs K made. */
type With<C, K extends keyof C> = C & { [P in K]-?: Exclude<C[P], undefined> }

/** The steps of a command taking I, the outputs of the steps so far being C. */
export class Steps<I extends StepInput, C = I> {
  private constructor (readonly list: readonly Step[]) {}

  static for<I extends StepInput> (): Steps<I> {
    return new Steps<I>([])
  }

  /** A step that always runs; what it returns is there for the steps after it. */
  then<O = void> (name: string, run: (s: C, onUndo: OnUndo) => Promise<O>): Steps<I, Merge<C, Made<O>>> {
    return new Steps([...this.list, { name, run }])
  }

  /**
   * A step that runs when the outputs named in `needs` were made and `when`
   * holds; what it returns is there, optional, for the steps after it.
   */
  thenIf<K extends OptionalKeys<C> = never, O = void> (
    name: string,
    cond: { needs?: readonly K[], when?: (s: C) => boolean },
    run: (s: With<C, K>, onUndo: OnUndo) => Promise<O>
  ): Steps<I, C & Partial<Made<O>>> {
    const needs = cond.needs ?? []
    const when = (s: C): boolean => needs.every(k => s[k] !== undefined) && (cond.when?.(s) ?? true)
    return new Steps([...this.list, { name, when, run }])
  }

  /** Runs the steps on `input` (see the header); resolves to everything they made. */
  async run (input: I, command: string): Promise<C> {
    return await runSteps(this.list, input, command) as C
  }
}

/**
 * Fault injection for rollback tests and for watching a rollback happen:
 * with TSCNI_FAIL_AFTER_STEP=<step name> in the environment, the command
 * fails right after that step (e.g. "ipMasq"), and every undo runs.
 */
export const FAIL_AFTER_STEP_ENV = 'TSCNI_FAIL_AFTER_STEP'
/**
 * For kill tests: with TSCNI_HANG_AFTER_STEP=<step name>, the command waits
 * (an hour) right after that step, so a test can kill -9 it at a known point.
 */
export const HANG_AFTER_STEP_ENV = 'TSCNI_HANG_AFTER_STEP'

/**
 * Runs the steps in order, each on the input and the outputs of the steps
 * before it; on a failure, runs the registered undos newest first and
 * rethrows the failure (naming the step, trace.ts).
 */
export async function runSteps (steps: readonly Step[], input: StepInput, command = 'ADD'): Promise<object> {
  const { env, log } = input.ctx
  const undos: Array<{ step: string, undo: () => Promise<void> }> = []
  let made: object = input
  try {
    for (const step of steps) {
      if (step.when !== undefined && !step.when(made as never)) continue
      const onUndo: OnUndo = undo => { undos.push({ step: step.name, undo }) }
      // Its duration at debug; a failure's details name it (trace.ts).
      await runStep(log, command, step.name, async () => {
        const out = await step.run(made as never, onUndo)
        if (typeof out === 'object' && out !== null) made = { ...made, ...out }
        if (step.name === env[FAIL_AFTER_STEP_ENV]) throw new Error(`failing after step ${step.name} as ${FAIL_AFTER_STEP_ENV} asks`)
        if (step.name === env[HANG_AFTER_STEP_ENV]) {
          log.warn(`hanging after step ${step.name} as ${HANG_AFTER_STEP_ENV} asks`)
          await new Promise(resolve => setTimeout(resolve, 3_600_000))
        }
      })
    }
    return made
  } catch (err) {
    for (const { step, undo } of undos.reverse()) {
      const start = performance.now()
      try {
        await undo()
        log.debug(`undo ${step}: ${(performance.now() - start).toFixed(1)} ms`)
      } catch (undoErr) {
        log.warn(`rollback of step ${step} failed: ${(undoErr as Error).message}`)
      }
    }
    throw err
  }
}

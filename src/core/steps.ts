import { InterruptedError } from './errors.js';

/**
 * A long operation as a declarative list of steps. Core builds the list; the CLI renders it with
 * listr2 and library users run it with {@link runSteps}. Core itself never prints.
 */
export interface Step<Context> {
  title: string;
  /** A reason to skip this step for this context, or false to run it. */
  skip?: (context: Context) => string | false;
  run: (context: Context) => Promise<void> | void;
}

/** What a plain run reports as it goes. */
export type StepEvent =
  | { kind: 'start'; title: string }
  | { kind: 'skip'; title: string; reason: string }
  | { kind: 'done'; title: string };

/**
 * Runs steps one after another, stopping at the first failure.
 * @param steps - the steps
 * @param context - the shared, typed context the steps fill in
 * @param onEvent - optional progress callback
 * @param signal - stops before the next step once aborted (InterruptedError)
 */
export async function runSteps<Context>(
  steps: readonly Step<Context>[],
  context: Context,
  onEvent?: (event: StepEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  for (const step of steps) {
    if (signal?.aborted) throw new InterruptedError(`Interrupted before: ${step.title}`);
    const reason = step.skip?.(context);
    if (reason) {
      onEvent?.({ kind: 'skip', title: step.title, reason });
      continue;
    }
    onEvent?.({ kind: 'start', title: step.title });
    await step.run(context);
    onEvent?.({ kind: 'done', title: step.title });
  }
}

/**
 * The same steps, each calling `release` before its failure propagates, so a run that stops at a
 * failed step leaves nothing open (SSH connections, forwards). On success the steps' own last
 * step releases.
 * @param steps - the steps
 * @param release - closes what the steps opened; called once per failure
 */
export function releasingOnFailure<Context>(
  steps: readonly Step<Context>[],
  release: () => Promise<void>,
): Step<Context>[] {
  return steps.map((step) => ({
    ...step,
    run: async (context: Context) => {
      try {
        await step.run(context);
      } catch (error) {
        await release();
        throw error;
      }
    },
  }));
}

import type { ListrTask } from 'listr2';
import { InterruptedError } from '../core/errors.js';
import { runSteps, type Step } from '../core/steps.js';

export interface TaskRunOptions {
  /** --json: nothing but the final document may reach stdout, so progress is silent. */
  json: boolean;
  signal: AbortSignal;
}

/**
 * Which listr2 renderer fits where we run (lint-staged's rule): the animated one on an
 * interactive terminal, line-by-line in CI, without a TTY or without colour, silent for --json.
 */
function chooseRenderer(): 'default' | 'simple' {
  const interactive =
    process.stderr.isTTY && !process.env.CI && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return interactive ? 'default' : 'simple';
}

/**
 * Runs core steps with progress on stderr (stdout is for the result alone).
 * @param steps - the steps core built
 * @param context - their shared context
 * @param options - JSON mode and the abort signal
 */
export async function runTasks<Context extends object>(
  steps: readonly Step<Context>[],
  context: Context,
  options: TaskRunOptions,
): Promise<void> {
  if (options.json) {
    await runSteps(steps, context, undefined, options.signal);
    return;
  }
  // Loaded here, not at start-up: --json and --help never need it, and init starts its scrypt
  // derivation before the steps run, so this load overlaps with that.
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  // listr2 writes to its "stdout" stream; point both of its streams at stderr.
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const tasks: ListrTask<Context>[] = steps.map((step) => ({
    title: step.title,
    skip: (ctx) => step.skip?.(ctx) || false,
    task: async (ctx) => {
      if (options.signal.aborted) throw new InterruptedError(`Interrupted before: ${step.title}`);
      await step.run(ctx);
    },
  }));
  const renderer = chooseRenderer();
  const list = new Listr<Context, 'default' | 'simple', 'simple'>(tasks, {
    ctx: context,
    renderer,
    rendererOptions: { logger },
    fallbackRenderer: 'simple',
    fallbackRendererOptions: { logger },
    exitOnError: true,
    registerSignalListeners: false,
    collectErrors: false,
  });
  await list.run();
}

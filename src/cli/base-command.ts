import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { isPeruriError, type PeruriError } from '../core/errors.js';
import { ExitCodes, exitCodeOfKind } from './exit-codes.js';
import { envName } from './flags.js';

/** The one JSON document a command prints with --json (the Salesforce CLI envelope). */
export interface JsonEnvelope<T> {
  status: number;
  result?: T;
  error?: { code: string; message: string; hint?: string; details: string[] };
  warnings: string[];
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;

/**
 * Shared behaviour of every command: --json and --verbose, warnings collected for the JSON
 * envelope or printed to stderr, domain errors mapped to exit codes with a hint, and Ctrl-C
 * turned into an abort signal (exit 130).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    // Reserved everywhere with one meaning; peruri-chain never prompts without a TTY either.
    yes: Flags.boolean({
      char: 'y',
      description: 'Never prompt; take the safe answer or refuse.',
      env: envName('yes'),
      default: false,
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({
      description: 'Print more detail about what happens (never secrets).',
      env: envName('verbose'),
      default: false,
      helpGroup: 'GLOBAL',
    }),
  };

  protected readonly warnings: string[] = [];
  private readonly abortController = new AbortController();
  private interruptCount = 0;

  /** Aborted when the operator presses Ctrl-C; long work checks it between steps. */
  protected get signal(): AbortSignal {
    return this.abortController.signal;
  }

  private readonly onInterrupt = () => {
    this.interruptCount += 1;
    if (this.interruptCount > 1) process.exit(ExitCodes.interrupted);
    this.abortController.abort();
  };

  override async init(): Promise<void> {
    await super.init();
    process.on('SIGINT', this.onInterrupt);
    process.on('SIGTERM', this.onInterrupt);
  }

  override async finally(error: Error | undefined): Promise<void> {
    process.off('SIGINT', this.onInterrupt);
    process.off('SIGTERM', this.onInterrupt);
    if (!error && !this.jsonEnabled()) {
      for (const warning of this.warnings) this.logToStderr(`Warning: ${warning}`);
    }
    await super.finally(error);
  }

  /** --verbose, read from argv and env too, since catch() may run before parsing succeeded. */
  protected isVerbose(): boolean {
    return this.argv.includes('--verbose') || ['1', 'true'].includes(process.env[envName('verbose')] ?? '');
  }

  /** Adds warnings for the end of the run (stderr) or the JSON envelope. */
  protected warnLater(...warnings: string[]): void {
    this.warnings.push(...warnings);
  }

  protected override toSuccessJson(result: unknown): JsonEnvelope<unknown> {
    return { status: ExitCodes.ok, result, warnings: this.warnings };
  }

  protected override toErrorJson(error: unknown): JsonEnvelope<never> {
    const described = describeError(error);
    return {
      status: described.exitCode,
      error: {
        code: described.code,
        message: described.message,
        ...(described.hint ? { hint: described.hint } : {}),
        details: described.details,
      },
      warnings: this.warnings,
    };
  }

  override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    const described = describeError(error);
    process.exitCode = described.exitCode;
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(error));
      return;
    }
    for (const warning of this.warnings) this.logToStderr(`Warning: ${warning}`);
    if (!isPeruriError(error) && described.exitCode !== ExitCodes.internal) throw error;
    if (this.isVerbose() && error.stack) this.logToStderr(error.stack);
    throw new Errors.CLIError(
      [described.message, ...described.details.map((line) => `  - ${line}`)].join('\n'),
      {
        exit: described.exitCode,
        code: described.code,
        ...(described.hint ? { suggestions: [described.hint] } : {}),
      },
    );
  }
}

interface DescribedError {
  exitCode: number;
  code: string;
  message: string;
  hint: string | undefined;
  details: string[];
}

/**
 * Maps anything thrown to an exit code and a printable description: domain errors by kind,
 * oclif's own errors (bad flags: exit 2) by their exit code, everything else as a bug.
 */
function describeError(error: unknown): DescribedError {
  if (isPeruriError(error)) {
    const peruri = error as PeruriError;
    return {
      exitCode: exitCodeOfKind[peruri.kind],
      code: peruri.code,
      message: peruri.message,
      hint: peruri.hint,
      details: peruri.details,
    };
  }
  const oclifExit = (error as { oclif?: { exit?: number } } | undefined)?.oclif?.exit;
  if (typeof oclifExit === 'number') {
    return {
      exitCode: oclifExit,
      code: oclifExit === ExitCodes.usage ? 'PC_USAGE' : 'PC_EXIT',
      message: (error as Error).message,
      hint: oclifExit === ExitCodes.usage ? 'See --help for the flags this command takes.' : undefined,
      details: [],
    };
  }
  return {
    exitCode: ExitCodes.internal,
    code: 'PC_INTERNAL',
    message: `Internal error: ${(error as Error)?.message ?? String(error)}`,
    hint: 'This is a bug in peruri-chain; please report it with the command and its output (--verbose adds a stack trace).',
    details: [],
  };
}

import { execa } from 'execa';
import { ErrorCodes, InterruptedError, RemoteError } from '../core/errors.js';

/** Options of {@link runLocal}. */
export interface RunLocalOptions {
  /** Stops the process (SIGTERM, then SIGKILL after 2 s) and rejects with an InterruptedError. */
  signal?: AbortSignal;
  /** Limit in milliseconds (default 60,000); the process is killed when it is reached. */
  timeoutMs?: number;
  /** Written to the process's standard input, which is then closed. Never shown in errors. */
  stdin?: string | Uint8Array;
  cwd?: string;
  /** Added to the inherited environment. Values are never shown in errors. */
  env?: Record<string, string>;
  /** Values (passwords, tokens) replaced by `***` wherever the command or its output is shown. */
  redact?: readonly string[];
  /** Exit codes that are results rather than failures (default only 0). */
  allowedExitCodes?: readonly number[];
}

/** What a finished process printed and how it exited. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** How many lines of standard error a failure carries in its details. */
export const STDERR_TAIL_LINES = 20;

/**
 * Runs a program on this machine (no shell) and returns its output, turning every failure into a
 * RemoteError on host `localhost` that names the command with secrets masked.
 * @param file - the program, a path or a name on PATH
 * @param args - its arguments, passed as they are (no shell quoting needed)
 * @param options - abort signal, timeout, stdin, environment, values to redact, allowed exit codes
 * @returns standard output and error (final newline stripped) and the exit code
 * @throws RemoteError when the program is missing, times out, is killed or exits with a code not
 *   allowed; InterruptedError when the signal aborts it
 * @example
 * const { stdout } = await runLocal('ssh-keygen', ['-lf', keyFile], { timeoutMs: 5_000 });
 */
export async function runLocal(
  file: string,
  args: readonly string[],
  options: RunLocalOptions = {},
): Promise<RunResult> {
  const secrets = options.redact ?? [];
  const command = redactSecrets(formatCommand(file, args), secrets);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (options.signal?.aborted) throw new InterruptedError(`Interrupted before running: ${command}`);

  const result = await execa(file, [...args], {
    reject: false,
    cancelSignal: options.signal,
    timeout: timeoutMs,
    forceKillAfterDelay: 2_000,
    input: options.stdin,
    stdin: options.stdin === undefined ? 'ignore' : 'pipe',
    cwd: options.cwd,
    env: options.env,
    stripFinalNewline: true,
  });
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const allowed = options.allowedExitCodes ?? [0];
  if (!result.failed || (result.exitCode !== undefined && allowed.includes(result.exitCode))) {
    return { stdout, stderr, code: result.exitCode ?? 0 };
  }

  if (result.isCanceled || options.signal?.aborted) {
    throw new InterruptedError(`Interrupted while running: ${command}`);
  }
  const fail = (reason: string, hint: string): RemoteError =>
    new RemoteError(ErrorCodes.REMOTE_FAILED, `localhost: ${command}: ${reason}`, {
      host: 'localhost',
      command,
      hint,
      details: tailLines(redactSecrets(stderr, secrets), STDERR_TAIL_LINES),
    });
  if (result.code === 'ENOENT') {
    throw fail(`${file} not found`, `Install ${file} or put it on PATH.`);
  }
  if (result.timedOut) {
    throw fail(`no result within ${timeoutMs} ms (killed)`, 'Raise the timeout or check why it hangs.');
  }
  if (result.exitCode === undefined) {
    const reason = result.signal ? `killed by ${result.signal}` : (result.code ?? 'could not be started');
    throw fail(reason, 'See the details for its last output.');
  }
  throw fail(`exit code ${result.exitCode}`, 'See the details for its last lines of standard error.');
}

/**
 * Replaces every occurrence of each secret by `***` (longest first, so a secret that contains
 * another is masked whole). Empty secrets are ignored.
 * @param text - what will be shown
 * @param secrets - values that must never be shown
 * @returns the text safe to show
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let safe = text;
  for (const secret of [...secrets].filter((s) => s !== '').sort((a, b) => b.length - a.length)) {
    safe = safe.split(secret).join('***');
  }
  return safe;
}

/**
 * The last non-empty lines of a process's output.
 * @param text - the output
 * @param count - how many lines at most
 * @returns up to `count` lines, oldest first
 */
export function tailLines(text: string, count: number): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .slice(-count);
}

/**
 * Quotes one word for a POSIX shell, so it is passed through as exactly one argument.
 * @param word - any string
 * @returns the word, single-quoted when it holds anything but safe characters
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellQuote).join(' ');
}

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ErrorCodes, RemoteError } from '../core/errors.js';
import { runLocal } from './exec.js';

/** Options of {@link spawnDetached}. */
export interface SpawnDetachedOptions {
  /** The program: an absolute path, so that the recorded pid is the program itself. */
  file: string;
  args: readonly string[];
  /** Appended to (created 0600): standard output and error both go there. */
  logFile: string;
  cwd?: string;
  /** The complete environment of the child (secrets go here, never into args). */
  env: NodeJS.ProcessEnv;
}

/** A process started by {@link spawnDetached}: its pid and how it ends while we still watch. */
export interface DetachedProcess {
  pid: number;
  /**
   * Identity of the pid at start (see {@link processStartTime}), recorded next to it; undefined
   * when the program already ended (`exited` then says how).
   */
  startTime: string | undefined;
  /** Resolves with the exit code (or signal name) if the process ends while this CLI runs. */
  exited: Promise<number | string>;
}

/**
 * Starts a program in its own session (it survives the CLI, and Ctrl-C in the terminal does not
 * reach it) with its output appended to a log file, and returns its pid and start time.
 * @param options - program, arguments, log file, working folder, environment
 * @returns the running process
 * @throws RemoteError (PC_REMOTE_FAILED) when it cannot be started at all
 */
export async function spawnDetached(options: SpawnDetachedOptions): Promise<DetachedProcess> {
  const log = openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(options.file, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.once('error', () => resolve('spawn failed'));
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (cause) =>
        reject(
          new RemoteError(ErrorCodes.REMOTE_FAILED, `Cannot start ${options.file}: ${cause.message}`, {
            host: 'localhost',
            command: options.file,
            hint: 'Check that the program exists and is executable.',
            cause,
          }),
        ),
      );
    });
    child.unref();
    return { pid, startTime: await processStartTime(pid), exited };
  } finally {
    closeSync(log);
  }
}

/**
 * What tells a process apart from a later one that got the same pid: on Linux its start time in
 * clock ticks after boot (/proc/PID/stat, field 22), elsewhere the start time `ps` shows.
 * @param pid - the process id
 * @returns the start time as text, or undefined when no such process exists
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (process.platform === 'linux') {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) return undefined;
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); a zombie has exited and only waits to be reaped.
    if (fields[0] === 'Z') return undefined;
    return fields[19];
  }
  const { stdout, code } = await runLocal('ps', ['-o', 'lstart=', '-p', String(pid)], {
    allowedExitCodes: [0, 1],
    timeoutMs: 5_000,
  });
  return code === 0 && stdout.trim() !== '' ? stdout.trim() : undefined;
}

/**
 * Sends a signal to a process.
 * @param pid - the process id
 * @param signal - e.g. SIGTERM
 * @returns false when the process no longer exists
 */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

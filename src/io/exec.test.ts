import { describe, expect, it } from 'vitest';
import { InterruptedError, RemoteError } from '../core/errors.js';
import { redactSecrets, runLocal, shellQuote, tailLines } from './exec.js';

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

function aliveProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runLocal', () => {
  it('returns standard output, standard error and exit code 0', async () => {
    // Given a program that prints on both streams
    // When it runs
    const result = await runLocal('sh', ['-c', 'echo out; echo err >&2']);
    // Then both streams come back without their final newline
    expect(result).toEqual({ stdout: 'out', stderr: 'err', code: 0 });
  });

  it('passes stdin to the process', async () => {
    // Given some input
    // When cat reads it
    const result = await runLocal('cat', [], { stdin: 'line one\nline two' });
    // Then it comes back unchanged
    expect(result.stdout).toBe('line one\nline two');
  });

  it('turns a non-zero exit into a RemoteError on localhost with the command and the end of stderr', async () => {
    // Given a program that fails after printing 30 lines of errors
    const script = 'for i in $(seq 1 30); do echo "problem $i" >&2; done; exit 3';
    // When it runs
    const error = await rejectionOf(runLocal('sh', ['-c', script]));
    // Then the error names localhost, the quoted command, the exit code and the last 20 lines
    expect(error).toBeInstanceOf(RemoteError);
    const remote = error as RemoteError;
    expect(remote.host).toBe('localhost');
    expect(remote.command).toBe(`sh -c '${script}'`);
    expect(remote.message).toContain('exit code 3');
    expect(remote.details).toHaveLength(20);
    expect(remote.details[0]).toBe('problem 11');
    expect(remote.details[19]).toBe('problem 30');
  });

  it('returns allowed non-zero exit codes as results', async () => {
    // Given exit code 1 is an answer, not a failure (grep finding nothing)
    // When grep finds nothing
    const result = await runLocal('grep', ['absent', '/dev/null'], { allowedExitCodes: [0, 1] });
    // Then the code is returned
    expect(result.code).toBe(1);
  });

  it('masks secrets in the command and in the output it reports', async () => {
    // Given a command carrying a password that also echoes it to stderr
    const password = 'hunter2-very-secret';
    // When it fails
    const error = (await rejectionOf(
      runLocal('sh', ['-c', `echo "bad password ${password}" >&2; exit 1`, password], {
        redact: [password],
      }),
    )) as RemoteError;
    // Then the password appears nowhere in what is shown
    const shown = [error.message, error.command, ...error.details, error.hint].join('\n');
    expect(shown).not.toContain(password);
    expect(error.details).toEqual(['bad password ***']);
    expect(error.command).toContain('***');
  });

  it('reports a missing program with a hint to install it', async () => {
    // Given a program that does not exist
    // When it is run
    const error = (await rejectionOf(runLocal('peruri-no-such-program', ['x']))) as RemoteError;
    // Then the error says so
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.message).toContain('peruri-no-such-program not found');
    expect(error.hint).toContain('Install peruri-no-such-program');
  });

  it('kills the process when the timeout is reached', async () => {
    // Given a program that would run for 30 s and prints its PID first
    const started = Date.now();
    // When the timeout is 300 ms
    const error = (await rejectionOf(
      runLocal('sh', ['-c', 'echo $$ > /dev/stderr; exec sleep 30'], { timeoutMs: 300 }),
    )) as RemoteError;
    // Then it fails quickly with a RemoteError naming the timeout, and the process is gone
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.message).toContain('no result within 300 ms');
    expect(aliveProcess(Number(error.details[0]))).toBe(false);
  });

  it('stops the process and throws InterruptedError when the signal aborts', async () => {
    // Given a long-running program
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    // When the signal aborts it
    const error = await rejectionOf(runLocal('sleep', ['30'], { signal: controller.signal }));
    // Then it is interrupted quickly
    expect(error).toBeInstanceOf(InterruptedError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not start at all when the signal is already aborted', async () => {
    // Given an aborted signal
    // When a command is run with it
    const error = await rejectionOf(runLocal('sh', ['-c', 'exit 0'], { signal: AbortSignal.abort() }));
    // Then it is interrupted before starting
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).message).toContain('before running');
  });
});

describe('redactSecrets', () => {
  it('masks the longer of two overlapping secrets whole', () => {
    // Given secrets where one contains the other
    // When a text holding the longer one is redacted
    const safe = redactSecrets('token=abc123def and abc', ['abc', 'abc123def', '']);
    // Then neither is left
    expect(safe).toBe('token=*** and ***');
  });
});

describe('tailLines', () => {
  it('keeps the last non-empty lines', () => {
    expect(tailLines('a\n\nb\r\nc\n', 2)).toEqual(['b', 'c']);
  });
});

describe('shellQuote', () => {
  it.each([
    ['plain/path-1.txt', 'plain/path-1.txt'],
    ['two words', `'two words'`],
    [`it's`, `'it'\\''s'`],
    ['', `''`],
    ['$HOME', `'$HOME'`],
  ])('quotes %j as %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });
});

import { Writable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { onTestFinished } from 'vitest';
import { startDaemon, type StartDaemonResult } from '../../src/daemon/main.js';
import type { SignerReloadResult } from '../../src/daemon/signer-reload.js';
import { CLI } from './cli.js';

/** The adapter daemon running in the test's own process; stopped when the test finishes. */
export interface InProcessDaemon {
  url: string;
  /** Every JSON log line it wrote so far. */
  logs: string[];
  /** Aborting it is a SIGTERM. */
  controller: AbortController;
  /** What SIGHUP runs in `adapter start`. */
  reloadSigner(): Promise<SignerReloadResult>;
  /** Settles when the daemon has stopped. */
  done: Promise<StartDaemonResult>;
  /** Aborts and waits for the shutdown. */
  stop(): Promise<StartDaemonResult>;
}

/**
 * Starts `adapter start` in this process and waits until it listens.
 * @param configFile - the adapter configuration
 * @param env - where its secrets are read from
 * @throws when the daemon stops before listening, with its log
 */
export async function runDaemonInProcess(
  configFile: string,
  env: NodeJS.ProcessEnv,
): Promise<InProcessDaemon> {
  const controller = new AbortController();
  const logs: string[] = [];
  let listening: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => (listening = resolve));
  let reloadSigner: (() => Promise<SignerReloadResult>) | undefined;
  const done = startDaemon({
    configFile,
    env,
    signal: controller.signal,
    onListening: (info) => {
      reloadSigner = info.reloadSigner;
      listening(info.url);
    },
    logDestination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString());
        callback();
      },
    }),
  });
  onTestFinished(async () => {
    controller.abort();
    await done.catch(() => undefined);
  });
  const ready = await Promise.race([
    url,
    done.then(
      () => undefined,
      () => undefined,
    ),
  ]);
  if (!ready) {
    const why = await done.then(
      () => 'it stopped',
      (error: unknown) => String(error),
    );
    throw new Error(`the adapter did not start listening (${why}):\n${logs.join('')}`);
  }
  return {
    url: ready,
    logs,
    controller,
    reloadSigner: () => reloadSigner!(),
    done,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

/** The adapter daemon as a child process (`adapter start --json`), killed when the test finishes. */
export interface DaemonProcess {
  url: string;
  process: ResultPromise;
}

/**
 * Starts `adapter start --json` as its own process and waits for its one JSON document (printed
 * once it listens).
 * @param configFile - the adapter configuration
 * @param env - added to this process's environment (its secrets)
 * @throws when the first line is not a JSON document, or the process exits first
 */
export async function startDaemonProcess(configFile: string, env: NodeJS.ProcessEnv): Promise<DaemonProcess> {
  const child = execa('node', [CLI, 'adapter', 'start', '--config', configFile, '--json'], {
    reject: false,
    env: { ...env, CI: '' },
    extendEnv: true,
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes('\n')) return;
      try {
        resolve((JSON.parse(out) as { result: { url: string } }).result.url);
      } catch (error) {
        reject(new Error(`not a JSON document on stdout: ${out}`, { cause: error }));
      }
    });
    void child.then((result) =>
      reject(new Error(`adapter exited early (${result.exitCode}):\n${String(result.stderr)}`)),
    );
  });
  return { url, process: child };
}

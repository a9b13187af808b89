import { Writable } from 'node:stream';
import { onTestFinished } from 'vitest';
import { startDaemon, type StartDaemonResult } from '../../src/daemon/main.js';

/** The adapter daemon running in the test's own process; stopped when the test finishes. */
export interface InProcessDaemon {
  url: string;
  /** Every JSON log line it wrote so far. */
  logs: string[];
  /** Aborting it is a SIGTERM. */
  controller: AbortController;
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
  const done = startDaemon({
    configFile,
    env,
    signal: controller.signal,
    onListening: (info) => listening(info.url),
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
    done,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { runLocal } from '../../src/io/exec.js';
import { describeRequiring } from './requirement.js';
import { freePort } from './net.js';

/** Debian's OpenSSH server; sshd must be started by its absolute path (it re-executes itself). */
export const SSHD_BINARY = '/usr/sbin/sshd';

/** A running OpenSSH server on loopback (127.0.0.1 unless asked) that is one test "machine". */
export interface Sshd {
  host: string;
  port: number;
  /** The user the tests log in as (the one running them; root on our machines). */
  username: string;
  /** A private key (no passphrase) whose public half is in the server's authorized_keys. */
  clientKeyFile: string;
  /** The server's host key in SSH wire format and its fingerprint as `ssh-keygen -lf` prints it. */
  hostKey: Buffer;
  hostKeyFingerprint: string;
  /** The machine's filesystem root: tests use absolute paths below it as the remote side. */
  root: string;
  /** The folder holding the server's config, keys and pidfile. */
  dir: string;
  pid: number;
  /** What sshd has printed so far (its log with -e). */
  log(): string;
  /** Stops the process by its PID and resolves once it has exited. */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port and folder, with a new host key if asked. */
  restart(options?: { newHostKey?: boolean }): Promise<Sshd>;
}

/** Options of {@link startSshd}. */
export interface StartSshdOptions {
  /** Reuse this folder (keys are generated only if missing); a fresh temp folder otherwise. */
  dir?: string;
  /** Listen on this port; a free one otherwise. */
  port?: number;
  /** Replace the host key with a new one before starting. */
  newHostKey?: boolean;
  /** How long to wait for the SSH banner (default 10,000 ms). */
  readyTimeoutMs?: number;
  /** Variables set in every session (sshd_config SetEnv), e.g. a PATH with fake commands first. */
  env?: Record<string, string>;
  /** Listen on this loopback address (default 127.0.0.1): another "machine" on the same port. */
  listenAddress?: string;
}

/** Why sshd cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD_BINARY)) return `${SSHD_BINARY} is missing (apt-get install -y openssh-server)`;
  if (!existsSync('/usr/bin/ssh-keygen')) return 'ssh-keygen is missing (apt-get install -y openssh-client)';
  return undefined;
}

/**
 * Declares a suite that needs a real sshd. Without one the suite is skipped with the reason
 * printed, except in CI (CI=true), where its absence fails.
 * @param title - suite title
 * @param body - declares the tests
 */
export function describeWithSshd(title: string, body: () => void): void {
  describeRequiring(title, 'OpenSSH server', sshdUnavailable(), body);
}

/**
 * Starts sshd for the current test and stops it (and removes its folder) when the test finishes,
 * whatever the outcome.
 * @returns the running server
 */
export async function aRunningSshd(
  options: Pick<StartSshdOptions, 'env' | 'listenAddress' | 'port'> = {},
): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'peruri-sshd-'));
  let current: Sshd | undefined;
  onTestFinished(async () => {
    await current?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const track = (sshd: Sshd): Sshd => {
    current = sshd;
    const restart = sshd.restart;
    return { ...sshd, restart: async (options) => track(await restart(options)) };
  };
  return track(await startSshd({ dir, ...options }));
}

/**
 * Starts an OpenSSH server on 127.0.0.1 with its own host key, authorized_keys and config, after
 * checking the config with `sshd -t`; resolves once it sends its SSH banner.
 * @param options - folder, port, new host key
 * @returns the running server; call `stop()` when done
 */
export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'peruri-sshd-')));
  const files = await prepareFiles(dir, options.newHostKey ?? false);
  // sshd refuses to start without its privilege separation folder (Debian creates it at boot).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const config = join(dir, 'sshd_config');
    const listen = options.listenAddress ?? '127.0.0.1';
    await writeFile(config, sshdConfig(dir, listen, port, files, options.env ?? {}));
    await runLocal(SSHD_BINARY, ['-t', '-f', config], { timeoutMs: 10_000 });
    try {
      const started = await launch(config, listen, port, options.readyTimeoutMs ?? 10_000);
      const hostKey = Buffer.from((await readFile(`${files.hostKey}.pub`, 'utf8')).split(' ')[1]!, 'base64');
      const fingerprint = (await runLocal('ssh-keygen', ['-lf', `${files.hostKey}.pub`])).stdout.split(
        ' ',
      )[1]!;
      const sshd: Sshd = {
        host: listen,
        port,
        username: userInfo().username,
        clientKeyFile: files.clientKey,
        hostKey,
        hostKeyFingerprint: fingerprint,
        root: files.root,
        dir,
        pid: started.pid,
        log: started.log,
        stop: started.stop,
        restart: async (restartOptions = {}) => {
          await started.stop();
          return startSshd({
            dir,
            port,
            newHostKey: restartOptions.newHostKey ?? false,
            ...(options.env ? { env: options.env } : {}),
            ...(options.listenAddress ? { listenAddress: options.listenAddress } : {}),
          });
        },
      };
      return sshd;
    } catch (error) {
      if (attempt >= 3 || options.port !== undefined || !(error instanceof PortTakenError)) throw error;
    }
  }
}

/**
 * Starts an ssh-agent holding one key, for tests of agent logins; stopped when the test finishes.
 * @param keyFile - a private key without passphrase
 * @returns the agent's socket path
 */
export async function aRunningSshAgent(keyFile: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peruri-agent-'));
  const socket = join(dir, 'agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('error', () => undefined);
  onTestFinished(async () => {
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 5_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('ssh-agent did not create its socket');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await runLocal('ssh-add', ['-q', keyFile], { env: { SSH_AUTH_SOCK: socket }, timeoutMs: 5_000 });
  return socket;
}

interface SshdFiles {
  hostKey: string;
  clientKey: string;
  authorizedKeys: string;
  root: string;
}

async function prepareFiles(dir: string, newHostKey: boolean): Promise<SshdFiles> {
  const files: SshdFiles = {
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    clientKey: join(dir, 'client_ed25519_key'),
    authorizedKeys: join(dir, 'authorized_keys'),
    root: join(dir, 'root'),
  };
  await mkdir(files.root, { recursive: true });
  if (newHostKey) {
    await rm(files.hostKey, { force: true });
    await rm(`${files.hostKey}.pub`, { force: true });
  }
  if (!existsSync(files.hostKey)) await keygen(files.hostKey);
  if (!existsSync(files.clientKey)) {
    await keygen(files.clientKey);
    await writeFile(files.authorizedKeys, await readFile(`${files.clientKey}.pub`), { mode: 0o600 });
  }
  return files;
}

async function keygen(file: string): Promise<void> {
  await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'peruri-test', '-f', file], {
    timeoutMs: 10_000,
  });
}

// ENVIRONMENT.md: loopback only, own pidfile, no PAM or passwords; StrictModes off because the
// files live under /tmp. Stream-local forwarding carries the Docker API to a machine's socket.
function sshdConfig(
  dir: string,
  listen: string,
  port: number,
  files: SshdFiles,
  env: Record<string, string>,
): string {
  return [
    // sshd takes the first SetEnv line only: every variable goes on one.
    ...(Object.keys(env).length > 0
      ? [
          `SetEnv ${Object.entries(env)
            .map(([name, value]) => `${name}="${value}"`)
            .join(' ')}`,
        ]
      : []),
    `Port ${port}`,
    `ListenAddress ${listen}`,
    `HostKey ${files.hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${files.authorizedKeys}`,
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'AllowStreamLocalForwarding yes',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

class PortTakenError extends Error {}

async function launch(config: string, host: string, port: number, readyTimeoutMs: number) {
  const child = spawn(SSHD_BINARY, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let failed: Error | undefined;
  child.once('error', (error) => (failed = error));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (failed) throw failed;
    if (child.exitCode !== null || child.signalCode !== null) {
      const message = `sshd exited before it was ready:\n${log}`;
      throw /Address already in use/i.test(log) ? new PortTakenError(message) : new Error(message);
    }
    if (await sendsBanner(host, port)) break;
    if (Date.now() > deadline) {
      await kill(child, exited);
      throw new Error(`sshd on port ${port} sent no banner within ${readyTimeoutMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { pid: child.pid!, log: () => log, stop: () => kill(child, exited) };
}

function sendsBanner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ready: boolean): void => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('data', (chunk: Buffer) => done(chunk.toString().startsWith('SSH-2.0-')));
    socket.once('error', () => done(false));
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

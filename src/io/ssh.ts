import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import {
  ErrorCodes,
  InputError,
  InterruptedError,
  PeruriError,
  RefusedError,
  RemoteError,
} from '../core/errors.js';
import { redactSecrets, shellQuote, STDERR_TAIL_LINES, tailLines, type RunResult } from './exec.js';
import { checkHostKey, hostKeyFingerprint, recordedHostKeyTypes, recordHostKey } from './known-hosts.js';

/** Abort signal and time limit of one remote operation. */
export interface RemoteOperationOptions {
  /** Stops the operation; it then rejects with an InterruptedError. */
  signal?: AbortSignal;
  /** Limit in milliseconds (default 60,000). */
  timeoutMs?: number;
}

/** Options of {@link RemoteMachine.exec}. */
export interface RemoteExecOptions extends RemoteOperationOptions {
  /** Written to the command's standard input, which is then closed. Never shown in errors. */
  stdin?: string | Uint8Array;
  /** Values (passwords, tokens) replaced by `***` wherever the command or its output is shown. */
  redact?: readonly string[];
  /** Exit codes that are results rather than failures (default only 0). */
  allowedExitCodes?: readonly number[];
}

/** One file to write on a machine: its bytes and its Unix mode (kept exactly, whatever the umask). */
export interface RemoteFile {
  content: string | Uint8Array;
  mode: number;
}

/** Files by path; a workspace `FileSet` fits as it is. */
export type RemoteFiles = ReadonlyMap<string, RemoteFile>;

/** What {@link RemoteMachine.uploadDirectoryAtomically} did. */
export interface UploadDirectoryResult {
  /** The folder now in place. */
  dir: string;
  /** Where the version it replaced was kept, or undefined when there was none. */
  previous: string | undefined;
}

/**
 * A machine that core steps act on. The SSH implementation is {@link connectSsh}; unit tests of
 * core pass fakes.
 */
export interface RemoteMachine {
  /** How the machine is named in errors and progress: the host, with `:port` unless 22. */
  readonly host: string;
  /**
   * Runs a command through the login shell (POSIX sh syntax), as `ssh host command` would.
   * A code not in `allowedExitCodes` rejects with a RemoteError carrying the last lines of stderr.
   */
  exec(command: string, options?: RemoteExecOptions): Promise<RunResult>;
  /** Writes each file (absolute paths) atomically: a temporary name, then a rename over the old one. */
  upload(files: RemoteFiles, options?: RemoteOperationOptions): Promise<void>;
  /**
   * Makes `remoteDir` hold exactly `files` (relative paths): writes `<dir>.staging-<random>`, then
   * moves the current folder to `<dir>.previous` (replacing an older one) and the staging folder
   * into place. When writing fails, the current folder is untouched and the staging one removed.
   */
  uploadDirectoryAtomically(
    files: RemoteFiles,
    remoteDir: string,
    options?: RemoteOperationOptions,
  ): Promise<UploadDirectoryResult>;
  /** Puts `<dir>.previous` back in place; the folder it replaces becomes the new `.previous`. */
  restorePreviousDirectory(remoteDir: string, options?: RemoteOperationOptions): Promise<void>;
  /** The bytes of a file; a missing file is a RemoteError. */
  readFile(path: string, options?: RemoteOperationOptions): Promise<Buffer>;
  /** Whether anything (file, folder, link target) exists at the path. */
  exists(path: string, options?: RemoteOperationOptions): Promise<boolean>;
  /** Ends the connection; further calls fail. */
  close(): Promise<void>;
}

/** Something that opens a stream to a unix socket on a machine (for Docker through SSH). */
export interface UnixSocketDialer {
  readonly host: string;
  openUnixSocket(socketPath: string, options?: RemoteOperationOptions): Promise<Duplex>;
}

/** A local loopback port whose connections are carried to a TCP address as seen from a machine. */
export interface TcpForward {
  /** `http://127.0.0.1:<port>`: the forwarded address as an HTTP URL (JSON-RPC, the adapter). */
  url: string;
  port: number;
  /** Stops listening and ends the connections in flight; also done when the machine is closed. */
  close(): Promise<void>;
}

/** Something that carries TCP connections to an address reachable from a machine (SSH `-L`). */
export interface TcpForwarder {
  readonly host: string;
  forwardTcp(remoteHost: string, remotePort: number): Promise<TcpForward>;
}

/** How to log in: a running ssh-agent's socket, or a private key file (with its passphrase). */
export type SshAuth = { agent: string } | { privateKeyFile: string; passphrase?: string };

/** Options of {@link connectSsh}. */
export interface ConnectSshOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  auth: SshAuth;
  /** The workspace's known_hosts file; host keys are checked against it and recorded in it. */
  knownHostsFile: string;
  /** Trust a host that is not recorded yet, and record it (trust on first use). Never a changed one. */
  acceptNewHostKey?: boolean;
  /** Aborts connecting (the connection itself is then ended by `close()` only). */
  signal?: AbortSignal;
  /** Limit for connecting and logging in, in milliseconds (default 20,000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
// The first line of every command's stderr carries the shell's PID, which sshd made a session
// leader: a timed-out or aborted command is then stopped with `kill -- -PID` (OpenSSH refuses
// channel signal requests unless privilege separation applies, so those cannot be relied on).
const PID_MARK = 'peruri-chain-pid:';
/** How long a command being stopped may take to report its PID line. */
const PID_LINE_WAIT_MS = 5_000;
// SFTP status codes (draft-ietf-secsh-filexfer-02, section 7).
const SFTP_NO_SUCH_FILE = 2;

/**
 * Chooses the login method from what the operator gave: a key file wins, else the agent in
 * SSH_AUTH_SOCK.
 * @param keyFile - `--ssh-key-file`, if given
 * @param env - the environment (SSH_AUTH_SOCK)
 * @param passphrase - the key file's passphrase, if any
 * @returns the login method
 * @throws InputError when there is neither
 */
export function chooseSshAuth(
  keyFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  passphrase?: string,
): SshAuth {
  if (keyFile !== undefined && keyFile !== '') {
    return passphrase === undefined ? { privateKeyFile: keyFile } : { privateKeyFile: keyFile, passphrase };
  }
  const agent = env.SSH_AUTH_SOCK;
  if (agent !== undefined && agent !== '') return { agent };
  throw new InputError(
    ErrorCodes.SECRET_MISSING,
    'No SSH key: neither a key file nor an ssh-agent was given',
    {
      hint: 'Start ssh-agent and add the deploy key (ssh-add), or pass the key file with --ssh-key-file.',
    },
  );
}

/**
 * Connects and logs in to a machine over SSH, checking its host key against the workspace's
 * known_hosts file first.
 * @param options - host, port, user, login method, known-hosts file, first-use acceptance, limits
 * @returns the connected machine; call `close()` when done
 * @throws RefusedError for an unknown host key (without `acceptNewHostKey`), a changed or revoked
 *   one; InputError for an unreadable key file; RemoteError when the machine cannot be reached or
 *   refuses the login; InterruptedError when the signal aborts
 * @example
 * const machine = await connectSsh({
 *   host: '10.0.0.5', username: 'deploy', auth: chooseSshAuth(undefined),
 *   knownHostsFile: join(workspace, 'known_hosts'),
 * });
 * try { await machine.exec('uname -a'); } finally { await machine.close(); }
 */
export async function connectSsh(options: ConnectSshOptions): Promise<SshMachine> {
  const port = options.port ?? 22;
  const host = options.port === undefined || port === 22 ? options.host : `${options.host}:${port}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (options.signal?.aborted) throw new InterruptedError(`Interrupted before connecting to ${host}`);
  const credentials = await loginCredentials(options.auth);
  const preferred = hostKeyAlgorithms(await recordedHostKeyTypes(options.knownHostsFile, options.host, port));

  // ssh2 only learns "verification failed"; the reason is kept here to throw the right error.
  let refusal: PeruriError | undefined;
  let newKey: Buffer | undefined;
  const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
    checkHostKey(options.knownHostsFile, options.host, port, key).then(
      (check) => {
        refusal = hostKeyRefusal(check, key, host, options);
        if (check.status === 'unknown' && refusal === undefined) newKey = key;
        verify(refusal === undefined);
      },
      (error: unknown) => {
        refusal = new InputError(
          ErrorCodes.WORKSPACE_INVALID,
          `Cannot read ${options.knownHostsFile}: ${describe(error)}`,
        );
        verify(false);
      },
    );
  };

  const ssh = new NodeSSH();
  const connecting = ssh.connect({
    host: options.host,
    port,
    username: options.username,
    ...credentials,
    hostVerifier,
    readyTimeout: timeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    algorithms: { serverHostKey: preferred },
  });
  let abort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    abort = () => reject(new InterruptedError(`Interrupted while connecting to ${host}`));
    options.signal?.addEventListener('abort', abort, { once: true });
  });
  try {
    await Promise.race([connecting, aborted]);
  } catch (error) {
    connecting.catch(() => undefined);
    ssh.dispose();
    if (error instanceof InterruptedError) throw error;
    throw refusal ?? connectFailure(host, options, timeoutMs, error);
  } finally {
    if (abort) options.signal?.removeEventListener('abort', abort);
  }
  const machine = new SshMachine(host, ssh);
  if (newKey) {
    await recordHostKey(options.knownHostsFile, options.host, port, newKey).catch(async (error: unknown) => {
      await machine.close();
      throw new InputError(
        ErrorCodes.WORKSPACE_INVALID,
        `Cannot record the host key in ${options.knownHostsFile}`,
        {
          details: [describe(error)],
          cause: error,
        },
      );
    });
  }
  return machine;
}

/** A machine reached over SSH: commands over exec channels, files over SFTP. */
export class SshMachine implements RemoteMachine, UnixSocketDialer, TcpForwarder {
  readonly host: string;
  private readonly ssh: NodeSSH;
  private readonly client: Client;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private closed = false;
  private readonly forwards = new Set<TcpForward>();

  /** Use {@link connectSsh}. */
  constructor(host: string, ssh: NodeSSH) {
    this.host = host;
    this.ssh = ssh;
    this.client = ssh.connection!;
    // node-ssh stops listening for errors once connected; an unheard 'error' would crash the process.
    this.client.on('error', () => undefined);
    this.client.on('close', () => {
      this.closed = true;
    });
  }

  async exec(command: string, options: RemoteExecOptions = {}): Promise<RunResult> {
    const secrets = options.redact ?? [];
    const shown = redactSecrets(command, secrets);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (options.signal?.aborted)
      throw new InterruptedError(`Interrupted before running on ${this.host}: ${shown}`);
    const channel = await this.openChannel(shown, (callback) =>
      this.client.exec(`printf '${PID_MARK}%s\\n' "$$" >&2\n${command}`, callback),
    );

    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let channelOpen = true;
    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const finished = new Promise<{ code: number | undefined; signal: string | undefined }>((resolve) => {
      let exit: { code: number | undefined; signal: string | undefined } = {
        code: undefined,
        signal: undefined,
      };
      channel.on('exit', (code: number | null, signal?: string) => {
        exit = { code: code ?? undefined, signal: signal ?? undefined };
      });
      channel.on('close', () => {
        channelOpen = false;
        resolve(exit);
      });
    });
    channel.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));

    const outcome = await this.race(finished, timeoutMs, options.signal);
    const errorText = withoutPidLine(Buffer.concat(stderr).toString('utf8'));
    if (outcome !== 'timeout' && outcome !== 'aborted') {
      const result = {
        stdout: stripFinalNewline(Buffer.concat(stdout).toString('utf8')),
        stderr: stripFinalNewline(errorText),
        code: outcome.code ?? -1,
      };
      const allowed = options.allowedExitCodes ?? [0];
      if (outcome.code !== undefined && allowed.includes(outcome.code)) return result;
      const reason =
        outcome.code !== undefined
          ? `exit code ${outcome.code}`
          : outcome.signal !== undefined
            ? `killed by SIG${outcome.signal}`
            : 'the connection closed before the command finished';
      throw this.failure(shown, reason, 'See the details for its last lines of standard error.', {
        details: tailLines(redactSecrets(errorText, secrets), STDERR_TAIL_LINES),
      });
    }

    await this.stopRemoteGroup(
      () => Buffer.concat(stderr).toString('utf8'),
      () => channelOpen,
    );
    channel.close();
    if (outcome === 'aborted')
      throw new InterruptedError(`Interrupted while running on ${this.host}: ${shown}`);
    throw this.failure(
      shown,
      `no result within ${timeoutMs} ms (stopped)`,
      'Raise the timeout or check why it hangs.',
      {
        details: tailLines(redactSecrets(errorText, secrets), STDERR_TAIL_LINES),
      },
    );
  }

  async upload(files: RemoteFiles, options: RemoteOperationOptions = {}): Promise<void> {
    for (const path of files.keys()) requireAbsolute(path);
    await this.withSftp(`upload ${describeFiles(files)}`, options, async (sftp) => {
      const made = new Set<string>();
      for (const [path, file] of files) {
        await makeDirectories(sftp, posix.dirname(path), made);
        const temporary = `${path}.upload-${randomBytes(4).toString('hex')}`;
        try {
          await writeWithMode(sftp, temporary, file);
          await sftpCall<void>((cb) => sftp.ext_openssh_rename(temporary, path, cb));
        } catch (error) {
          await sftpCall<void>((cb) => sftp.unlink(temporary, cb)).catch(() => undefined);
          throw new SftpStepError(`write ${path}`, error);
        }
      }
    });
  }

  async uploadDirectoryAtomically(
    files: RemoteFiles,
    remoteDir: string,
    options: RemoteOperationOptions = {},
  ): Promise<UploadDirectoryResult> {
    const dir = requireAbsolute(remoteDir).replace(/\/+$/, '');
    if (dir === '') throw new InputError(ErrorCodes.FLAG_INVALID, 'Refusing to replace the root folder /');
    for (const path of files.keys()) requireRelative(path);
    const staging = `${dir}.staging-${randomBytes(6).toString('hex')}`;
    const previous = `${dir}.previous`;
    try {
      await this.withSftp(`upload ${files.size} files to ${staging}`, options, async (sftp) => {
        const made = new Set<string>();
        await makeDirectories(sftp, posix.dirname(dir), made);
        await sftpCall<void>((cb) => sftp.mkdir(staging, { mode: 0o755 }, cb)).catch((error: unknown) => {
          throw new SftpStepError(`create ${staging}`, error);
        });
        made.add(staging);
        for (const [path, file] of files) {
          const target = posix.join(staging, path);
          await makeDirectories(sftp, posix.dirname(target), made);
          await writeWithMode(sftp, target, file).catch((error: unknown) => {
            throw new SftpStepError(`write ${target}`, error);
          });
        }
      });
    } catch (error) {
      await this.exec(`rm -rf -- ${shellQuote(staging)}`, { timeoutMs: 30_000 }).catch(() => undefined);
      throw error;
    }
    if (options.signal?.aborted) {
      await this.exec(`rm -rf -- ${shellQuote(staging)}`, { timeoutMs: 30_000 }).catch(() => undefined);
      throw new InterruptedError(`Interrupted before replacing ${dir} on ${this.host}`);
    }
    // Only renames between the first and the last line, so the folder is missing for an instant
    // at most; the old .previous is deleted after the swap. Not abortable: a half-done swap is worse.
    const discard = `${dir}.discard-${randomBytes(6).toString('hex')}`;
    const { stdout } = await this.exec(
      [
        `d=${shellQuote(dir)} s=${shellQuote(staging)} p=${shellQuote(previous)} o=${shellQuote(discard)}`,
        'kept=none',
        'if [ -e "$p" ]; then mv -- "$p" "$o" || exit 1; fi',
        'if [ -e "$d" ]; then mv -- "$d" "$p" || exit 1; kept=yes; fi',
        'if ! mv -- "$s" "$d"; then',
        '  if [ "$kept" = yes ]; then mv -- "$p" "$d"; fi',
        '  if [ -e "$o" ]; then mv -- "$o" "$p"; fi',
        '  exit 1',
        'fi',
        'echo "$kept"',
        'rm -rf -- "$o" || true',
      ].join('\n'),
      { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS },
    );
    return { dir, previous: stdout.trim() === 'yes' ? previous : undefined };
  }

  async restorePreviousDirectory(remoteDir: string, options: RemoteOperationOptions = {}): Promise<void> {
    const dir = requireAbsolute(remoteDir).replace(/\/+$/, '');
    const previous = `${dir}.previous`;
    const swap = `${dir}.swap-${randomBytes(6).toString('hex')}`;
    if (options.signal?.aborted)
      throw new InterruptedError(`Interrupted before restoring ${dir} on ${this.host}`);
    const { code } = await this.exec(
      [
        `d=${shellQuote(dir)} p=${shellQuote(previous)} t=${shellQuote(swap)}`,
        '[ -d "$p" ] || exit 3',
        'if [ -e "$d" ]; then mv -- "$d" "$t" || exit 1; fi',
        'if ! mv -- "$p" "$d"; then [ -e "$t" ] && mv -- "$t" "$d"; exit 1; fi',
        'if [ -e "$t" ]; then mv -- "$t" "$p" || exit 1; fi',
      ].join('\n'),
      // Not abortable, as the swap in uploadDirectoryAtomically.
      { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, allowedExitCodes: [0, 3] },
    );
    if (code === 3) {
      throw new RefusedError(
        ErrorCodes.WORKSPACE_INVALID,
        `${this.host}: there is no ${previous} to restore`,
        {
          hint: 'Only a folder replaced by an earlier upload can be restored.',
        },
      );
    }
  }

  async readFile(path: string, options: RemoteOperationOptions = {}): Promise<Buffer> {
    requireAbsolute(path);
    return this.withSftp(`read ${path}`, options, (sftp) =>
      sftpCall<Buffer>((cb) => sftp.readFile(path, cb)).catch((error: unknown) => {
        throw new SftpStepError(`read ${path}`, error);
      }),
    );
  }

  async exists(path: string, options: RemoteOperationOptions = {}): Promise<boolean> {
    requireAbsolute(path);
    return this.withSftp(`stat ${path}`, options, async (sftp) => {
      try {
        await sftpCall((cb) => sftp.stat(path, cb));
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === SFTP_NO_SUCH_FILE) return false;
        throw new SftpStepError(`stat ${path}`, error);
      }
    });
  }

  async openUnixSocket(socketPath: string, options: RemoteOperationOptions = {}): Promise<Duplex> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const command = `open ${socketPath}`;
    const opening = this.openChannel(command, (callback) =>
      this.client.openssh_forwardOutStreamLocal(socketPath, callback),
    );
    const outcome = await this.race(opening, timeoutMs, options.signal);
    if (outcome === 'aborted')
      throw new InterruptedError(`Interrupted while opening ${socketPath} on ${this.host}`);
    if (outcome === 'timeout')
      throw this.failure(command, `no answer within ${timeoutMs} ms`, 'Check the machine.');
    return outcome;
  }

  /**
   * Listens on a free loopback port of this machine and carries every connection to
   * `remoteHost:remotePort` as the remote machine sees it (like `ssh -L`), so a JSON-RPC port bound
   * to the machine's loopback is reachable without exposing it.
   * @param remoteHost - the address to dial from the machine, e.g. 127.0.0.1
   * @param remotePort - the port there
   * @returns the local URL; closed with the connection
   * @throws RemoteError when the connection is closed
   */
  async forwardTcp(remoteHost: string, remotePort: number): Promise<TcpForward> {
    const target = `${remoteHost}:${remotePort}`;
    if (this.closed) throw this.failure(`forward ${target}`, 'the connection is closed', 'Connect again.');
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.pause();
      const carry = (error: Error | undefined, channel: ClientChannel): void => {
        // A refused dial on the machine closes the local socket: the client sees a reset, as with ssh -L.
        if (error) {
          socket.destroy();
          return;
        }
        channel.on('error', () => socket.destroy());
        socket.pipe(channel).pipe(socket);
        socket.on('close', () => channel.close());
        socket.resume();
      };
      try {
        this.client.forwardOut('127.0.0.1', socket.remotePort ?? 0, remoteHost, remotePort, carry);
      } catch {
        socket.destroy();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const forward: TcpForward = {
      url: `http://127.0.0.1:${port}`,
      port,
      close: async () => {
        this.forwards.delete(forward);
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    this.forwards.add(forward);
    return forward;
  }

  async close(): Promise<void> {
    await Promise.all([...this.forwards].map((forward) => forward.close()));
    if (this.closed) return;
    const done = new Promise<void>((resolve) => this.client.once('close', () => resolve()));
    this.ssh.dispose();
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    this.closed = true;
  }

  private openChannel(
    command: string,
    open: (callback: (error: Error | undefined, channel: ClientChannel) => void) => unknown,
  ) {
    return new Promise<ClientChannel>((resolve, reject) => {
      if (this.closed) {
        reject(this.failure(command, 'the connection is closed', 'Connect again.'));
        return;
      }
      try {
        open((error, channel) => {
          if (error)
            reject(this.failure(command, `could not open a channel: ${error.message}`, channelHint(error)));
          else resolve(channel);
        });
      } catch (error) {
        reject(this.failure(command, describe(error), 'Connect again.'));
      }
    });
  }

  // Resolves with the work's result, or 'timeout' / 'aborted', whichever comes first.
  private async race<T>(work: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined) {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const limits = new Promise<'timeout' | 'aborted'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      onAbort = () => resolve('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work, limits]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Kills the process group of a command being stopped. Its PID line may still be on its way
   * (the command can be aborted the moment it starts), so it is waited for while the channel is
   * open, for a bounded time.
   */
  private async stopRemoteGroup(stderrSoFar: () => string, channelOpen: () => boolean): Promise<void> {
    const pidLine = new RegExp(`^${PID_MARK}(\\d+)\\n`);
    const deadline = Date.now() + PID_LINE_WAIT_MS;
    let match = pidLine.exec(stderrSoFar());
    while (!match && channelOpen() && !this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      match = pidLine.exec(stderrSoFar());
    }
    if (!match || this.closed) return;
    await this.exec(`kill -KILL -- -${match[1]} 2>/dev/null`, {
      timeoutMs: 5_000,
      allowedExitCodes: [0, 1],
    }).catch(() => undefined);
  }

  private async withSftp<T>(
    action: string,
    options: RemoteOperationOptions,
    work: (sftp: SFTPWrapper) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (options.signal?.aborted) throw new InterruptedError(`Interrupted before: ${action} on ${this.host}`);
    const running = (async () => work(await this.sftp(action)))();
    running.catch(() => undefined);
    let outcome: T | 'timeout' | 'aborted';
    try {
      outcome = await this.race(running, timeoutMs, options.signal);
    } catch (error) {
      if (error instanceof PeruriError) throw error;
      const step = error instanceof SftpStepError ? error : new SftpStepError(action, error);
      throw this.failure(step.step, describe(step.cause), sftpHint(step.cause));
    }
    if (outcome === 'timeout' || outcome === 'aborted') {
      // Ending the SFTP session makes whatever is still pending fail instead of going on.
      const session = this.sftpSession;
      this.sftpSession = undefined;
      session?.then((sftp) => sftp.end()).catch(() => undefined);
      if (outcome === 'aborted') throw new InterruptedError(`Interrupted: ${action} on ${this.host}`);
      throw this.failure(
        action,
        `no result within ${timeoutMs} ms`,
        'Raise the timeout or check the machine.',
      );
    }
    return outcome;
  }

  private sftp(action: string): Promise<SFTPWrapper> {
    if (this.closed)
      return Promise.reject(this.failure(action, 'the connection is closed', 'Connect again.'));
    if (!this.sftpSession) {
      const session = this.ssh.requestSFTP();
      this.sftpSession = session;
      session.then(
        (sftp) =>
          sftp.on('close', () => {
            if (this.sftpSession === session) this.sftpSession = undefined;
          }),
        () => {
          if (this.sftpSession === session) this.sftpSession = undefined;
        },
      );
    }
    return this.sftpSession.catch((error: unknown) => {
      throw this.failure(
        action,
        `no SFTP session: ${describe(error)}`,
        'Enable the sftp subsystem in sshd_config.',
      );
    });
  }

  private failure(
    command: string,
    reason: string,
    hint: string,
    extra: { details?: string[] } = {},
  ): RemoteError {
    return new RemoteError(ErrorCodes.REMOTE_FAILED, `${this.host}: ${command}: ${reason}`, {
      host: this.host,
      command,
      hint,
      details: extra.details ?? [],
    });
  }
}

class SftpStepError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`${step}: ${describe(cause)}`);
  }
}

async function loginCredentials(
  auth: SshAuth,
): Promise<{ agent: string } | { privateKey: string; passphrase?: string }> {
  if ('agent' in auth) return { agent: auth.agent };
  try {
    const privateKey = await readFile(auth.privateKeyFile, 'utf8');
    return auth.passphrase === undefined ? { privateKey } : { privateKey, passphrase: auth.passphrase };
  } catch (error) {
    throw new InputError(ErrorCodes.KEY_INVALID, `Cannot read the SSH key file ${auth.privateKeyFile}`, {
      hint: 'Check the path given with --ssh-key-file.',
      details: [describe(error)],
      cause: error,
    });
  }
}

function hostKeyRefusal(
  check: Awaited<ReturnType<typeof checkHostKey>>,
  key: Buffer,
  host: string,
  options: ConnectSshOptions,
): PeruriError | undefined {
  const fingerprint = hostKeyFingerprint(key);
  switch (check.status) {
    case 'known':
      return undefined;
    case 'unknown':
      if (options.acceptNewHostKey) return undefined;
      return new RefusedError(
        ErrorCodes.SSH_HOST_UNKNOWN,
        `${host} is not a known host (its key is ${fingerprint})`,
        {
          hint:
            `Compare ${fingerprint} with \`ssh-keygen -lf\` of the host key on the machine itself; if they match, ` +
            `connect once accepting new host keys to record it in ${options.knownHostsFile}.`,
          details: [`host key ${fingerprint}`, `known hosts: ${options.knownHostsFile}`],
        },
      );
    case 'changed':
      return new RefusedError(
        ErrorCodes.SSH_HOST_KEY_CHANGED,
        `The host key of ${host} has CHANGED: someone may be intercepting the connection (man-in-the-middle)`,
        {
          hint:
            `If the machine was reinstalled or its key rotated on purpose, check ${fingerprint} on the machine ` +
            `and replace its line in ${options.knownHostsFile}; otherwise do not connect.`,
          details: [
            `presented: ${fingerprint}`,
            ...check.recorded.map((line) => `recorded: ${line}`),
            `known hosts: ${options.knownHostsFile}`,
          ],
        },
      );
    case 'revoked':
      return new RefusedError(
        ErrorCodes.SSH_HOST_KEY_CHANGED,
        `The host key of ${host} is revoked (${fingerprint})`,
        {
          hint: `The machine presents a key marked @revoked in ${options.knownHostsFile}; do not connect.`,
        },
      );
  }
}

// OpenSSH asks first for the key types it already knows for a host, so a server with several host
// keys is not taken for a changed one; RSA keys are negotiated as rsa-sha2-* over the same key.
// The rest keeps ssh2's default order (ssh2 lib/protocol/constants.js).
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];

function hostKeyAlgorithms(recordedTypes: string[]): HostKeyAlgorithm[] {
  const preferred = recordedTypes.flatMap((type): HostKeyAlgorithm[] =>
    type === 'ssh-rsa'
      ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
      : HOST_KEY_ALGORITHMS.filter((algorithm) => algorithm === type),
  );
  return [...new Set([...preferred, ...HOST_KEY_ALGORITHMS])];
}

function connectFailure(
  host: string,
  options: ConnectSshOptions,
  timeoutMs: number,
  error: unknown,
): PeruriError {
  const message = describe(error);
  const code = (error as { code?: unknown }).code;
  const level = (error as { level?: unknown }).level;
  const command = `ssh ${options.username}@${host}`;
  if (level === 'client-authentication') {
    return new RemoteError(
      ErrorCodes.SSH_AUTH_FAILED,
      `${host}: the SSH server refused the login as ${options.username}`,
      {
        host,
        command,
        hint: `Add the deploy key's public half to ~${options.username}/.ssh/authorized_keys on the machine, or use the right key.`,
        cause: error,
      },
    );
  }
  if (/privateKey|passphrase|parse/i.test(message)) {
    return new InputError(ErrorCodes.KEY_INVALID, `Cannot use the SSH key: ${message}`, {
      hint: 'Check the key file and its passphrase.',
    });
  }
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found'
        : /timed out/i.test(message) || code === 'ETIMEDOUT'
          ? `no SSH handshake within ${timeoutMs} ms`
          : message;
  return new RemoteError(ErrorCodes.REMOTE_FAILED, `${host}: cannot connect over SSH: ${reason}`, {
    host,
    command,
    hint: 'Check that the machine is up, that sshd listens on that port and that no firewall is in the way.',
    cause: error,
  });
}

function sftpCall<T>(
  call: (callback: (error: Error | null | undefined, value: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    call((error, value) => (error ? reject(error) : resolve(value))),
  );
}

async function writeWithMode(sftp: SFTPWrapper, path: string, file: RemoteFile): Promise<void> {
  const data = typeof file.content === 'string' ? Buffer.from(file.content) : Buffer.from(file.content);
  // Created with the final mode so a key is never readable by others, then set again because the
  // server applies its umask when creating.
  await sftpCall<void>((cb) => sftp.writeFile(path, data, { mode: file.mode }, cb));
  await sftpCall<void>((cb) => sftp.chmod(path, file.mode, cb));
}

async function makeDirectories(sftp: SFTPWrapper, dir: string, made: Set<string>): Promise<void> {
  if (dir === '/' || dir === '.' || made.has(dir)) return;
  try {
    const stats = await sftpCall<{ isDirectory(): boolean }>((cb) => sftp.stat(dir, cb));
    if (!stats.isDirectory()) throw new SftpStepError(`create ${dir}`, new Error('a file is in the way'));
  } catch (error) {
    if (error instanceof SftpStepError) throw error;
    if ((error as { code?: unknown }).code !== SFTP_NO_SUCH_FILE)
      throw new SftpStepError(`stat ${dir}`, error);
    await makeDirectories(sftp, posix.dirname(dir), made);
    await sftpCall<void>((cb) => sftp.mkdir(dir, { mode: 0o755 }, cb)).catch((mkdirError: unknown) => {
      throw new SftpStepError(`create ${dir}`, mkdirError);
    });
  }
  made.add(dir);
}

function requireAbsolute(path: string): string {
  if (!posix.isAbsolute(path) || path.split('/').includes('..')) {
    throw new InputError(ErrorCodes.FLAG_INVALID, `A remote path must be absolute and without '..': ${path}`);
  }
  return path;
}

function requireRelative(path: string): string {
  if (path === '' || posix.isAbsolute(path) || path.split('/').includes('..')) {
    throw new InputError(
      ErrorCodes.FLAG_INVALID,
      `A file in a folder upload must have a relative path without '..': ${path}`,
    );
  }
  return path;
}

function describeFiles(files: RemoteFiles): string {
  const paths = [...files.keys()];
  return paths.length === 1 ? paths[0]! : `${paths.length} files`;
}

function withoutPidLine(stderr: string): string {
  if (!stderr.startsWith(PID_MARK)) return stderr;
  const newline = stderr.indexOf('\n');
  return newline === -1 ? '' : stderr.slice(newline + 1);
}

function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function channelHint(error: Error): string {
  return /open failed|administratively prohibited/i.test(error.message)
    ? 'Check that the socket exists on the machine and that sshd allows stream-local forwarding.'
    : 'Connect again.';
}

function sftpHint(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === SFTP_NO_SUCH_FILE) return 'Check the path on the machine.';
  if (code === 3) return 'The SSH user lacks permission there.';
  return 'Check the path and the free space on the machine.';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

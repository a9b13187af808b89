import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import {
  ErrorCodes,
  InputError,
  InterruptedError,
  RefusedError,
  RemoteError,
} from '../../src/core/errors.js';
import { runLocal } from '../../src/io/exec.js';
import { recordHostKey } from '../../src/io/known-hosts.js';
import { chooseSshAuth, connectSsh, type ConnectSshOptions, type SshMachine } from '../../src/io/ssh.js';
import { aRunningSshAgent, aRunningSshd, describeWithSshd, type Sshd } from '../support/sshd.js';
import { freePort } from '../support/net.js';
import { aTempDir, snapshotTree } from '../support/temp-dir.js';

// Connection options for a test server, with a known_hosts file of the test's own.
async function optionsFor(
  sshd: Sshd,
  overrides: Partial<ConnectSshOptions> = {},
): Promise<ConnectSshOptions> {
  return {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    auth: { privateKeyFile: sshd.clientKeyFile },
    knownHostsFile: join(await aTempDir('peruri-ws-'), 'known_hosts'),
    timeoutMs: 10_000,
    ...overrides,
  };
}

// A connection to a server whose key is already recorded; closed when the test finishes.
async function aConnection(sshd: Sshd, overrides: Partial<ConnectSshOptions> = {}): Promise<SshMachine> {
  const options = await optionsFor(sshd, overrides);
  await recordHostKey(options.knownHostsFile, sshd.host, sshd.port, sshd.hostKey);
  return track(await connectSsh(options));
}

function track(machine: SshMachine): SshMachine {
  onTestFinished(() => machine.close());
  return machine;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

// True once no process is left in the process group (a stopped remote command), polling up to 3 s.
async function groupGone(pgid: number): Promise<boolean> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForFile(path: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.trim() !== '') return text.trim();
    if (Date.now() > deadline) throw new Error(`${path} was not written`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithSshd('SSH machine against a real OpenSSH server', () => {
  it('runs commands and returns stdout, stderr and code; stdin reaches the command', async () => {
    // Given a connected machine
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    // When commands run
    const both = await machine.exec('echo out; echo err >&2');
    const piped = await machine.exec('tr a-z A-Z', { stdin: 'shout' });
    // Then their output comes back as printed (the PID line used for stopping is not shown)
    expect(both).toEqual({ stdout: 'out', stderr: 'err', code: 0 });
    expect(piped.stdout).toBe('SHOUT');
    expect(machine.host).toBe(`127.0.0.1:${sshd.port}`);
  });

  it('turns a non-zero exit into a RemoteError with host, command and the last lines of stderr; allowed codes are results', async () => {
    // Given a connected machine
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    // When a command fails after 25 lines on stderr
    const error = await rejectionOf(
      machine.exec('for i in $(seq 1 25); do echo "line $i" >&2; done; exit 7', { timeoutMs: 10_000 }),
    );
    // Then the error says where, what and how, with the last 20 lines
    expect(error).toBeInstanceOf(RemoteError);
    const remote = error as RemoteError;
    expect(remote.code).toBe(ErrorCodes.REMOTE_FAILED);
    expect(remote.host).toBe(`127.0.0.1:${sshd.port}`);
    expect(remote.command).toContain('exit 7');
    expect(remote.message).toContain('exit code 7');
    expect(remote.details).toHaveLength(20);
    expect(remote.details.at(-1)).toBe('line 25');
    expect(remote.details[0]).toBe('line 6');
    // And an allowed code is returned
    expect((await machine.exec('exit 3', { allowedExitCodes: [0, 3] })).code).toBe(3);
  });

  it('masks secrets in the command and output of a failure', async () => {
    // Given a command that carries a token and prints it
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    const token = 's3cr3t-token-value';
    // When it fails
    const error = (await rejectionOf(
      machine.exec(`echo "rejected ${token}" >&2; exit 1`, { redact: [token] }),
    )) as RemoteError;
    // Then the token is nowhere in the error
    expect(error).toBeInstanceOf(RemoteError);
    expect(JSON.stringify([error.message, error.command, error.details, error.hint])).not.toContain(token);
    expect(error.details).toEqual(['rejected ***']);
  });

  it('logs in with a key held by ssh-agent', async () => {
    // Given an agent holding the client key and no key file
    const sshd = await aRunningSshd();
    const socket = await aRunningSshAgent(sshd.clientKeyFile);
    const auth = chooseSshAuth(undefined, { SSH_AUTH_SOCK: socket });
    // When connecting with it
    const machine = await aConnection(sshd, { auth });
    // Then commands run as the user
    expect(auth).toEqual({ agent: socket });
    expect((await machine.exec('id -un')).stdout).toBe(sshd.username);
  });

  it('refuses a login with a key the server does not know, as SSH_AUTH_FAILED', async () => {
    // Given a key that is not in authorized_keys
    const sshd = await aRunningSshd();
    const dir = await aTempDir();
    const stranger = join(dir, 'stranger');
    await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    // When connecting with it
    const error = await rejectionOf(aConnection(sshd, { auth: { privateKeyFile: stranger } }));
    // Then the login is refused with a hint about authorized_keys
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).code).toBe(ErrorCodes.SSH_AUTH_FAILED);
    expect((error as RemoteError).hint).toContain('authorized_keys');
  });

  it('reports a missing key file, and a wrong passphrase without echoing it, as bad input', async () => {
    // Given a missing key file and a key protected by a passphrase
    const sshd = await aRunningSshd();
    const dir = await aTempDir();
    const locked = join(dir, 'locked');
    await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right-phrase', '-f', locked]);
    // When connecting with them
    const missing = await rejectionOf(aConnection(sshd, { auth: { privateKeyFile: join(dir, 'absent') } }));
    const wrong = await rejectionOf(
      aConnection(sshd, { auth: { privateKeyFile: locked, passphrase: 'wrong-phrase' } }),
    );
    // Then both are input errors about the key, and no passphrase is shown
    expect(missing).toBeInstanceOf(InputError);
    expect((missing as InputError).code).toBe(ErrorCodes.KEY_INVALID);
    expect(wrong).toBeInstanceOf(InputError);
    expect((wrong as InputError).code).toBe(ErrorCodes.KEY_INVALID);
    expect((wrong as InputError).describe()).not.toContain('wrong-phrase');
  });

  it('refuses an unknown host with its fingerprint, then accepts and records it on first use when asked', async () => {
    // Given a server whose key is not recorded
    const sshd = await aRunningSshd();
    const options = await optionsFor(sshd);
    // When connecting without first-use acceptance
    const refused = await rejectionOf(connectSsh(options));
    // Then it is refused with the fingerprint and a hint, and nothing is recorded
    expect(refused).toBeInstanceOf(RefusedError);
    expect((refused as RefusedError).code).toBe(ErrorCodes.SSH_HOST_UNKNOWN);
    expect((refused as RefusedError).message).toContain(sshd.hostKeyFingerprint);
    expect((refused as RefusedError).hint).toContain(options.knownHostsFile);
    await expect(stat(options.knownHostsFile)).rejects.toThrow();
    // When connecting with first-use acceptance
    const first = track(await connectSsh({ ...options, acceptNewHostKey: true }));
    // Then it connects and the key is recorded as [127.0.0.1]:port, which OpenSSH's ssh-keygen finds
    expect((await first.exec('echo hi')).stdout).toBe('hi');
    const recorded = await readFile(options.knownHostsFile, 'utf8');
    expect(recorded).toBe(`[127.0.0.1]:${sshd.port} ssh-ed25519 ${sshd.hostKey.toString('base64')}\n`);
    const found = await runLocal('ssh-keygen', [
      '-F',
      `[127.0.0.1]:${sshd.port}`,
      '-f',
      options.knownHostsFile,
    ]);
    expect(found.stdout).toContain(sshd.hostKey.toString('base64'));
    // And later connections need no acceptance and record nothing more
    const again = track(await connectSsh(options));
    expect((await again.exec('echo again')).stdout).toBe('again');
    expect(await readFile(options.knownHostsFile, 'utf8')).toBe(recorded);
  });

  it('refuses a changed host key, even with first-use acceptance, naming the host and both fingerprints', async () => {
    // Given a recorded server that comes back with a new host key on the same port
    const sshd = await aRunningSshd();
    const options = await optionsFor(sshd);
    await recordHostKey(options.knownHostsFile, sshd.host, sshd.port, sshd.hostKey);
    const before = await readFile(options.knownHostsFile, 'utf8');
    const restarted = await sshd.restart({ newHostKey: true });
    expect(restarted.hostKeyFingerprint).not.toBe(sshd.hostKeyFingerprint);
    // When connecting, with and without acceptance
    for (const acceptNewHostKey of [false, true]) {
      const error = await rejectionOf(connectSsh({ ...options, acceptNewHostKey }));
      // Then it is refused as a possible man-in-the-middle, and the record is unchanged
      expect(error).toBeInstanceOf(RefusedError);
      const refused = error as RefusedError;
      expect(refused.code).toBe(ErrorCodes.SSH_HOST_KEY_CHANGED);
      expect(refused.message).toContain(`127.0.0.1:${sshd.port}`);
      expect(refused.message).toMatch(/man-in-the-middle/);
      expect(refused.describe()).toContain(`presented: ${restarted.hostKeyFingerprint}`);
      expect(refused.describe()).toContain(`recorded: ssh-ed25519 ${sshd.hostKeyFingerprint}`);
    }
    expect(await readFile(options.knownHostsFile, 'utf8')).toBe(before);
  });

  it('reports a refused connection as a RemoteError naming the host', async () => {
    // Given a port nobody listens on
    const sshd = await aRunningSshd();
    const port = await freePort();
    // When connecting to it
    const error = await rejectionOf(connectSsh(await optionsFor(sshd, { port })));
    // Then the error names host and port
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).host).toBe(`127.0.0.1:${port}`);
    expect((error as RemoteError).message).toContain('connection refused');
  });

  it('gives up connecting to a server that never answers within the timeout', async () => {
    // Given a TCP server that accepts but never speaks SSH
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const port = (silent.address() as { port: number }).port;
    const sshd = await aRunningSshd();
    const started = Date.now();
    // When connecting with a 500 ms limit
    const error = await rejectionOf(connectSsh(await optionsFor(sshd, { port, timeoutMs: 500 })));
    // Then it fails soon with a RemoteError saying so
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toContain('no SSH handshake within 500 ms');
  });

  it('stops a command at its timeout, and the remote process with it', async () => {
    // Given a command that records its PID and would run for 30 s
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    const pidFile = join(sshd.root, 'pid');
    const started = Date.now();
    // When it is given 3 s (time enough to start even on a loaded machine)
    const error = await rejectionOf(
      machine.exec(`echo $$ > ${pidFile}; sleep 30; echo never`, { timeoutMs: 3_000 }),
    );
    // Then the call fails in time with a RemoteError and the remote process group is gone
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toContain('no result within 3000 ms');
    expect(await groupGone(Number(await waitForFile(pidFile)))).toBe(true);
    // And the connection still works
    expect((await machine.exec('echo still-here')).stdout).toBe('still-here');
  });

  it('stops a command when the signal aborts, with an InterruptedError', async () => {
    // Given a long command
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    const pidFile = join(sshd.root, 'pid');
    const controller = new AbortController();
    const running = machine.exec(`echo $$ > ${pidFile}; sleep 30`, { signal: controller.signal });
    // When the signal aborts it, once it runs
    await waitForFile(pidFile);
    controller.abort();
    const error = await rejectionOf(running);
    // Then it is interrupted and the remote process group is gone
    expect(error).toBeInstanceOf(InterruptedError);
    expect(await groupGone(Number(await waitForFile(pidFile)))).toBe(true);
    // And an already aborted signal stops connecting before it starts
    const refused = await rejectionOf(connectSsh(await optionsFor(sshd, { signal: AbortSignal.abort() })));
    expect(refused).toBeInstanceOf(InterruptedError);
  });

  it('uploads files with their modes kept exactly, creating folders and replacing old files', async () => {
    // Given a machine with an existing, world-readable file where a key goes
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    const keyPath = join(sshd.root, 'opt/peruri/node-1/key');
    await mkdir(join(sshd.root, 'opt/peruri/node-1'), { recursive: true });
    await writeFile(keyPath, 'old key');
    await chmod(keyPath, 0o644);
    // When a key (0600), a config (0644) and a script (0750) are uploaded
    await machine.upload(
      new Map([
        [keyPath, { content: 'new key', mode: 0o600 }],
        [join(sshd.root, 'opt/peruri/node-1/config.toml'), { content: 'data-path="/data"\n', mode: 0o644 }],
        [join(sshd.root, 'opt/peruri/bin/run.sh'), { content: Buffer.from('#!/bin/sh\n'), mode: 0o750 }],
      ]),
    );
    // Then contents and modes are exactly as given, and no temporary file is left
    const tree = await snapshotTree(join(sshd.root, 'opt/peruri'));
    expect(tree).toEqual({
      'node-1/key': { mode: 0o600, content: 'new key' },
      'node-1/config.toml': { mode: 0o644, content: 'data-path="/data"\n' },
      'bin/run.sh': { mode: 0o750, content: '#!/bin/sh\n' },
    });
    // And they read back through the machine
    expect((await machine.readFile(keyPath)).toString()).toBe('new key');
    expect(await machine.exists(keyPath)).toBe(true);
    expect(await machine.exists(join(sshd.root, 'opt/peruri/absent'))).toBe(false);
    const missing = await rejectionOf(machine.readFile(join(sshd.root, 'absent')));
    expect(missing).toBeInstanceOf(RemoteError);
    expect((missing as RemoteError).message).toContain(`read ${join(sshd.root, 'absent')}`);
  });

  it('refuses relative or climbing paths', async () => {
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    await expect(machine.upload(new Map([['etc/x', { content: '', mode: 0o644 }]]))).rejects.toBeInstanceOf(
      InputError,
    );
    await expect(
      machine.uploadDirectoryAtomically(
        new Map([['../x', { content: '', mode: 0o644 }]]),
        join(sshd.root, 'd'),
      ),
    ).rejects.toBeInstanceOf(InputError);
  });

  it('swaps a folder atomically, keeping the previous version, and restores it on request', async () => {
    // Given a machine with no node folder yet
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    const dir = join(sshd.root, 'opt/peruri/node-1');
    // When version 1 and then version 2 are uploaded
    const first = await machine.uploadDirectoryAtomically(
      new Map([
        ['config.toml', { content: 'v1', mode: 0o644 }],
        ['keys/key', { content: 'key-1', mode: 0o600 }],
        ['only-in-v1.txt', { content: 'old', mode: 0o644 }],
      ]),
      dir,
    );
    const second = await machine.uploadDirectoryAtomically(
      new Map([
        ['config.toml', { content: 'v2', mode: 0o644 }],
        ['keys/key', { content: 'key-2', mode: 0o600 }],
      ]),
      dir,
    );
    // Then the folder holds exactly version 2, version 1 is kept as .previous, and no staging is left
    expect(first).toEqual({ dir, previous: undefined });
    expect(second).toEqual({ dir, previous: `${dir}.previous` });
    expect(await snapshotTree(dir)).toEqual({
      'config.toml': { mode: 0o644, content: 'v2' },
      'keys/key': { mode: 0o600, content: 'key-2' },
    });
    expect((await snapshotTree(`${dir}.previous`))['config.toml']?.content).toBe('v1');
    expect((await readdir(join(sshd.root, 'opt/peruri'))).sort()).toEqual(['node-1', 'node-1.previous']);
    // When the previous version is restored
    await machine.restorePreviousDirectory(dir);
    // Then version 1 is back and version 2 became .previous
    expect((await snapshotTree(dir))['only-in-v1.txt']?.content).toBe('old');
    expect((await snapshotTree(`${dir}.previous`))['config.toml']?.content).toBe('v2');
    // When version 3 is uploaded over the restored version 1
    await machine.uploadDirectoryAtomically(new Map([['config.toml', { content: 'v3', mode: 0o644 }]]), dir);
    // Then version 1 is the one kept, version 2 is gone, and nothing else is left beside them
    expect((await snapshotTree(`${dir}.previous`))['config.toml']?.content).toBe('v1');
    expect((await readdir(join(sshd.root, 'opt/peruri'))).sort()).toEqual(['node-1', 'node-1.previous']);
    // And restoring where nothing was kept is refused
    await expect(machine.restorePreviousDirectory(join(sshd.root, 'none'))).rejects.toBeInstanceOf(
      RefusedError,
    );
  });

  it('leaves the current folder untouched and removes the staging folder when an upload fails', async () => {
    // Given a machine with version 1 in place
    const sshd = await aRunningSshd();
    const machine = await aConnection(sshd);
    const dir = join(sshd.root, 'opt/peruri/node-1');
    await machine.uploadDirectoryAtomically(new Map([['config.toml', { content: 'v1', mode: 0o644 }]]), dir);
    const before = await snapshotTree(join(sshd.root, 'opt/peruri'));
    // When version 2 cannot be written (a file where a folder must go)
    const error = await rejectionOf(
      machine.uploadDirectoryAtomically(
        new Map([
          ['data', { content: 'a file', mode: 0o644 }],
          ['data/inside', { content: 'cannot be', mode: 0o644 }],
        ]),
        dir,
      ),
    );
    // Then the upload fails with a RemoteError naming the step, and nothing else changed
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toContain('.staging-');
    expect(await snapshotTree(join(sshd.root, 'opt/peruri'))).toEqual(before);
    expect(await readdir(join(sshd.root, 'opt/peruri'))).toEqual(['node-1']);
  });
});

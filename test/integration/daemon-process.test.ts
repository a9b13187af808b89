import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-runners.js';
import { aTempDir } from '../support/temp-dir.js';

// Runs the built CLI (`npm test` builds first): what the service machine's unit runs.

interface Workspace {
  config: string;
  env: Record<string, string>;
  jwtSecret: string;
}

/** A workspace of the built-in local example whose adapter listens on any free port. */
async function aWorkspace(): Promise<Workspace> {
  const dir = join(await aTempDir('peruri-adapter-'), 'ws');
  const init = await runCli(['init', '--example', 'local', '--dir', dir, '--json']);
  expect(init.exitCode).toBe(0);
  const config = join(dir, 'service/adapter.yaml');
  const text = await readFile(config, 'utf8');
  expect(text).toContain('port: 8080');
  await writeFile(
    config,
    text.replace('port: 8080', 'port: 0').replace('shutdownTimeoutMs: 10000', 'shutdownTimeoutMs: 3000'),
  );
  const jwtSecret = randomBytes(32).toString('base64url');
  return {
    config,
    jwtSecret,
    env: {
      PERURI_CHAIN_KEYSTORE_PASSWORD: (
        await readFile(join(dir, 'secrets/dev-keystore-password'), 'utf8')
      ).trim(),
      PERURI_CHAIN_ADAPTER_JWT_SECRET: jwtSecret,
    },
  };
}

function start(workspace: Workspace): Promise<DaemonProcess> {
  return startDaemonProcess(workspace.config, workspace.env);
}

function aToken(workspace: Workspace): Promise<string> {
  return new SignJWT({ sub: 'php-backend', aud: 'peruri-local-adapter' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(workspace.jwtSecret));
}

describe('peruri-chain adapter start', () => {
  it('serves with the config init wrote, exits 0 on SIGTERM, and a restart sees the earlier activity', async () => {
    // Given a fresh local workspace and the adapter started from its config
    const workspace = await aWorkspace();
    const first = await start(workspace);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = await aToken(workspace);
    // When an activity is posted with a JWT
    const accepted = await fetch(`${first.url}/activity/track`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': 'k-1',
      },
      body: JSON.stringify({
        userId: 'user-1',
        type: 'login',
        occurredAt: '2026-11-24T10:00:00Z',
        points: 5,
      }),
    });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    // And the daemon gets SIGTERM
    const stoppedAt = Date.now();
    first.process.kill('SIGTERM');
    const exit = await first.process;
    // Then it exits 0 well within its shutdown limit, having printed exactly one JSON document
    expect(exit.exitCode).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(3_000);
    const stdout = String(exit.stdout).trim();
    expect(JSON.parse(stdout)).toEqual({
      status: 0,
      result: { url: first.url, network: 'peruri-local' },
      warnings: [],
    });
    // And its JSON log on stderr tells the story without a secret in it
    const log = String(exit.stderr);
    const messages = log
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(
      expect.arrayContaining(['starting', 'store open', 'listening', 'closing the store', 'stopped']),
    );
    for (const secret of [token, workspace.jwtSecret, workspace.env.PERURI_CHAIN_KEYSTORE_PASSWORD!]) {
      expect(log).not.toContain(secret);
    }

    // When it is started again on the same database
    const second = await start(workspace);
    const found = await fetch(`${second.url}/activity/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    // Then the activity accepted before the restart is there, still queued
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ id, kind: 'activity', status: 'queued' });
    second.process.kill('SIGINT');
    expect((await second.process).exitCode).toBe(0);
  });

  it('loses no accepted activity when killed with SIGKILL right after answering', async () => {
    // Given a running adapter
    const workspace = await aWorkspace();
    const first = await start(workspace);
    const token = await aToken(workspace);
    // When 50 activities are accepted at once and the process is killed the moment the last 202 is in
    const accepted = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const response = await fetch(`${first.url}/activity/track`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'idempotency-key': `kill-${i}`,
          },
          body: JSON.stringify({
            userId: `user-${i % 5}`,
            type: 'login',
            occurredAt: '2026-11-24T10:00:00Z',
          }),
        });
        expect(response.status).toBe(202);
        return ((await response.json()) as { id: string }).id;
      }),
    );
    first.process.kill('SIGKILL');
    expect((await first.process).signal).toBe('SIGKILL');
    // Then after a restart every one of them is there
    const second = await start(workspace);
    const statuses = await Promise.all(
      accepted.map(
        async (id) =>
          (await fetch(`${second.url}/activity/${id}`, { headers: { authorization: `Bearer ${token}` } }))
            .status,
      ),
    );
    expect(statuses).toEqual(Array(50).fill(200));
    second.process.kill('SIGTERM');
    expect((await second.process).exitCode).toBe(0);
  });

  it('refuses a configuration whose secrets are missing, naming each, with exit code 3', async () => {
    const workspace = await aWorkspace();
    const result = await execa('node', [CLI, 'adapter', 'start', '--config', workspace.config, '--json'], {
      reject: false,
      env: { CI: '', PERURI_CHAIN_KEYSTORE_PASSWORD: '', PERURI_CHAIN_ADAPTER_JWT_SECRET: '' },
      extendEnv: true,
    });
    expect(result.exitCode).toBe(3);
    const envelope = JSON.parse(String(result.stdout)) as { error: { code: string; details: string[] } };
    expect(envelope.error.code).toBe('PC_SECRET_MISSING');
    expect(envelope.error.details).toEqual([
      'auth.jwt secret: the environment variable PERURI_CHAIN_ADAPTER_JWT_SECRET is not set',
      'signer keystore password: the environment variable PERURI_CHAIN_KEYSTORE_PASSWORD is not set',
      'wallets master keystore password: the environment variable PERURI_CHAIN_KEYSTORE_PASSWORD is not set',
    ]);
  });
});

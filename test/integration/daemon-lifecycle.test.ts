import { randomBytes } from 'node:crypto';
import { request, Agent } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it, onTestFinished } from 'vitest';
import { initWorkspace } from '../../src/core/workspace/init.js';
import { startDaemon, type StartDaemonResult } from '../../src/daemon/main.js';
import { runDaemonInProcess } from '../support/daemon-runners.js';
import { aTempDir } from '../support/temp-dir.js';

/** A TCP server that accepts connections and never answers: an RPC node that hangs. */
async function aSilentNode(): Promise<number> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  );
  return (server.address() as { port: number }).port;
}

interface Started {
  config: string;
  env: Record<string, string>;
  url: string;
  token: string;
  controller: AbortController;
  done: Promise<StartDaemonResult>;
  logs: string[];
}

/** The daemon of a fresh local workspace, in this process, whose chain never answers. */
async function aRunningDaemon(shutdownTimeoutMs: number): Promise<Started> {
  const dir = join(await aTempDir('peruri-lifecycle-'), 'ws');
  await initWorkspace({ dir, spec: { example: 'local' }, password: undefined, force: false });
  const config = join(dir, 'service/adapter.yaml');
  const silent = await aSilentNode();
  await writeFile(
    config,
    (await readFile(config, 'utf8'))
      .replace('port: 8080', 'port: 0')
      .replace(/rpcUrl: .*/, `rpcUrl: http://127.0.0.1:${silent}`)
      .replace('shutdownTimeoutMs: 10000', `shutdownTimeoutMs: ${shutdownTimeoutMs}`),
  );
  const jwtSecret = randomBytes(32).toString('hex');
  const env = {
    PERURI_CHAIN_KEYSTORE_PASSWORD: (
      await readFile(join(dir, 'secrets/dev-keystore-password'), 'utf8')
    ).trim(),
    PERURI_CHAIN_ADAPTER_JWT_SECRET: jwtSecret,
  };
  const daemon = await runDaemonInProcess(config, env);
  const token = await new SignJWT({ sub: 'php-backend', aud: 'peruri-local-adapter' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(jwtSecret));
  return {
    config,
    env,
    url: daemon.url,
    token,
    controller: daemon.controller,
    done: daemon.done,
    logs: daemon.logs,
  };
}

function get(
  url: string,
  path: string,
  token: string,
  agent?: Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { authorization: `Bearer ${token}` }, agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('daemon shutdown', () => {
  it('lets a request in flight finish, takes no new connection, then stops cleanly', async () => {
    // Given a running daemon and a readiness request stuck on the silent chain (up to 3 s)
    const daemon = await aRunningDaemon(10_000);
    const inFlight = get(daemon.url, '/ready', daemon.token);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // When shutdown starts
    daemon.controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Then a new connection is refused, while the request in flight still gets its answer
    await expect(get(daemon.url, '/health', daemon.token)).rejects.toThrow(/ECONNREFUSED/);
    const answer = await inFlight;
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'PC_NOT_READY' });
    // And the daemon reports a clean stop, in order: drain, the request's end, the store, stopped
    expect(await daemon.done).toEqual({ url: daemon.url, shutdown: 'clean' });
    const lines = daemon.logs
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; part?: string });
    const messages = lines.filter((line) => line.part !== 'mirror').map((line) => line.msg);
    expect(
      messages.slice(messages.indexOf('shutting down: new requests get 503, requests in flight may finish')),
    ).toEqual([
      'shutting down: new requests get 503, requests in flight may finish',
      'request refused',
      'request completed',
      'closing the store',
      'stopped',
    ]);
    // the mirror worker (waiting for the silent chain) stopped before the store closed
    const all = lines.map((line) => line.msg);
    expect(all.indexOf('mirror worker stopped')).toBeGreaterThan(-1);
    expect(all.indexOf('mirror worker stopped')).toBeLessThan(all.indexOf('closing the store'));
  });

  it('answers 503 on a kept-alive connection while draining', async () => {
    // Given two kept-alive connections, one with a request stuck in flight on it
    const daemon = await aRunningDaemon(10_000);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onTestFinished(() => agent.destroy());
    expect((await get(daemon.url, '/health', daemon.token, agent)).status).toBe(200);
    const other = new Agent({ keepAlive: true, maxSockets: 1 });
    onTestFinished(() => other.destroy());
    expect((await get(daemon.url, '/health', daemon.token, other)).status).toBe(200);
    const inFlight = get(daemon.url, '/ready', daemon.token, agent);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // When shutdown starts and the idle kept-alive connection is used again
    daemon.controller.abort();
    const late = await get(daemon.url, '/health', daemon.token, other).catch((error: Error) => error);
    // Then that request is refused: 503 in the API's format, or the idle connection was closed
    if (late instanceof Error) expect(late.message).toMatch(/ECONNRESET|socket hang up|ECONNREFUSED/);
    else
      expect([late.status, (JSON.parse(late.body) as { code: string }).code]).toEqual([
        503,
        'PC_SHUTTING_DOWN',
      ]);
    expect((await inFlight).status).toBe(503);
    expect((await daemon.done).shutdown).toBe('clean');
  });

  it('cuts requests still in flight at the shutdown limit and still stops', async () => {
    // Given a daemon allowed 300 ms to shut down and a request that needs 3 s
    const daemon = await aRunningDaemon(300);
    const inFlight = get(daemon.url, '/ready', daemon.token).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // When shutdown starts
    const started = Date.now();
    daemon.controller.abort();
    // Then it stops at the limit, reporting the timeout, and the request lost its connection
    expect((await daemon.done).shutdown).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await inFlight).toBeInstanceOf(Error);
  });

  it('refuses to start on a port already in use, with PC_LISTEN_FAILED, and closes what it opened', async () => {
    // Given a running daemon, and a copy of its configuration naming the port it took
    const daemon = await aRunningDaemon(10_000);
    const port = new URL(daemon.url).port;
    const copy = join(daemon.config, '..', 'adapter-copy.yaml');
    await writeFile(copy, (await readFile(daemon.config, 'utf8')).replace('port: 0', `port: ${port}`));
    // When a second daemon starts from the copy
    const second = startDaemon({ configFile: copy, env: daemon.env, signal: new AbortController().signal });
    // Then it refuses, and the first one still serves
    await expect(second).rejects.toMatchObject({ code: 'PC_LISTEN_FAILED', kind: 'refused' });
    expect((await get(daemon.url, '/health', daemon.token)).status).toBe(200);
  });
});

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { expect, it, onTestFinished } from 'vitest';
import { initWorkspace } from '../../src/core/workspace/init.js';
import { ErrorCodes, RemoteError } from '../../src/core/errors.js';
import { AmqpIntake } from '../../src/daemon/intake/amqp-intake.js';
import type { ActivityService } from '../../src/daemon/services/activities.js';
import { startAnvil } from '../support/anvil.js';
import { runDaemonInProcess, type InProcessDaemon } from '../support/daemon-runners.js';
import { describeRequiring } from '../support/requirement.js';
import { aTempDir } from '../support/temp-dir.js';

/**
 * The RabbitMQ intake against the machine's RabbitMQ (ENVIRONMENT.md: 127.0.0.1:5672, guest/guest;
 * PERURI_TEST_AMQP_URL and PERURI_TEST_AMQP_PASSWORD point elsewhere). Each test uses queues and
 * exchanges of its own, deleted afterwards.
 */
const AMQP_URL = process.env.PERURI_TEST_AMQP_URL ?? 'amqp://guest@127.0.0.1:5672/';
const AMQP_PASSWORD = process.env.PERURI_TEST_AMQP_PASSWORD ?? 'guest';
const exec = promisify(execFile);

async function brokerMissing(): Promise<string | undefined> {
  const url = new URL(AMQP_URL);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: url.hostname, port: Number(url.port || 5672) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    const fail = (why: string) => {
      socket.destroy();
      resolve(`no RabbitMQ at ${url.host} (${why}); start it with \`rabbitmq-server -detached\``);
    };
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (error) => fail(error.message));
  });
}

/** The test's own broker connection, for declaring, publishing and reading queues. */
async function aBrokerClient(): Promise<{ channel: Channel; names: (kind: string) => string }> {
  const url = new URL(AMQP_URL);
  const connection: ChannelModel = await connect({
    hostname: url.hostname,
    port: Number(url.port || 5672),
    username: decodeURIComponent(url.username) || 'guest',
    password: AMQP_PASSWORD,
    vhost: decodeURIComponent(url.pathname.slice(1)) || '/',
  });
  const channel = await connection.createChannel();
  const created: { queues: string[]; exchanges: string[] } = { queues: [], exchanges: [] };
  const suffix = randomBytes(4).toString('hex');
  onTestFinished(async () => {
    for (const queue of created.queues) await channel.deleteQueue(queue).catch(() => undefined);
    for (const exchange of created.exchanges) await channel.deleteExchange(exchange).catch(() => undefined);
    await connection.close().catch(() => undefined);
  });
  return {
    channel,
    names: (kind) => {
      const name = `peruri-test.${kind}.${suffix}`;
      (kind.endsWith('exchange') ? created.exchanges : created.queues).push(name);
      return name;
    },
  };
}

interface RunningDaemon extends InProcessDaemon {
  token: string;
  dbPath: string;
}

/** A local workspace's adapter in this process, taking activities from `queue`. */
async function aDaemonOn(
  dir: string,
  amqp: Record<string, unknown>,
  rpcUrl = 'http://127.0.0.1:9',
): Promise<RunningDaemon> {
  const config = join(dir, 'service/adapter.yaml');
  let text = await readFile(config, 'utf8');
  if (!text.includes('amqp:')) {
    const section = Object.entries({ url: AMQP_URL, passwordEnv: 'TEST_AMQP_PASSWORD', ...amqp })
      .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`)
      .join('\n');
    // Without a chain (the default) the worker waits, which is not what these tests look at.
    text = `${text.replace('port: 8080', 'port: 0').replace(/rpcUrl: .*/, `rpcUrl: ${rpcUrl}`)}\namqp:\n${section}\n`;
    await writeFile(config, text);
  }
  const jwtSecret = randomBytes(32).toString('hex');
  const daemon = await runDaemonInProcess(config, {
    PERURI_CHAIN_KEYSTORE_PASSWORD: (
      await readFile(join(dir, 'secrets/dev-keystore-password'), 'utf8')
    ).trim(),
    PERURI_CHAIN_ADAPTER_JWT_SECRET: jwtSecret,
    TEST_AMQP_PASSWORD: AMQP_PASSWORD,
  });
  const token = await new SignJWT({ sub: 'php-backend', aud: 'peruri-local-adapter' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(jwtSecret));
  return { ...daemon, token, dbPath: join(dir, 'service/adapter.db') };
}

async function aWorkspace(): Promise<string> {
  const dir = join(await aTempDir('peruri-amqp-'), 'ws');
  await initWorkspace({ dir, spec: { example: 'local' }, password: undefined, force: false });
  return dir;
}

function anActivity(user: number, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      userId: `user-${user}`,
      type: 'quiz.completed',
      occurredAt: '2026-11-24T10:15:00+07:00',
      payload: { note: 'payload-marker-do-not-log' },
      points: '5',
      ...extra,
    }),
  );
}

function activityKeys(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (
      db.prepare('SELECT idempotency_key FROM activities ORDER BY idempotency_key').all() as {
        idempotency_key: string;
      }[]
    ).map((row) => row.idempotency_key);
  } finally {
    db.close();
  }
}

async function metricsOf(daemon: RunningDaemon): Promise<string> {
  return (await fetch(`${daemon.url}/metrics`)).text();
}

/** Whether the daemon's intake is connected and consuming, by its gauge. */
async function consuming(daemon: RunningDaemon): Promise<boolean> {
  return /^peruri_adapter_amqp_connected 1$/m.test(await metricsOf(daemon));
}

/** Deliveries the daemon settled so far, whatever the outcome. */
async function handled(daemon: RunningDaemon): Promise<number> {
  const counts = [
    ...(await metricsOf(daemon)).matchAll(/^peruri_adapter_amqp_messages_total\{[^}]*\} (\d+)$/gm),
  ];
  return counts.reduce((sum, match) => sum + Number(match[1]), 0);
}

async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function queueDrained(channel: Channel, queue: string): Promise<boolean> {
  return (await channel.checkQueue(queue)).messageCount === 0;
}

describeRequiring('RabbitMQ intake', 'RabbitMQ', await brokerMissing(), () => {
  it('stores each message once, acknowledges it after, and dead-letters what can never be accepted', async () => {
    // Given a daemon consuming a queue whose rejects go to a dead-letter queue
    const { channel, names } = await aBrokerClient();
    const queue = names('activities');
    const rejected = names('rejected-exchange');
    const deadLetters = names('rejected');
    await channel.assertExchange(rejected, 'fanout', { durable: false, autoDelete: false });
    await channel.assertQueue(deadLetters, { durable: false });
    await channel.bindQueue(deadLetters, rejected, '');
    const chain = await startAnvil({ chainId: 1337 });
    onTestFinished(() => chain.stop());
    const daemon = await aDaemonOn(
      await aWorkspace(),
      { queue, deadLetterExchange: rejected, prefetch: 16 },
      chain.url,
    );
    await until(async () => consuming(daemon), 'consuming');

    // When 40 activities are published, 10 of them twice, plus a reused key with another body,
    // a body that is not JSON, one that misses its user, and one without a key
    const send = (content: Buffer, messageId?: string) =>
      channel.sendToQueue(queue, content, { persistent: true, ...(messageId ? { messageId } : {}) });
    for (let i = 0; i < 40; i += 1) send(anActivity(i % 7), `key-${String(i).padStart(2, '0')}`);
    for (let i = 0; i < 10; i += 1) send(anActivity(i % 7), `key-${String(i).padStart(2, '0')}`);
    send(anActivity(0, { points: '6' }), 'key-00');
    send(Buffer.from('{"userId": "user-1", '), 'broken-json');
    send(Buffer.from(JSON.stringify({ type: 'login', occurredAt: '2026-11-24T10:15:00Z' })), 'no-user');
    send(anActivity(1));

    // Then every activity is stored once, the queue empties, and the four rejects are dead-lettered
    await until(async () => (await handled(daemon)) === 54, 'all 54 deliveries to be settled');
    await until(async () => (await channel.checkQueue(deadLetters)).messageCount === 4, 'the dead letters');
    expect(await queueDrained(channel, queue)).toBe(true);
    expect(activityKeys(daemon.dbPath)).toEqual(
      Array.from({ length: 40 }, (_, i) => `key-${String(i).padStart(2, '0')}`),
    );
    const metrics = await metricsOf(daemon);
    expect(metrics).toContain('peruri_adapter_amqp_messages_total{outcome="created"} 40');
    expect(metrics).toContain('peruri_adapter_amqp_messages_total{outcome="replayed"} 10');
    expect(metrics).toContain('peruri_adapter_amqp_messages_total{outcome="conflict"} 1');
    expect(metrics).toContain('peruri_adapter_amqp_messages_total{outcome="invalid"} 3');
    // And readiness shows the intake, the logs say why each reject was made, never a body
    const ready = await fetch(`${daemon.url}/ready`, {
      headers: { authorization: `Bearer ${daemon.token}` },
    });
    expect(((await ready.json()) as { amqp?: unknown }).amqp).toEqual({ ok: true, queue });
    const log = daemon.logs.join('');
    expect(log).toContain('body is not JSON');
    expect(log).toContain("must have required property 'userId'");
    expect(log).toContain('no usable idempotency key');
    expect(log).not.toContain('payload-marker-do-not-log');
    expect(log).not.toContain(AMQP_PASSWORD === 'guest' ? 'password' : AMQP_PASSWORD);
    // And the audit trail names the queue as the actor
    const db = new Database(daemon.dbPath, { readonly: true });
    const actors = db.prepare("SELECT DISTINCT actor FROM audit_log WHERE action = 'activity.track'").all();
    db.close();
    expect(actors).toEqual([{ actor: `amqp:${queue}` }]);
  });

  it('loses nothing and doubles nothing when the daemon stops while consuming and starts again', async () => {
    // Given a daemon consuming a queue that holds 600 activities
    const { channel, names } = await aBrokerClient();
    const queue = names('activities');
    await channel.assertQueue(queue, { durable: true });
    for (let i = 0; i < 600; i += 1) {
      channel.sendToQueue(queue, anActivity(i % 50), { persistent: true, messageId: `restart-${i}` });
    }
    const dir = await aWorkspace();
    const first = await aDaemonOn(dir, { queue, prefetch: 64 });

    // When it is stopped part-way through, and started again
    await until(() => activityKeys(first.dbPath).length >= 50, 'the first activities');
    expect(await first.stop()).toMatchObject({ shutdown: 'clean' });
    const takenBefore = activityKeys(first.dbPath).length;
    const second = await aDaemonOn(dir, { queue, prefetch: 64 });
    await until(() => activityKeys(second.dbPath).length === 600, 'all 600 to be stored', 60_000);
    await until(() => queueDrained(channel, queue), 'the queue to drain');

    // Then each of the 600 is stored, once (the key is unique), and the second run saw the
    // deliveries the first had taken but not acknowledged again, as replays
    expect(takenBefore).toBeLessThan(600);
    expect(new Set(activityKeys(second.dbPath))).toEqual(
      new Set(Array.from({ length: 600 }, (_, i) => `restart-${i}`)),
    );
  });

  it('requeues a message its database failed to store, and stores it when the database is back', async () => {
    // Given an intake whose store fails its first two attempts, as a database outage would
    const { channel, names } = await aBrokerClient();
    const queue = names('activities');
    const attempts: string[] = [];
    const activities = {
      track: (input: { idempotencyKey: string }) => {
        attempts.push(input.idempotencyKey);
        if (attempts.length <= 2) {
          return Promise.reject(new RemoteError(ErrorCodes.DATABASE_FAILED, 'database unreachable'));
        }
        return Promise.resolve({ outcome: 'created' });
      },
    } as unknown as ActivityService;
    const registry = new Registry();
    const intake = new AmqpIntake({
      config: { url: AMQP_URL, queue, declare: true, prefetch: 4, reconnectDelayMs: 100 },
      password: AMQP_PASSWORD,
      activities,
      bodyLimitBytes: 65_536,
      logger: pino({ level: 'silent' }),
      registry,
    });
    intake.start();
    onTestFinished(() => intake.stop());
    await until(() => intake.status().ok, 'consuming');

    // When one activity is published
    channel.sendToQueue(queue, anActivity(1), { persistent: true, messageId: 'outage-1' });

    // Then it is tried until stored, and only then leaves the queue
    await until(() => attempts.length === 3, 'the third attempt');
    await until(() => queueDrained(channel, queue), 'the queue to drain');
    expect(attempts).toEqual(['outage-1', 'outage-1', 'outage-1']);
    const counts = await registry.getSingleMetricAsString('peruri_adapter_amqp_messages_total');
    expect(counts).toContain('peruri_adapter_amqp_messages_total{outcome="retried"} 2');
    expect(counts).toContain('peruri_adapter_amqp_messages_total{outcome="created"} 1');
  });

  it('reconnects after the broker closes its connection, and goes on consuming', async () => {
    // Given a consuming daemon, and rabbitmqctl to close its connection as a broker restart would
    const rabbitmqctl = await exec('rabbitmqctl', ['--version']).then(
      () => 'rabbitmqctl',
      () => undefined,
    );
    if (!rabbitmqctl) {
      if (process.env.CI === 'true') expect.fail('rabbitmqctl is needed to close the connection');
      console.warn('Skipping the reconnect check: rabbitmqctl is not on the PATH');
      return;
    }
    const { channel, names } = await aBrokerClient();
    const queue = names('activities');
    const daemon = await aDaemonOn(await aWorkspace(), { queue, reconnectDelayMs: 200 });
    await until(async () => consuming(daemon), 'consuming');

    // When the broker closes the daemon's connection
    const { stdout } = await exec(rabbitmqctl, ['list_connections', '--silent', 'pid', 'client_properties']);
    const ours = stdout.split('\n').filter((line) => line.includes('peruri-chain-adapter'));
    expect(ours.length).toBeGreaterThan(0);
    for (const line of ours) {
      await exec(rabbitmqctl, ['close_connection', line.split('\t')[0]!.trim(), 'test: broker restart']);
    }

    // Then it reports the loss, reconnects, and takes what is published afterwards
    await until(() => daemon.logs.join('').includes('RabbitMQ connection lost'), 'the loss to be logged');
    await until(async () => consuming(daemon), 'reconnection');
    channel.sendToQueue(queue, anActivity(3), { persistent: true, messageId: 'after-reconnect' });
    await until(
      () => activityKeys(daemon.dbPath).includes('after-reconnect'),
      'the activity after reconnecting',
    );
  });
});

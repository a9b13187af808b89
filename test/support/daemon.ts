import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { SignJWT, type JWTPayload } from 'jose';
import { onTestFinished } from 'vitest';
import { buildApp } from '../../src/daemon/app.js';
import { jwtVerifier } from '../../src/daemon/auth.js';
import type { JwtConfig } from '../../src/daemon/config/types.js';
import { createLogger } from '../../src/daemon/logger.js';
import type { DaemonMetrics } from '../../src/daemon/metrics.js';
import type { Lifecycle } from '../../src/daemon/plugins/lifecycle.js';
import { ActivityService } from '../../src/daemon/services/activities.js';
import type { ChainProbe } from '../../src/daemon/services/chain-probe.js';
import { walletMasterFromSeed, type WalletMaster } from '../../src/daemon/services/master-secret.js';
import { WalletService } from '../../src/daemon/services/wallets.js';
import { openStore } from '../../src/daemon/store/open.js';
import type { Store } from '../../src/daemon/store/types.js';
import { aTempDir } from './temp-dir.js';

export const TEST_AUDIENCE = 'test-net-adapter';
export const TEST_SUBJECT = 'php-backend';

export interface TestDaemonOptions {
  chainProbe?: ChainProbe;
  bodyLimitBytes?: number;
  groupCommitMaxDelayMs?: number;
  tls?: { ca: string; cert: string; key: string };
  /** A database file to use (to reopen one); default: a new one in a temp folder. */
  dbPath?: string;
  /** The master seed (default: random). */
  seed?: Uint8Array;
}

/** An app over a real SQLite store in a temp folder, with real services and a known JWT key. */
export interface TestDaemon {
  app: FastifyInstance;
  store: Store;
  dbPath: string;
  master: WalletMaster;
  metrics: DaemonMetrics;
  lifecycle: Lifecycle;
  /** Every JSON log line written so far. */
  logs: string[];
  /** A valid HS256 token (subject php-backend, right audience, 5 minutes), claims overridable. */
  token(claims?: JWTPayload, secret?: Uint8Array): Promise<string>;
  /** Authorization header with a valid token. */
  auth(claims?: JWTPayload): Promise<{ authorization: string }>;
}

/**
 * Builds the adapter app as main would, minus listening, and closes it when the test finishes.
 * @param options - chain probe, limits, TLS, database file
 */
export async function aDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const dbPath = options.dbPath ?? join(await aTempDir('peruri-daemon-'), 'adapter.db');
  const { store } = await openStore({
    url: `sqlite://${dbPath}`,
    groupCommit: { maxDelayMs: options.groupCommitMaxDelayMs ?? 2, maxBatch: 500 },
  });
  const master = walletMasterFromSeed(
    options.seed ? Uint8Array.from(options.seed) : randomBytes(32),
    '0xtest',
  );
  const secret = randomBytes(32);
  const jwt: JwtConfig = {
    algorithms: ['HS256'],
    secretEnv: 'JWT',
    audience: TEST_AUDIENCE,
    clockToleranceSeconds: 5,
  };
  const logs: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    }),
  });
  const wallets = new WalletService(store, master.deriver, 'peruri');
  const lifecycle: Lifecycle = { draining: false };
  const { app, metrics } = buildApp({
    store,
    wallets,
    activities: new ActivityService(store, wallets, master.hasher),
    verifier: jwtVerifier(jwt, { kind: 'secret', secret }),
    chainProbe: options.chainProbe ?? (async () => ({ ok: true, chainId: 4242, blockNumber: 1 })),
    logger,
    bodyLimitBytes: options.bodyLimitBytes ?? 65_536,
    tls: options.tls,
    lifecycle,
  });
  onTestFinished(() => app.close());
  const token = (claims: JWTPayload = {}, key: Uint8Array = secret) =>
    new SignJWT({ sub: TEST_SUBJECT, aud: TEST_AUDIENCE, ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : '5m')
      .sign(key);
  return {
    app,
    store,
    dbPath,
    master,
    metrics,
    lifecycle,
    logs,
    token,
    auth: async (claims) => ({ authorization: `Bearer ${await token(claims)}` }),
  };
}

/** A valid activity body; overrides replace fields. */
export function anActivityBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    userId: 'user-42',
    type: 'quiz.completed',
    occurredAt: '2026-11-24T10:15:00+07:00',
    payload: { quizId: 'q-7', score: 9 },
    points: '25',
    ...overrides,
  };
}

import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { HDNodeWallet } from 'ethers';
import { format } from 'prettier';
import { describe, expect, it, onTestFinished } from 'vitest';
import { rpcChainProbe } from '../../src/daemon/services/chain-probe.js';
import { openStore } from '../../src/daemon/store/open.js';
import { startAnvil } from '../support/anvil.js';
import { aDaemon, anActivityBody, TEST_AUDIENCE, TEST_SUBJECT, type TestDaemon } from '../support/daemon.js';

async function track(daemon: TestDaemon, body: unknown, key: string, headers: Record<string, string> = {}) {
  return daemon.app.inject({
    method: 'POST',
    url: '/activity/track',
    headers: { ...(await daemon.auth()), 'idempotency-key': key, ...headers },
    payload: body as Record<string, unknown>,
  });
}

/** Rows in every table, read through a separate connection to the file. */
function rowsOnDisk(dbPath: string): Record<string, number> {
  const db = new Database(dbPath, { readonly: true });
  try {
    return Object.fromEntries(
      ['wallets', 'activities', 'audit_log'].map((table) => [
        table,
        (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

async function expectStillServing(daemon: TestDaemon): Promise<void> {
  const health = await daemon.app.inject({ method: 'GET', url: '/health' });
  expect(health.json()).toEqual({ status: 'ok' });
}

describe('POST /activity/track', () => {
  it('answers 202 only once the activity is on disk, with its wallet and audit entries', async () => {
    // Given a daemon
    const daemon = await aDaemon();
    // When an activity is posted
    const response = await track(daemon, anActivityBody(), 'key-1');
    // Then it is accepted as queued
    expect(response.statusCode).toBe(202);
    const { id, status } = response.json() as { id: string; status: string };
    expect(status).toBe('queued');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // And another connection to the file sees it at once (committed, not pending)
    expect(rowsOnDisk(daemon.dbPath)).toEqual({ wallets: 1, activities: 1, audit_log: 2 });
    // And after the daemon closes, a reopened store has it, normalised, on the user's wallet
    await daemon.app.close();
    const { store } = await openStore({ url: `sqlite://${daemon.dbPath}` });
    onTestFinished(() => store.close());
    const activity = (await store.getActivity(id))!;
    expect(activity).toMatchObject({
      kind: 'activity',
      userId: 'user-42',
      wallet: daemon.master.deriver.address(0),
      type: 'quiz.completed',
      occurredAt: '2026-11-24T03:15:00.000Z',
      payload: { quizId: 'q-7', score: 9 },
      points: '25',
      badgeId: null,
      status: 'queued',
    });
    expect(activity.activityRef).toMatch(/^0x[0-9a-f]{64}$/);
    expect(activity.detailHash).toMatch(/^0x[0-9a-f]{64}$/);
    // And both state changes were audited, by the token's subject, without the payload
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 2 });
    const db = new Database(daemon.dbPath, { readonly: true });
    const audit = db.prepare('SELECT actor, action, subject, details FROM audit_log ORDER BY seq').all() as {
      actor: string;
      action: string;
      subject: string;
      details: string;
    }[];
    db.close();
    expect(audit.map((entry) => [entry.actor, entry.action])).toEqual([
      [TEST_SUBJECT, 'wallet.create'],
      [TEST_SUBJECT, 'activity.track'],
    ]);
    expect(audit[1]!.subject).toBe(id);
    expect(audit.map((entry) => entry.details).join()).not.toMatch(/quizId|q-7/);
  });

  it('replays the same request with the same answer and refuses the key for another request', async () => {
    // Given an accepted activity
    const daemon = await aDaemon();
    const first = await track(daemon, anActivityBody(), 'key-1');
    // When the same key comes with the same body (keys reordered), then with another body
    const replay = await track(
      daemon,
      { points: '25', payload: { score: 9, quizId: 'q-7' }, ...anActivityBody() },
      'key-1',
    );
    const conflict = await track(daemon, anActivityBody({ points: '26' }), 'key-1');
    const newUserConflict = await track(daemon, anActivityBody({ userId: 'user-new' }), 'key-1');
    // Then the replay is the same 202 answer, marked as a replay
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toEqual(first.json());
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // And the other body is a 409 naming the earlier activity, with nothing more stored
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({
      code: 'PC_IDEMPOTENCY_CONFLICT',
      message: 'This Idempotency-Key was already used for a different request',
      details: [`the key belongs to activity ${(first.json() as { id: string }).id}`],
    });
    // And so is the key under a user not seen before, without creating that user's wallet
    expect(newUserConflict.statusCode).toBe(409);
    expect(rowsOnDisk(daemon.dbPath)).toEqual({ wallets: 1, activities: 1, audit_log: 2 });
    // And the intake counter tells the three outcomes apart
    const metrics = await daemon.metrics.registry.getSingleMetricAsString('peruri_adapter_intake_total');
    expect(metrics).toContain('peruri_adapter_intake_total{kind="activity",outcome="created"} 1');
    expect(metrics).toContain('peruri_adapter_intake_total{kind="activity",outcome="replayed"} 1');
    expect(metrics).toContain('peruri_adapter_intake_total{kind="activity",outcome="conflict"} 2');
  });

  it('keeps 200 concurrent requests, all durable, in fewer commits than requests', async () => {
    // Given a daemon whose writes wait up to 2 ms for company
    const daemon = await aDaemon({ groupCommitMaxDelayMs: 2 });
    const authorization = await daemon.auth();
    // When 200 activities of 20 users are posted at once
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        daemon.app.inject({
          method: 'POST',
          url: '/activity/track',
          headers: { ...authorization, 'idempotency-key': `key-${i}` },
          payload: anActivityBody({ userId: `user-${i % 20}` }),
        }),
      ),
    );
    // Then every one is accepted with its own id and is on disk
    expect(responses.map((response) => response.statusCode)).toEqual(Array(200).fill(202));
    expect(new Set(responses.map((response) => (response.json() as { id: string }).id)).size).toBe(200);
    expect(rowsOnDisk(daemon.dbPath)).toEqual({ wallets: 20, activities: 200, audit_log: 220 });
    // And they shared commits: at least 220 write transactions (more when several requests of a
    // new user race to create its wallet) in far fewer commits, one fsync each
    const { writes, commits } = daemon.store.stats();
    expect(writes).toBeGreaterThanOrEqual(220);
    expect(commits).toBeLessThan(20);
    expect(await daemon.store.verifyAudit()).toMatchObject({ ok: true, entries: 220 });
  });

  it('takes points as number or string and badges with a default amount', async () => {
    const daemon = await aDaemon();
    const response = await track(
      daemon,
      anActivityBody({ points: 9_007_199_254_740_991, badge: { id: '7' }, payload: undefined }),
      'key-1',
    );
    expect(response.statusCode).toBe(202);
    const activity = (await daemon.store.getActivity((response.json() as { id: string }).id))!;
    expect(activity).toMatchObject({
      points: '9007199254740991',
      badgeId: '7',
      badgeAmount: '1',
      payload: null,
    });
  });
});

describe('bad requests: the right status and code, the daemon stays up, nothing is stored', () => {
  const tooBig = { ...anActivityBody(), payload: { blob: 'x'.repeat(70_000) } };
  const cases: {
    name: string;
    request: (
      daemon: TestDaemon,
    ) => Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;
    status: number;
    code: string;
    details?: string[];
    challenge?: RegExp;
  }[] = [
    {
      name: 'malformed JSON',
      request: async (daemon) =>
        daemon.app.inject({
          method: 'POST',
          url: '/activity/track',
          headers: { ...(await daemon.auth()), 'idempotency-key': 'k', 'content-type': 'application/json' },
          payload: '{"userId": "user-42", ',
        }),
      status: 400,
      code: 'PC_REQUEST_INVALID',
      details: [],
    },
    {
      name: 'wrong types',
      request: (daemon) =>
        track(
          daemon,
          {
            userId: 42,
            type: 'x',
            occurredAt: 'yesterday',
            payload: 'text',
            points: -1,
            badge: { id: true },
          },
          'k',
        ),
      status: 400,
      code: 'PC_REQUEST_INVALID',
      details: [
        'body.userId: must be string',
        'body.occurredAt: must match format "date-time"',
        'body.payload: must be object',
        'body.points: must be >= 0',
        'body.badge.id: must be integer or string',
      ],
    },
    {
      name: 'missing fields and unknown ones',
      request: (daemon) => track(daemon, { type: 'login', colour: 'blue' }, 'k'),
      status: 400,
      code: 'PC_REQUEST_INVALID',
      details: ['body.userId: is required', 'body.occurredAt: is required', 'body.colour: is not allowed'],
    },
    {
      name: 'a missing Idempotency-Key',
      request: async (daemon) =>
        daemon.app.inject({
          method: 'POST',
          url: '/activity/track',
          headers: await daemon.auth(),
          payload: anActivityBody(),
        }),
      status: 400,
      code: 'PC_REQUEST_INVALID',
      details: ['headers.idempotency-key: is required'],
    },
    {
      name: 'points beyond uint256',
      request: (daemon) => track(daemon, anActivityBody({ points: '9'.repeat(78) }), 'k'),
      status: 400,
      code: 'PC_REQUEST_INVALID',
      details: ['body.points: must fit in 256 bits'],
    },
    {
      name: 'a day that does not exist',
      request: (daemon) => track(daemon, anActivityBody({ occurredAt: '2026-02-30T10:00:00Z' }), 'k'),
      status: 400,
      code: 'PC_REQUEST_INVALID',
      details: ['body.occurredAt: must match format "date-time"'],
    },
    {
      name: 'an oversized body',
      request: (daemon) => track(daemon, tooBig, 'k'),
      status: 413,
      code: 'PC_BODY_TOO_LARGE',
    },
    {
      name: 'an unsupported media type',
      request: async (daemon) =>
        daemon.app.inject({
          method: 'POST',
          url: '/activity/track',
          headers: { ...(await daemon.auth()), 'idempotency-key': 'k', 'content-type': 'text/plain' },
          payload: 'userId=user-42',
        }),
      status: 415,
      code: 'PC_MEDIA_TYPE_UNSUPPORTED',
    },
    {
      name: 'an unknown route',
      request: async (daemon) =>
        daemon.app.inject({ method: 'GET', url: '/wallets', headers: await daemon.auth() }),
      status: 404,
      code: 'PC_NOT_FOUND',
    },
    {
      name: 'an unknown route without a token (routes stay hidden)',
      request: (daemon) => daemon.app.inject({ method: 'GET', url: '/wallets' }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /^Bearer realm="peruri-chain-adapter"$/,
    },
    {
      name: 'a missing JWT',
      request: (daemon) =>
        daemon.app.inject({
          method: 'POST',
          url: '/activity/track',
          headers: { 'idempotency-key': 'k' },
          payload: anActivityBody(),
        }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /^Bearer realm="peruri-chain-adapter"$/,
    },
    {
      name: 'a JWT signed with another key',
      request: async (daemon) =>
        track(daemon, anActivityBody(), 'k', {
          authorization: `Bearer ${await daemon.token({}, randomBytes(32))}`,
        }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /error="invalid_token", error_description="The token signature does not verify"/,
    },
    {
      name: 'an expired JWT',
      request: async (daemon) =>
        track(daemon, anActivityBody(), 'k', {
          authorization: `Bearer ${await daemon.token({ exp: Math.floor(Date.now() / 1000) - 60 })}`,
        }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /error_description="The token has expired"/,
    },
    {
      name: 'a JWT for another audience',
      request: async (daemon) =>
        track(daemon, anActivityBody(), 'k', {
          authorization: `Bearer ${await daemon.token({ aud: 'another-adapter' })}`,
        }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /error_description="The token is for another audience"/,
    },
    {
      name: 'a JWT not valid yet',
      request: async (daemon) =>
        track(daemon, anActivityBody(), 'k', {
          authorization: `Bearer ${await daemon.token({ nbf: Math.floor(Date.now() / 1000) + 600 })}`,
        }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /error_description="The token is not valid yet"/,
    },
    {
      name: 'a JWT without a subject',
      request: async (daemon) =>
        track(daemon, anActivityBody(), 'k', {
          authorization: `Bearer ${await daemon.token({ sub: undefined })}`,
        }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /error_description="The token's sub claim is missing or not valid"/,
    },
    {
      name: 'an unsigned JWT (alg none)',
      request: (daemon) => {
        const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const unsigned = `${encode({ alg: 'none' })}.${encode({ sub: 'x', aud: TEST_AUDIENCE, exp: 9e9 })}.`;
        return track(daemon, anActivityBody(), 'k', { authorization: `Bearer ${unsigned}` });
      },
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /error="invalid_token"/,
    },
    {
      name: 'a Basic Authorization header',
      request: (daemon) => track(daemon, anActivityBody(), 'k', { authorization: 'Basic dXNlcjpwdw==' }),
      status: 401,
      code: 'PC_UNAUTHORIZED',
      challenge: /error_description="The Authorization header is not 'Bearer <token>'"/,
    },
  ];

  it.each(cases)('$name: $status $code', async ({ request, status, code, details, challenge }) => {
    // Given a daemon
    const daemon = await aDaemon();
    // When the bad request comes
    const response = await request(daemon);
    // Then it gets the status and a JSON error with the code (and each failing path)
    expect(response.statusCode).toBe(status);
    const body = JSON.parse(response.body) as { code: string; message: string; details: string[] };
    expect(body.code).toBe(code);
    expect(typeof body.message).toBe('string');
    if (details) expect(body.details).toEqual(details);
    if (challenge) expect(String(response.headers['www-authenticate'])).toMatch(challenge);
    else expect(response.headers['www-authenticate']).toBeUndefined();
    // And the daemon still serves, with nothing stored
    await expectStillServing(daemon);
    expect(rowsOnDisk(daemon.dbPath)).toEqual({ wallets: 0, activities: 0, audit_log: 0 });
  });

  it('answers 503 while draining, and closes the connection', async () => {
    const daemon = await aDaemon();
    daemon.lifecycle.draining = true;
    const response = await track(daemon, anActivityBody(), 'k');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'PC_SHUTTING_DOWN' });
    expect(response.headers.connection).toBe('close');
    expect(rowsOnDisk(daemon.dbPath)).toEqual({ wallets: 0, activities: 0, audit_log: 0 });
  });

  it('answers a failing store with a 500 that reveals nothing, and logs the cause', async () => {
    // Given a daemon whose store was closed under it
    const daemon = await aDaemon();
    await daemon.store.close();
    // When a request needs the store
    const response = await track(daemon, anActivityBody(), 'k');
    // Then the answer is a bare internal error and the log says why
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      code: 'PC_INTERNAL',
      message: 'Internal error; it has been logged',
      details: [],
    });
    const failure = daemon.logs.map((line) => JSON.parse(line) as { msg: string; err?: { message: string } });
    expect(failure.find((line) => line.msg === 'request failed')?.err?.message).toMatch(/not open|closed/);
  });
});

describe('GET /activity/:id', () => {
  it("reports an activity's status and on-chain evidence, and 404 for an unknown id", async () => {
    const daemon = await aDaemon();
    const { id } = (await track(daemon, anActivityBody(), 'key-1')).json() as { id: string };
    const headers = await daemon.auth();
    const found = await daemon.app.inject({ method: 'GET', url: `/activity/${id}`, headers });
    const stored = (await daemon.store.getActivity(id))!;
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual({
      id,
      kind: 'activity',
      status: 'queued',
      txHashes: [],
      blockNumber: null,
      merkleRoot: null,
      leaf: null,
      proof: null,
      activityRef: stored.activityRef,
      detailHash: stored.detailHash,
    });
    const missing = await daemon.app.inject({ method: 'GET', url: '/activity/01a2-unknown', headers });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      code: 'PC_NOT_FOUND',
      message: 'No activity 01a2-unknown',
      details: [],
    });
  });
});

describe('GET /wallet/status', () => {
  it('creates a wallet on first sight at the next BIP-44 index of the master seed', async () => {
    // Given a daemon with a known master seed
    const seed = randomBytes(32);
    const daemon = await aDaemon({ seed });
    const headers = await daemon.auth();
    const status = (userId: string) =>
      daemon.app.inject({
        method: 'GET',
        url: `/wallet/status?userId=${encodeURIComponent(userId)}`,
        headers,
      });
    // When two users are looked up, the first twice
    const alice = await status('alice@example.test');
    const again = await status('alice@example.test');
    const bob = await status('bob');
    // Then alice's wallet is m/44'/60'/0'/0/0 of the seed, bob's /1, with DIDs that hold no name
    const expected = (index: number) =>
      HDNodeWallet.fromSeed(seed).derivePath(`m/44'/60'/0'/0/${index}`).address.toLowerCase();
    expect(alice.statusCode).toBe(200);
    expect(alice.json()).toEqual({
      userId: 'alice@example.test',
      address: expected(0),
      did: `did:peruri:${expected(0)}`,
      custody: 'custodial',
      balance: '0',
      badges: [],
      created: true,
    });
    expect(again.json()).toMatchObject({ address: expected(0), created: false });
    expect(bob.json()).toMatchObject({ address: expected(1), created: true });
    expect(rowsOnDisk(daemon.dbPath)).toEqual({ wallets: 2, activities: 0, audit_log: 2 });
    // And a missing user id is a 400
    const missing = await daemon.app.inject({ method: 'GET', url: '/wallet/status', headers });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ details: ['querystring.userId: is required'] });
  });
});

describe('POST /mintToken', () => {
  it('stores a mint as an activity of kind mint and answers 202 with no tx hash yet', async () => {
    const daemon = await aDaemon();
    const mint = async (body: Record<string, unknown>, key: string) =>
      daemon.app.inject({
        method: 'POST',
        url: '/mintToken',
        headers: { ...(await daemon.auth()), 'idempotency-key': key },
        payload: body,
      });
    const response = await mint({ userId: 'user-42', amount: '1000', reason: 'welcome bonus' }, 'mint-1');
    expect(response.statusCode).toBe(202);
    const { id, status, txHash } = response.json() as { id: string; status: string; txHash: null };
    expect([status, txHash]).toEqual(['queued', null]);
    expect(await daemon.store.getActivity(id)).toMatchObject({
      kind: 'mint',
      type: 'mint',
      points: '1000',
      payload: { reason: 'welcome bonus' },
    });
    // And a replay is the same answer, a zero amount is refused, and the key of a mint cannot
    // be reused for an activity
    const replay = await mint({ userId: 'user-42', amount: 1000, reason: 'welcome bonus' }, 'mint-1');
    expect([replay.statusCode, (replay.json() as { id: string }).id]).toEqual([202, id]);
    const zero = await mint({ userId: 'user-42', amount: 0, reason: 'nothing' }, 'mint-2');
    expect(zero.statusCode).toBe(400);
    expect(zero.json()).toMatchObject({ details: ['body.amount: must be at least 1'] });
    const reused = await track(daemon, anActivityBody(), 'mint-1');
    expect(reused.statusCode).toBe(409);
    expect(rowsOnDisk(daemon.dbPath)).toEqual({ wallets: 1, activities: 1, audit_log: 2 });
  });
});

describe('operations routes', () => {
  it('serves /health and /metrics without a token, everything else with one', async () => {
    const daemon = await aDaemon();
    await track(daemon, anActivityBody(), 'key-1');
    const health = await daemon.app.inject({ method: 'GET', url: '/health' });
    const metrics = await daemon.app.inject({ method: 'GET', url: '/metrics' });
    const ready = await daemon.app.inject({ method: 'GET', url: '/ready' });
    const docs = await daemon.app.inject({ method: 'GET', url: '/docs' });
    expect([health.statusCode, metrics.statusCode, ready.statusCode, docs.statusCode]).toEqual([
      200, 200, 401, 401,
    ]);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('peruri_adapter_queue_depth 1');
    expect(metrics.body).toContain('peruri_adapter_intake_total{kind="activity",outcome="created"} 1');
    expect(metrics.body).toMatch(
      /peruri_adapter_http_request_duration_seconds_count\{method="POST",route="\/activity\/track",status_code="202"\} 1/,
    );
  });

  it('publishes the OpenAPI document built from the route schemas', async () => {
    const daemon = await aDaemon();
    const docs = await daemon.app.inject({ method: 'GET', url: '/docs', headers: await daemon.auth() });
    expect(docs.statusCode).toBe(200);
    const document = docs.json() as { openapi: string; paths: Record<string, object> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/activity/track',
      '/activity/{id}',
      '/health',
      '/metrics',
      '/mintToken',
      '/ready',
      '/wallet/status',
    ]);
    // Formatted as the repository's prettier formats JSON, so `prettier --check .` passes on it.
    const text = await format(JSON.stringify(document), { parser: 'json', printWidth: 110 });
    await expect(text).toMatchFileSnapshot('__snapshots__/daemon-openapi.json');
  });

  it('is ready when the database answers and a real chain with the right id is reachable', async () => {
    // Given anvil on chain 4242, a probe for it, and one for a chain that is not there
    const anvil = await startAnvil({ chainId: 4242 });
    onTestFinished(() => anvil.stop());
    const good = rpcChainProbe({ rpcUrl: anvil.url, chainId: 4242 });
    const wrong = rpcChainProbe({ rpcUrl: anvil.url, chainId: 1 });
    const gone = rpcChainProbe({ rpcUrl: 'http://127.0.0.1:9', chainId: 4242, timeoutMs: 1_000 });
    onTestFinished(() => [good, wrong, gone].forEach((probe) => probe.close()));
    const ready = async (probe: typeof good) => {
      const daemon = await aDaemon({ chainProbe: probe.probe });
      return daemon.app.inject({ method: 'GET', url: '/ready', headers: await daemon.auth() });
    };
    // When readiness is asked of each
    const [up, mismatched, unreachable] = await Promise.all([ready(good), ready(wrong), ready(gone)]);
    // Then only the first is ready; the others say why
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({
      status: 'ready',
      database: { ok: true },
      chain: { ok: true, chainId: 4242, blockNumber: 0 },
    });
    expect(mismatched.statusCode).toBe(503);
    expect(mismatched.json()).toEqual({
      code: 'PC_NOT_READY',
      message: 'Not ready',
      details: ['chain: chain id 4242, but the configuration says 1'],
    });
    expect(unreachable.statusCode).toBe(503);
    expect((unreachable.json() as { details: string[] }).details[0]).toMatch(
      /^chain: RPC http:\/\/127\.0\.0\.1:9/,
    );
  });
});

describe('logs', () => {
  it('never hold a token, an Authorization header, a query string or a payload body', async () => {
    // Given a daemon whose JSON log is captured
    const daemon = await aDaemon();
    const token = await daemon.token();
    const headers = { authorization: `Bearer ${token}` };
    // When requests carry a token, a payload, a user id in the query, and some fail
    await track(daemon, anActivityBody({ payload: { note: 'PAYLOAD-MARKER-31337' } }), 'key-1', headers);
    await daemon.app.inject({ method: 'GET', url: '/wallet/status?userId=QUERY-MARKER-4711', headers });
    await track(daemon, { userId: 'x', payload: { note: 'PAYLOAD-MARKER-31337' } }, 'key-2', headers);
    await track(daemon, anActivityBody(), 'key-3', { authorization: 'Bearer not.a.jwt' });
    await daemon.store.close();
    await track(daemon, anActivityBody({ payload: { note: 'PAYLOAD-MARKER-31337' } }), 'key-4', headers);
    // Then the log tells what happened
    const lines = daemon.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.msg === 'request completed').map((line) => line.status)).toEqual([
      202, 200, 400, 401, 500,
    ]);
    const failed = lines.find((line) => line.msg === 'request failed');
    expect(failed).toBeDefined();
    // the request's one line carries the id its other lines carry
    expect(
      lines.filter((line) => line.msg === 'request completed' && line.reqId === failed!.reqId),
    ).toMatchObject([{ status: 500 }]);
    // And none of the secrets or personal data
    const text = daemon.logs.join('\n');
    for (const secret of [
      token,
      token.split('.')[2]!,
      'not.a.jwt',
      'PAYLOAD-MARKER-31337',
      'QUERY-MARKER-4711',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});

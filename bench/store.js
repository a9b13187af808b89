// Store benchmark: the cost of durably storing one activity (its row and its audit entry) through
// the SQLite store's group commit, without HTTP, with a table that already holds a number of
// activities (random-order idempotency keys, as clients' UUIDs are). It isolates what intake pays
// the database, and whether that grows with the table. Writes its section of bench/RESULTS.md
// unless --no-write. Run after `npm run build`:
// `node bench/store.js [--stored 0,500000] [--writers 64] [--inserts 40000]`.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson } from '../dist/daemon/canonical-json.js';
import { newActivityId } from '../dist/daemon/services/activities.js';
import { AUDIT_GENESIS_HASH, auditEntryHash } from '../dist/daemon/store/audit.js';
import { openStore } from '../dist/daemon/store/open.js';
import { machine, replaceSection } from './support/report.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : args[index + 1];
};
const storedCounts = option('stored', '0,500000').split(',').map(Number);
const writers = Number(option('writers', 64));
const inserts = Number(option('inserts', 40_000));
const write = !args.includes('--no-write');
const WARM_UP = 5_000;
/** Numbers the activities of the whole run (user ids and payloads). */
let sequence = 0;

const rows = [];
for (const stored of storedCounts) rows.push({ stored, ...(await measure(stored)) });

const table = [
  '| activities stored before | inserts/s | wall time per insert | CPU per insert (user + system) | writes per commit |',
  '|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.stored.toLocaleString('en')} | ${Math.round(1e6 / r.wallMicros).toLocaleString('en')} | ${r.wallMicros} µs | ${r.userMicros} + ${r.systemMicros} µs | ${r.perCommit} |`,
  ),
].join('\n');
const section = `<!-- bench:store -->
## Store: one activity stored durably (no HTTP)

Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.

Command: \`npm run build && node bench/store.js --stored ${storedCounts.join(',')} --writers ${writers} --inserts ${inserts}\`: the adapter's SQLite store (WAL, each group's log fsynced before its writes resolve, the daemon's group commit of 2 ms / 500 writes) in this process; ${writers} writers insert activities as intake does (the row, random-order idempotency key, its audit entry) into tables already holding the given number of activities and their audit entries; ${inserts.toLocaleString('en')} inserts measured after ${WARM_UP.toLocaleString('en')} to warm up. CPU is the whole process's (the fsyncs run on libuv's threads).

${table}
<!-- bench:store-stop -->`;
console.log(section);
if (write) replaceSection('store', section);

async function measure(stored) {
  const dir = mkdtempSync(join(tmpdir(), 'peruri-bench-store-'));
  const path = join(dir, 'adapter.db');
  try {
    // The schema as the daemon makes it, then the stored activities written directly (fast).
    await (await openStore({ url: `sqlite://${path}` })).store.close();
    prefill(path, stored);
    const { store } = await openStore({
      url: `sqlite://${path}`,
      groupCommit: { maxDelayMs: 2, maxBatch: 500 },
    });
    await insertAll(store, WARM_UP);
    const before = store.stats();
    const cpu = process.cpuUsage();
    const started = performance.now();
    await insertAll(store, inserts);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const after = store.stats();
    await store.close();
    return {
      wallMicros: Math.round((wallMs * 1000) / inserts),
      userMicros: Math.round(used.user / inserts),
      systemMicros: Math.round(used.system / inserts),
      perCommit: Math.round((after.writes - before.writes) / (after.commits - before.commits)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function prefill(path, count) {
  if (count === 0) return;
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const insert = db.prepare(
    `INSERT INTO activities (id, idempotency_key, request_hash, kind, user_id, wallet, type, occurred_at,
       payload, points, activity_ref, detail_hash, status, tx_hashes, attempts, created_at, updated_at)
     VALUES (?, ?, ?, 'activity', ?, ?, 'quiz.completed', ?, ?, '5', ?, ?, 'confirmed', '[]', 0, ?, ?)`,
  );
  const appendAudit = db.prepare(
    `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
     VALUES (?, ?, 'bench', 'activity.track', ?, ?, ?, ?)`,
  );
  // Each stored activity has its audit entry, chained as the store chains them: the trail grows
  // with intake, so the size under test is the trail's too.
  let prevHash = AUDIT_GENESIS_HASH;
  // The stored activities arrived one per millisecond, up to now.
  const start = Date.now() - count;
  const chunk = db.transaction((first, size) => {
    for (let index = first; index < first + size; index++) {
      const at = new Date(start + index).toISOString();
      const id = newActivityId(start + index);
      const idempotencyKey = randomUUID();
      const wallet = `0x${hex(20)}`;
      const details = { idempotencyKey, userId: `user-${index % 5000}`, wallet };
      const entry = { seq: index + 1, at, actor: 'bench', action: 'activity.track', subject: id, details };
      const hash = auditEntryHash(prevHash, entry);
      appendAudit.run(entry.seq, at, id, canonicalJson(details), prevHash, hash);
      prevHash = hash;
      insert.run(
        id,
        idempotencyKey,
        hex(32),
        details.userId,
        wallet,
        at,
        `{"quiz":${index}}`,
        `0x${hex(32)}`,
        `0x${hex(32)}`,
        at,
        at,
      );
    }
  });
  for (let first = 0; first < count; first += 50_000) chunk(first, Math.min(50_000, count - first));
  db.close();
}

async function insertAll(store, count) {
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next++ < count) {
        const index = sequence++;
        const id = newActivityId();
        const activity = {
          id,
          idempotencyKey: randomUUID(),
          requestHash: hex(32),
          kind: 'activity',
          userId: `user-${index % 5000}`,
          wallet: `0x${hex(20)}`,
          type: 'quiz.completed',
          occurredAt: new Date().toISOString(),
          payload: { quiz: index },
          points: '5',
          badgeId: null,
          badgeAmount: null,
          activityRef: `0x${hex(32)}`,
          detailHash: `0x${hex(32)}`,
        };
        const audit = {
          actor: 'bench',
          action: 'activity.track',
          subject: id,
          details: {
            userId: activity.userId,
            wallet: activity.wallet,
            idempotencyKey: activity.idempotencyKey,
          },
        };
        const result = await store.insertActivity(activity, audit);
        if (result.outcome !== 'created') throw new Error(`insert ${index} was ${result.outcome}`);
      }
    }),
  );
}

function hex(bytes) {
  return randomBytes(bytes).toString('hex');
}

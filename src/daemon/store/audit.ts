import { hash as hashOnce } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { Dialect, Tx } from './dialect.js';
import { SQL } from './sql.js';
import type { AuditEntry, AuditInput } from './types.js';

/** The `prev_hash` of the first entry. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of an audit entry: sha256 over the previous entry's hash (64 hex characters) followed
 * by the canonical JSON of the entry's own fields, as UTF-8; hex-encoded. Changing, removing or
 * reordering any entry changes every hash after it.
 * @param prevHash - hash of the entry before (AUDIT_GENESIS_HASH for the first)
 * @param entry - the entry's fields
 * @returns 64 hex characters
 */
export function auditEntryHash(prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string {
  return hashEntryText(prevHash, entry, canonicalJson(entry.details));
}

/**
 * {@link auditEntryHash} from the canonical text of the entry's details, which the caller has (it
 * stores that text): the entry's canonical JSON is put together around it instead of made again.
 * Its keys in sorted order: action, actor, at, details, seq, subject.
 */
function hashEntryText(
  prevHash: string,
  entry: Omit<AuditEntry, 'prevHash' | 'hash' | 'details'>,
  detailsText: string,
): string {
  const body =
    `{"action":${JSON.stringify(entry.action)},"actor":${JSON.stringify(entry.actor)},` +
    `"at":${JSON.stringify(entry.at)},"details":${detailsText},"seq":${JSON.stringify(entry.seq)},` +
    `"subject":${JSON.stringify(entry.subject)}}`;
  // One-shot hashing: a Hash object per entry costs more than the concatenation.
  return hashOnce('sha256', prevHash + body, 'hex');
}

/**
 * Checks one stored entry against the chain so far.
 * @param entry - the stored entry
 * @param expectedSeq - the sequence number it must have (entries are numbered 1, 2, 3 without gaps)
 * @param prevHash - the hash of the entry before it
 * @returns undefined when it holds, otherwise why not
 */
export function auditEntryProblem(
  entry: AuditEntry,
  expectedSeq: number,
  prevHash: string,
): string | undefined {
  if (entry.seq !== expectedSeq) return `expected entry ${expectedSeq}, found ${entry.seq} (entries missing)`;
  if (entry.prevHash !== prevHash) return 'its prev_hash is not the hash of the entry before it';
  if (auditEntryHash(prevHash, entry) !== entry.hash) return 'its content does not match its hash';
  return undefined;
}

/**
 * Appends to the audit trail inside write transactions. Each append reads the last entry and chains
 * to it in the same transaction as the change it records, so an entry exists exactly when its
 * change committed. Appends are serial: every write goes through the dialect's group commit, one
 * group at a time, holding the write lock (SQLite) or the audit advisory lock (PostgreSQL). Within
 * a group the head is remembered per Tx; a write that fails is rolled back to its savepoint, so
 * what it remembered is forgotten.
 */
export class AuditChain {
  private readonly heads = new WeakMap<Tx, { seq: number; hash: string }>();

  /** Runs `work` as one write of `db`, forgetting the group's remembered head if it fails. */
  write<T>(db: Dialect, work: (tx: Tx) => Promise<T>): Promise<T> {
    return db.write(async (tx) => {
      try {
        return await work(tx);
      } catch (error) {
        this.heads.delete(tx);
        throw error;
      }
    });
  }

  async append(tx: Tx, input: AuditInput): Promise<AuditEntry> {
    const last = this.heads.get(tx) ?? (await tx.query<{ seq: number; hash: string }>(SQL.lastAudit))[0];
    const prevHash = last?.hash ?? AUDIT_GENESIS_HASH;
    // Stored as its canonical text, so the stored bytes are the hashed bytes.
    const detailsText = canonicalJson(input.details);
    const seq = Number(last?.seq ?? 0) + 1;
    const at = new Date().toISOString();
    const { actor, action, subject } = input;
    const hash = hashEntryText(prevHash, { seq, at, actor, action, subject }, detailsText);
    await tx.query(SQL.insertAudit, [seq, at, actor, action, subject, detailsText, prevHash, hash]);
    this.heads.set(tx, { seq, hash });
    const details = JSON.parse(detailsText) as Record<string, unknown>;
    return { seq, at, actor, action, subject, details, prevHash, hash };
  }
}

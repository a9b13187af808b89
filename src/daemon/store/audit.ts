import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { AuditEntry } from './types.js';

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
  const body = canonicalJson({
    seq: entry.seq,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    details: entry.details,
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
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

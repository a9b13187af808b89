import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../canonical-json.js';
import { AUDIT_GENESIS_HASH, auditEntryHash } from './audit.js';

describe('auditEntryHash', () => {
  it('is sha256 of the previous hash and the canonical JSON of the whole entry', () => {
    // Given an entry whose details need escaping and reordering
    const entry = {
      seq: 42,
      at: '2026-11-25T01:00:00.000Z',
      actor: 'backend "php"',
      action: 'activity.track',
      subject: '0190f3a0-0000-7000-8000-000000000001',
      details: { z: 1, a: { y: 'ü\n', b: [2, 1] }, m: null },
    };
    // When it is hashed, Then the hash is the one the trail's format defines, computed whole
    const expected = createHash('sha256')
      .update(AUDIT_GENESIS_HASH)
      .update(canonicalJson(entry))
      .digest('hex');
    expect(auditEntryHash(AUDIT_GENESIS_HASH, entry)).toBe(expected);
  });
});

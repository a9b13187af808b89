import { describe, expect, it } from 'vitest';
import { classifyBroadcastError } from './chain.js';

describe('classifyBroadcastError', () => {
  it.each([
    ['already known', 'known'],
    ['Known transaction', 'known'], // Besu
    ['nonce too low', 'known'],
    ['Nonce too low', 'known'], // Besu
    ['transaction already imported', 'known'],
    ['nonce too high', 'transient'],
    ['Transaction pool is full', 'transient'],
    ['request timeout (code=TIMEOUT)', 'transient'],
    ['connect ECONNREFUSED 127.0.0.1:8545', 'transient'],
    ['fetch failed', 'transient'],
    ['intrinsic gas too low', 'rejected'],
    ['exceeds block gas limit', 'rejected'],
    ['Invalid signature', 'rejected'],
  ])('%s → %s', (message, kind) => {
    expect(classifyBroadcastError(message).kind).toBe(kind);
  });
});

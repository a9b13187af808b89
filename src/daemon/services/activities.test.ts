import { describe, expect, it } from 'vitest';
import { newActivityId } from './activities.js';

describe('newActivityId', () => {
  it('is a UUID version 7 whose first 48 bits are the time, unique over many pool refills', () => {
    // Given a fixed time
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);

    // When ids are drawn, far more than one pool of entropy holds
    const ids = Array.from({ length: 2000 }, () => newActivityId(at));

    // Then each has the version and variant bits and the time, and no two are alike
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // And the random part really varies (not a counter or a constant)
    const randomTails = new Set(ids.map((id) => id.slice(-12)));
    expect(randomTails.size).toBe(ids.length);
  });
});

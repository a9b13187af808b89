import { describe, expect, it } from 'vitest';
import {
  assessQuorum,
  bftQuorum,
  planValidatorRotation,
  votesNeeded,
  type ValidatorRotationPlan,
} from './plan.js';

const address = (digit: number) => `0x${String(digit).repeat(40)}`;
const aSet = (size: number) =>
  Array.from({ length: size }, (_, index) => ({ node: `v${index + 1}`, address: address(index + 1) }));
const aRotation = (size: number, offline: string[] = []) =>
  planValidatorRotation({
    node: 'v2',
    validators: aSet(size),
    oldAddress: address(2),
    newAddress: address(9),
    offline,
  });
/** [id, set size before, after, tightest moment: online / set size / quorum, votes needed, voters] */
const arithmetic = (plan: ValidatorRotationPlan) =>
  plan.steps.map((step) => [
    step.id,
    step.setSize,
    step.setSizeAfter,
    `${step.tightest.online}/${step.tightest.setSize}/${step.tightest.quorum}`,
    step.votesNeeded ?? null,
    step.voters ?? null,
  ]);

describe('IBFT 2.0 quorum arithmetic', () => {
  it('needs ceil(2N/3) validators online and floor(N/2)+1 votes, as Besu counts', () => {
    // Given the table of NOTES.md (c) and Besu's BftHelpers.calculateRequiredValidatorQuorum
    expect([1, 2, 3, 4, 5, 6, 7].map(bftQuorum)).toEqual([1, 2, 2, 3, 4, 4, 5]);
    expect([1, 2, 3, 4, 5, 6, 7].map(votesNeeded)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('judges a moment by the validators online then', () => {
    // When one of four validators is down and a fifth key would be voted in
    const refused = assessQuorum('once the new key is in', 3, 5);
    // Then the arithmetic refuses it and says why
    expect(refused).toEqual({
      ok: false,
      text: 'once the new key is in: 3 of 5 validators online, ceil(2·5/3) = 4 needed',
    });
    expect(assessQuorum('once the new key is in', 4, 5).ok).toBe(true);
  });
});

describe('planValidatorRotation', () => {
  it('four validators, all online: out-first, since in-first would leave 3 of 5 online during the move', () => {
    // Given four validators and v2's key to rotate
    const plan = aRotation(4);
    // Then in-first is ruled out by its move (and nothing else)
    expect(plan.orders['in-first'].problems).toEqual([
      'move: while v2 restarts: 3 of 5 validators online, ceil(2·5/3) = 4 needed',
    ]);
    // And out-first runs: old key out (4 -> 3, 3 votes of 4 voters, v2 voting itself out),
    // the move with 3 of 3 online (2 needed), the new key in (3 -> 4, 2 votes of the 3 others)
    expect(plan.order).toBe('out-first');
    expect(arithmetic(plan)).toEqual([
      ['allowlists', 4, 4, '3/4/3', null, null],
      ['vote-out', 4, 3, '3/3/2', 3, ['v1', 'v3', 'v4', 'v2']],
      ['move', 3, 3, '3/3/2', null, null],
      ['vote-in', 3, 4, '4/4/3', 2, ['v1', 'v3', 'v4']],
      ['finish', 4, 4, '3/4/3', null, null],
    ]);
    expect(plan.steps.every((step) => step.problem === undefined)).toBe(true);
    expect(plan.reason).toBe(
      'in-first would stop blocks (move: while v2 restarts: 3 of 5 validators online, ceil(2·5/3) = 4 needed); out-first keeps them coming: while v2 restarts it is no validator, and 3 of 3 validators are online, ceil(2·3/3) = 2 needed',
    );
  });

  it('seven validators, all online: in-first (6 of 8 online while the node restarts, 6 needed)', () => {
    const plan = aRotation(7);
    expect(plan.order).toBe('in-first');
    expect(plan.reason).toBe(
      'in-first keeps the most validators: while v2 restarts, 6 of 8 validators are online, ceil(2·8/3) = 6 needed',
    );
    expect(arithmetic(plan).map((row) => row.slice(0, 5))).toEqual([
      ['allowlists', 7, 7, '6/7/5', null],
      ['vote-in', 7, 8, '7/8/6', 4],
      ['move', 8, 8, '6/8/6', null],
      ['vote-out', 8, 7, '7/7/5', 5],
      ['finish', 7, 7, '6/7/5', null],
    ]);
    // And the node votes its old key out on its new key, with the six others
    expect(plan.steps[3]!.voters).toEqual(['v1', 'v3', 'v4', 'v5', 'v6', 'v7', 'v2']);
  });

  it('five validators, all online: in-first already (4 of 6 online while the node restarts, 4 needed)', () => {
    expect(aRotation(5).order).toBe('in-first');
    expect(aRotation(4).order).toBe('out-first');
    expect(aRotation(3).order).toBe('out-first');
  });

  it('four validators with one other offline: refused, because every rolling restart leaves 2 of 4', () => {
    // Given v4 offline
    const plan = aRotation(4, ['v4']);
    // Then neither order keeps the quorum: in-first from its vote-in on, out-first in its rolling restarts
    expect(plan.order).toBeUndefined();
    expect(plan.orders['in-first'].problems).toEqual([
      'allowlists: while each validator restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed',
      'vote-in: once the new key is in, before it runs: 3 of 5 validators online, ceil(2·5/3) = 4 needed',
      'move: while v2 restarts: 2 of 5 validators online, ceil(2·5/3) = 4 needed',
      'finish: while each validator restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed',
    ]);
    // (out-first's votes and move alone would pass: 2 of 3 online, 2 needed)
    expect(plan.orders['out-first'].problems).toEqual([
      'allowlists: while each validator restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed',
      'finish: while each validator restarts: 2 of 4 validators online, ceil(2·4/3) = 3 needed',
    ]);
    expect(plan.reason).toMatch(
      /^neither order keeps ceil\(2N\/3\) of the validators online at every step: in-first: .*; out-first: allowlists: /,
    );
  });

  it('seven validators with one other offline: out-first (in-first would leave 5 of 8 during the move)', () => {
    const plan = aRotation(7, ['v5']);
    expect(plan.orders['in-first'].problems).toEqual([
      'move: while v2 restarts: 5 of 8 validators online, ceil(2·8/3) = 6 needed',
    ]);
    expect(plan.order).toBe('out-first');
    expect(arithmetic(plan).map((row) => row.slice(0, 5))).toEqual([
      ['allowlists', 7, 7, '5/7/5', null],
      ['vote-out', 7, 6, '5/6/4', 4],
      ['move', 6, 6, '5/6/4', null],
      ['vote-in', 6, 7, '6/7/5', 4],
      ['finish', 7, 7, '5/7/5', null],
    ]);
    // And the offline validator is no voter
    expect(plan.steps[1]!.voters).toEqual(['v1', 'v3', 'v4', 'v6', 'v7', 'v2']);
    expect(plan.steps[3]!.voters).toEqual(['v1', 'v3', 'v4', 'v6', 'v7']);
  });

  it('two validators: refused, as no validator can restart without stopping blocks', () => {
    const plan = aRotation(2);
    expect(plan.order).toBeUndefined();
    expect(plan.orders['out-first'].problems).toEqual([
      'allowlists: while each validator restarts: 1 of 2 validators online, ceil(2·2/3) = 2 needed',
      'finish: while each validator restarts: 1 of 2 validators online, ceil(2·2/3) = 2 needed',
    ]);
    expect(plan.orders['in-first'].problems).toContain(
      'move: while v2 restarts: 1 of 3 validators online, ceil(2·3/3) = 2 needed',
    );
  });

  it('follows a recorded order even where it would choose another', () => {
    const plan = planValidatorRotation({
      node: 'v2',
      validators: aSet(4),
      oldAddress: address(2),
      newAddress: address(9),
      order: 'in-first',
    });
    expect(plan.order).toBe('in-first');
    expect(plan.steps.map((step) => step.id)).toEqual([
      'allowlists',
      'vote-in',
      'move',
      'vote-out',
      'finish',
    ]);
    expect(plan.steps[2]!.problem).toBe(
      'while v2 restarts: 3 of 5 validators online, ceil(2·5/3) = 4 needed',
    );
  });
});

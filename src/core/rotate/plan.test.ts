import { describe, expect, it } from 'vitest';
import { assessQuorum, bftQuorum, planValidatorRotation, votesNeeded } from './plan.js';

const address = (digit: number) => `0x${String(digit).repeat(40)}`;
const aSet = (size: number) =>
  Array.from({ length: size }, (_, index) => ({ node: `v${index + 1}`, address: address(index + 1) }));

describe('IBFT 2.0 quorum arithmetic', () => {
  it('needs ceil(2N/3) validators online and floor(N/2)+1 votes, as Besu counts', () => {
    // Given the table of NOTES.md (c) and Besu's BftHelpers.calculateRequiredValidatorQuorum
    expect([1, 2, 3, 4, 5, 6, 7].map(bftQuorum)).toEqual([1, 2, 2, 3, 4, 4, 5]);
    expect([1, 2, 3, 4, 5, 6, 7].map(votesNeeded)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('judges a step by the validators online after it', () => {
    // When one of four validators is down and a fifth key would be voted in
    const refused = assessQuorum('vote-in', 3, 5);
    // Then the arithmetic refuses it and says why
    expect(refused).toEqual({
      ok: false,
      text: 'after vote-in: 3 of 5 validators online, ceil(2·5/3) = 4 needed',
    });
    expect(assessQuorum('vote-in', 4, 5).ok).toBe(true);
  });
});

describe('planValidatorRotation', () => {
  it('plans four validators: N+1 while both keys are in, votes on the right sets', () => {
    // Given four validators and v2's key to rotate
    const plan = planValidatorRotation({
      node: 'v2',
      validators: aSet(4),
      oldAddress: address(2),
      newAddress: address(9),
    });
    // Then the steps run in order with the set sizes of each moment
    expect(plan.steps.map((step) => [step.id, step.setSize, step.setSizeAfter, step.quorumAfter])).toEqual([
      ['allowlists', 4, 4, 3],
      ['vote-in', 4, 5, 4],
      ['move', 5, 5, 4],
      ['vote-out', 5, 4, 3],
      ['finish', 4, 4, 3],
    ]);
    const voteIn = plan.steps[1]!;
    expect(voteIn.votesNeeded).toBe(3);
    expect(voteIn.voters).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(voteIn.onlineAfter).toBeGreaterThanOrEqual(voteIn.quorumAfter);
    const voteOut = plan.steps[3]!;
    expect(voteOut.votesNeeded).toBe(3);
    // And the node on its new key votes its old key out with the others
    expect(voteOut.voters).toEqual(['v1', 'v3', 'v4', 'v2']);
    // And the move's restart pauses blocks (3 of 5 online, 4 needed) while rolling restarts do not
    expect(plan.steps[2]!.pause).toContain('3 of 5 validators are online, 4 needed');
    expect(plan.steps[0]!.pause).toBeUndefined();
  });

  it('with seven validators nothing pauses', () => {
    const plan = planValidatorRotation({
      node: 'v1',
      validators: aSet(7),
      oldAddress: address(1),
      newAddress: address(9),
    });
    expect(plan.steps.every((step) => step.pause === undefined)).toBe(true);
    expect(plan.steps.find((step) => step.id === 'vote-out')!.votesNeeded).toBe(5);
  });

  it('with two validators every restart pauses blocks', () => {
    const plan = planValidatorRotation({
      node: 'v1',
      validators: aSet(2),
      oldAddress: address(1),
      newAddress: address(9),
    });
    expect(plan.steps[0]!.pause).toContain('1 of 2 online, 2 needed');
  });
});

import { describe, expect, it } from 'vitest';
import { IbftVoting, type ProducedBlock } from './ibft-voting.js';

// Addresses in ascending order, so proposer rotation is easy to follow.
const A = '0x' + '1'.repeat(40);
const B = '0x' + '2'.repeat(40);
const C = '0x' + '3'.repeat(40);
const D = '0x' + '4'.repeat(40);
const E = '0x' + '5'.repeat(40);

function produce(voting: IbftVoting, online: string[], count = 1): ProducedBlock[] {
  const blocks: ProducedBlock[] = [];
  for (let i = 0; i < count; i++) {
    const block = voting.produceBlock(new Set(online));
    if ('stalled' in block) throw new Error(block.reason);
    blocks.push(block);
  }
  return blocks;
}

describe('IBFT 2.0 voting model (Besu rules, NOTES.md section c)', () => {
  it('rotates proposers in ascending address order, starting after the genesis coinbase', () => {
    const voting = new IbftVoting([C, A, B]);
    expect(produce(voting, [A, B, C], 4).map((block) => block.proposer)).toEqual([A, B, C, A]);
    expect(voting.validatorsAt(0)).toEqual([A, B, C]);
  });

  it('skips an offline proposer (round change) and stalls below ceil(2N/3) online', () => {
    const voting = new IbftVoting([A, B, C, D]);
    // 4 validators need 3 online; B is down, so its turn goes to C
    expect(produce(voting, [A, C, D], 2).map((block) => block.proposer)).toEqual([A, C]);
    const stalled = voting.produceBlock(new Set([A, D]));
    expect(stalled).toEqual({ stalled: true, reason: '2 of 4 validators online, 3 needed (ceil(2N/3))' });
    expect(voting.head).toBe(2);
  });

  it('a proposal stays local to its node and lands only in a block that node proposes', () => {
    const voting = new IbftVoting([A, B, C]);
    voting.propose(B, E, true);
    expect(voting.pendingVotes(B)).toEqual({ [E]: true });
    expect(voting.pendingVotes(A)).toEqual({});
    const [first, second] = produce(voting, [A, B, C], 2);
    expect(first).toMatchObject({ proposer: A, vote: undefined });
    expect(second).toMatchObject({ proposer: B, vote: { subject: E, add: true } });
    expect(voting.tally(E)).toEqual({ add: 1, drop: 0 });
  });

  it('adds a validator when more than half of N voted, effective from the next block', () => {
    // N = 3: floor(3/2) + 1 = 2 votes
    const voting = new IbftVoting([A, B, C]);
    voting.propose(A, E, true);
    voting.propose(B, E, true);
    const [one, two, three] = produce(voting, [A, B, C], 3);
    expect(one!.vote).toEqual({ subject: E, add: true });
    expect(two!.vote).toEqual({ subject: E, add: true });
    // block 2 carried the deciding vote: block 2 was still made by the old set, block 3 by the new
    expect(voting.validatorsAt(2)).toEqual([A, B, C]);
    expect(voting.validatorsAt(3)).toEqual([A, B, C, E]);
    expect(three!.validators).toEqual([A, B, C, E]);
    // the tally on E is reset; A's and B's proposals stay but are no longer useful, so not cast
    expect(voting.tally(E)).toEqual({ add: 0, drop: 0 });
    expect(voting.pendingVotes(A)).toEqual({ [E]: true });
    expect(produce(voting, [A, B, C, E], 4).every((block) => block.vote === undefined)).toBe(true);
  });

  it('one vote is not enough with 2 validators (needs 2 of 2) nor with 4 (needs 3)', () => {
    const two = new IbftVoting([A, B]);
    two.propose(A, B, false);
    produce(two, [A, B], 4);
    expect(two.validators).toEqual([A, B]);
    expect(two.tally(B)).toEqual({ add: 0, drop: 1 });

    const four = new IbftVoting([A, B, C, D]);
    four.propose(A, E, true);
    four.propose(B, E, true);
    produce(four, [A, B, C, D], 4);
    expect(four.validators).toEqual([A, B, C, D]);
    four.propose(C, E, true);
    produce(four, [A, B, C, D], 3);
    expect(four.validators).toEqual([A, B, C, D, E]);
  });

  it('an opposite vote of the same proposer replaces its earlier one', () => {
    const voting = new IbftVoting([A, B, C, D]);
    voting.propose(A, E, true);
    produce(voting, [A, B, C, D], 1);
    expect(voting.tally(E)).toEqual({ add: 1, drop: 0 });
    voting.propose(A, E, false);
    // E is no validator, so "drop E" is not useful and A casts nothing; discard and re-propose add
    produce(voting, [A, B, C, D], 4);
    expect(voting.tally(E)).toEqual({ add: 1, drop: 0 });
    voting.propose(A, D, false);
    produce(voting, [A, B, C, D], 4);
    expect(voting.tally(D)).toEqual({ add: 0, drop: 1 });
    voting.propose(A, D, true);
    // "add D" while D is a validator is not useful: the earlier drop vote stays counted
    produce(voting, [A, B, C, D], 4);
    expect(voting.tally(D)).toEqual({ add: 0, drop: 1 });
  });

  it('rotates through several useful proposals, one vote per proposed block', () => {
    const voting = new IbftVoting([A]);
    voting.propose(A, D, true);
    voting.propose(A, E, true);
    const [first] = produce(voting, [A], 1);
    // N = 1 needs one vote: D joins at once and is offline, so with N = 2 both must be online
    expect(first!.vote).toEqual({ subject: D, add: true });
    expect(voting.validators).toEqual([A, D]);
    expect(voting.produceBlock(new Set([A]))).toMatchObject({ stalled: true });
    const [second, third] = produce(voting, [A, D], 2);
    expect(second).toMatchObject({ proposer: D, vote: undefined });
    expect(third).toMatchObject({ proposer: A, vote: { subject: E, add: true } });
  });

  it('removing a validator discards its outstanding votes on other subjects', () => {
    const voting = new IbftVoting([A, B, C]);
    voting.propose(C, E, true);
    produce(voting, [A, B, C], 3); // C proposes block 3 with "add E"
    expect(voting.tally(E)).toEqual({ add: 1, drop: 0 });
    voting.propose(A, C, false);
    voting.propose(B, C, false);
    produce(voting, [A, B, C], 2); // blocks 4 (A) and 5 (B) drop C
    expect(voting.validators).toEqual([A, B]);
    expect(voting.tally(E)).toEqual({ add: 0, drop: 0 });
  });

  it('discards every outstanding vote at an epoch block and ignores the vote inside it', () => {
    const voting = new IbftVoting([A, B, C, D], 3);
    voting.propose(A, E, true);
    voting.propose(B, E, true);
    voting.propose(C, E, true);
    const blocks = produce(voting, [A, B, C, D], 3);
    // blocks 1 (A) and 2 (B) vote; block 3 (C) is an epoch block: its vote is ignored, tally reset
    expect(voting.tally(E)).toEqual({ add: 0, drop: 0 });
    expect(blocks[2]).toMatchObject({ number: 3, proposer: C, vote: { subject: E, add: true } });
    expect(voting.validators).toEqual([A, B, C, D]);
    // local proposals persist, so the votes are cast again: block 4 (D) has none, block 5 (A) votes
    produce(voting, [A, B, C, D], 2);
    expect(voting.tally(E)).toEqual({ add: 1, drop: 0 });
  });

  it('a restarted node forgets its proposals', () => {
    const voting = new IbftVoting([A, B, C]);
    voting.propose(A, E, true);
    voting.discard(A, E);
    expect(voting.pendingVotes(A)).toEqual({});
    voting.propose(A, E, true);
    voting.forgetProposals(A);
    expect(produce(voting, [A, B, C], 3).every((block) => block.vote === undefined)).toBe(true);
  });
});

/**
 * Besu's IBFT 2.0 validator voting, as documented in ../shared/reference/besu/NOTES.md section (c)
 * and read from Besu's VoteProposer, VoteTally, VoteTallyUpdater and ProposerSelector. No Besu
 * runs on our machines: this model stands in for it behind the test JSON-RPC front
 * (besu-front.ts), so that `deploy`, `status` and `rotate-key` meet the same rules as on a real
 * network. Pure: no I/O, no timers; the caller produces blocks.
 *
 * The rules modelled:
 * - a proposal is local to the node it was made on (`ibft_proposeValidatorVote` on that node's
 *   RPC), kept in memory and lost when the node restarts;
 * - a node's vote reaches the chain only in a block that node proposes, at most one vote per
 *   block, rotating through its proposals that would still change something ("add X" while X is
 *   no validator, "drop X" while X is one);
 * - the tally counts distinct proposers per subject; a later opposite vote of the same proposer
 *   replaces its earlier one; the change applies when votes reach floor(N/2) + 1 of the current
 *   N validators, and takes effect from the next block on;
 * - after a change, the outstanding votes on that subject are discarded; a removed validator's
 *   votes on other subjects are discarded too;
 * - at every epoch block (number % epochLength === 0) every outstanding vote is discarded and the
 *   epoch block's own vote is ignored; local proposals stay, so nodes cast them again later;
 * - the proposer of a block is the first validator (ascending address order) after the previous
 *   block's proposer, wrapping; when it is offline, the round changes to the next one;
 * - a block needs ceil(2N/3) of the N validators online, otherwise the chain stalls.
 */

/** A vote as carried in a block's extraData: add or drop `subject`. */
export interface BlockVote {
  subject: string;
  add: boolean;
}

/** What the model records for each produced block. */
export interface ProducedBlock {
  number: number;
  proposer: string;
  /** The vote the proposer put in the block, if any (recorded even when an epoch block ignores it). */
  vote: BlockVote | undefined;
  /** The validator set that produced this block (what `ibft_getValidatorsByBlockNumber` returns for it). */
  validators: string[];
}

/** Why no block could be produced. */
export interface Stall {
  stalled: true;
  reason: string;
}

const ADDRESS = /^0x[0-9a-f]{40}$/;

/** Lower-cases and checks an address; Besu answers with lower-case hex. */
export function normaliseAddress(address: string): string {
  const lower = address.toLowerCase();
  if (!ADDRESS.test(lower)) throw new Error(`Not an address: ${address}`);
  return lower;
}

/** The IBFT 2.0 voting state of one network. */
export class IbftVoting {
  readonly epochLength: number;
  /** Validator set by block number; entry n is the set that produced block n (genesis: 0). */
  private readonly setByBlock: string[][] = [];
  private readonly blocks: ProducedBlock[] = [];
  /** The set after the last block: the one that produces the next block. */
  private current: Set<string>;
  /** Tally: subject → proposers that voted to add / to drop it. */
  private readonly addVotes = new Map<string, Set<string>>();
  private readonly dropVotes = new Map<string, Set<string>>();
  /** Local proposals by node address: subject → add (true) or drop (false). */
  private readonly proposals = new Map<string, Map<string, boolean>>();
  /** Where each node's rotation through its proposals stands (the last subject it cast). */
  private readonly votePosition = new Map<string, string>();
  private lastProposer = '0x0000000000000000000000000000000000000000';

  constructor(genesisValidators: readonly string[], epochLength = 30_000) {
    if (genesisValidators.length === 0) throw new Error('IBFT 2.0 needs at least one validator');
    if (!Number.isInteger(epochLength) || epochLength < 1) throw new Error('epochLength must be ≥ 1');
    this.epochLength = epochLength;
    this.current = new Set(genesisValidators.map(normaliseAddress));
    this.setByBlock.push(sorted(this.current));
  }

  /** The number of the last block produced (0: only genesis). */
  get head(): number {
    return this.setByBlock.length - 1;
  }

  /** The validators that produce the next block, ascending. */
  get validators(): string[] {
    return sorted(this.current);
  }

  /**
   * The validators of a block, as `ibft_getValidatorsByBlockNumber` answers.
   * @returns ascending addresses, or undefined for a block not produced yet
   */
  validatorsAt(blockNumber: number): string[] | undefined {
    const set = this.setByBlock[blockNumber];
    return set ? [...set] : undefined;
  }

  /** The record of a produced block (not genesis). */
  block(blockNumber: number): ProducedBlock | undefined {
    return this.blocks[blockNumber - 1];
  }

  /** `ibft_proposeValidatorVote` on the node whose key is `node`. */
  propose(node: string, subject: string, add: boolean): void {
    const own = this.proposals.get(normaliseAddress(node)) ?? new Map<string, boolean>();
    own.set(normaliseAddress(subject), add);
    this.proposals.set(normaliseAddress(node), own);
  }

  /** `ibft_discardValidatorVote` on the node whose key is `node`. */
  discard(node: string, subject: string): void {
    this.proposals.get(normaliseAddress(node))?.delete(normaliseAddress(subject));
  }

  /** `ibft_getPendingVotes` on the node whose key is `node`: only its own proposals. */
  pendingVotes(node: string): Record<string, boolean> {
    return Object.fromEntries(this.proposals.get(normaliseAddress(node)) ?? []);
  }

  /** A node restarted: its in-memory proposals are gone. */
  forgetProposals(node: string): void {
    this.proposals.delete(normaliseAddress(node));
    this.votePosition.delete(normaliseAddress(node));
  }

  /**
   * How many add or drop votes a subject has in the tally right now (for tests and diagnostics).
   */
  tally(subject: string): { add: number; drop: number } {
    const key = normaliseAddress(subject);
    return { add: this.addVotes.get(key)?.size ?? 0, drop: this.dropVotes.get(key)?.size ?? 0 };
  }

  /**
   * Produces the next block if enough validators are online: picks the proposer, lets it cast one
   * of its useful proposals, applies the vote to the tally.
   * @param online - addresses of the nodes that run (validators not listed are offline)
   * @returns the block, or why the chain stalls
   */
  produceBlock(online: ReadonlySet<string>): ProducedBlock | Stall {
    const validators = sorted(this.current);
    const up = validators.filter((address) => online.has(address));
    const quorum = Math.ceil((2 * validators.length) / 3);
    if (up.length < quorum) {
      return {
        stalled: true,
        reason: `${up.length} of ${validators.length} validators online, ${quorum} needed (ceil(2N/3))`,
      };
    }
    const proposer = this.nextProposer(validators, online);
    const number = this.head + 1;
    const vote = this.castVote(proposer);
    const block: ProducedBlock = { number, proposer, vote, validators };
    this.blocks.push(block);
    this.lastProposer = proposer;
    if (number % this.epochLength === 0) {
      this.addVotes.clear();
      this.dropVotes.clear();
    } else if (vote) {
      this.applyVote(proposer, vote);
    }
    this.setByBlock.push(validators);
    return block;
  }

  // Round 0 goes to the validator after the previous proposer; every offline one costs a round.
  private nextProposer(validators: string[], online: ReadonlySet<string>): string {
    let index = validators.findIndex((address) => address > this.lastProposer);
    if (index === -1) index = 0;
    for (let round = 0; round < validators.length; round++) {
      const candidate = validators[(index + round) % validators.length]!;
      if (online.has(candidate)) return candidate;
    }
    throw new Error('unreachable: quorum was checked');
  }

  private castVote(proposer: string): BlockVote | undefined {
    const own = this.proposals.get(proposer);
    if (!own) return undefined;
    const useful = [...own.entries()]
      .filter(([subject, add]) => add !== this.current.has(subject))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (useful.length === 0) return undefined;
    const position = this.votePosition.get(proposer) ?? '';
    const [subject, add] = useful.find(([candidate]) => candidate > position) ?? useful[0]!;
    this.votePosition.set(proposer, subject);
    return { subject, add };
  }

  private applyVote(proposer: string, vote: BlockVote): void {
    const adds = this.addVotes.get(vote.subject) ?? new Set<string>();
    const drops = this.dropVotes.get(vote.subject) ?? new Set<string>();
    this.addVotes.set(vote.subject, adds);
    this.dropVotes.set(vote.subject, drops);
    (vote.add ? adds : drops).add(proposer);
    (vote.add ? drops : adds).delete(proposer);
    const needed = Math.floor(this.current.size / 2) + 1;
    if (adds.size >= needed) {
      this.current.add(vote.subject);
      this.discardVotesOn(vote.subject);
    } else if (drops.size >= needed) {
      this.current.delete(vote.subject);
      this.discardVotesOn(vote.subject);
      for (const voters of [...this.addVotes.values(), ...this.dropVotes.values()])
        voters.delete(vote.subject);
    }
  }

  private discardVotesOn(subject: string): void {
    this.addVotes.delete(subject);
    this.dropVotes.delete(subject);
  }
}

function sorted(addresses: Iterable<string>): string[] {
  return [...addresses].sort();
}

import { Interface, ZeroAddress, getAddress } from 'ethers';
import { loadArtifact } from '../../core/contracts/artifacts.js';
import type { IndexedEvents, MirrorStore } from '../store/mirror-types.js';
import type { MirrorChain } from './chain.js';
import type { MirrorContracts } from './plan.js';

/** The event count above which the next query covers fewer blocks. */
const LOGS_PER_QUERY = 4_000;

/** The cursor name of the balance and badge index. */
export const HOLDINGS_CURSOR = 'holdings';

export interface HoldingsIndexerOptions {
  store: MirrorStore;
  chain: MirrorChain;
  contracts: MirrorContracts;
  /** The first block worth reading (the earliest contract deployment); 0 when unknown. */
  startBlock: number;
  /** Blocks per eth_getLogs request. */
  blocksPerQuery: number;
}

/**
 * Fills the token balance cache and the badge index from chain events (ERC-20 Transfer of the
 * points token; ERC-1155 TransferSingle / TransferBatch of the badges), from a stored cursor. Each
 * range of blocks is applied in one write together with the cursor, and only if the cursor is
 * still where it was read: a reset (the `adapter reindex` command) is never mixed with an older
 * range, and the index rebuilds from the start.
 */
export class HoldingsIndexer {
  private readonly token = new Interface(
    loadArtifact('PointsToken').abi as ConstructorParameters<typeof Interface>[0],
  );
  private readonly badges = new Interface(
    loadArtifact('Badges').abi as ConstructorParameters<typeof Interface>[0],
  );
  private readonly topics: string[];
  /** Blocks per query now: halved after a large answer, grown again after small ones. */
  private span: number;

  constructor(private readonly options: HoldingsIndexerOptions) {
    this.span = options.blocksPerQuery;
    this.topics = [
      this.token.getEvent('Transfer')!.topicHash,
      this.badges.getEvent('TransferSingle')!.topicHash,
      this.badges.getEvent('TransferBatch')!.topicHash,
    ];
  }

  /**
   * Applies every block up to the chain's head, a range at a time.
   * @param signal - stops between ranges
   * @returns the last block applied (-1 when none)
   */
  async catchUp(signal?: AbortSignal): Promise<number> {
    const { store, chain } = this.options;
    const head = await chain.blockNumber();
    let cursor = await store.cursor(HOLDINGS_CURSOR);
    while (cursor < head && !signal?.aborted) {
      const fromBlock = Math.max(cursor + 1, this.options.startBlock);
      const toBlock = Math.min(head, fromBlock + this.span - 1);
      const { events, logCount } = await this.read(fromBlock, toBlock, cursor);
      // A block at full load holds ten thousand transfers: keep each answer, and the memory it
      // takes, to a few thousand events.
      if (logCount > LOGS_PER_QUERY) this.span = Math.max(1, Math.floor(this.span / 2));
      else if (logCount < LOGS_PER_QUERY / 4)
        this.span = Math.min(this.options.blocksPerQuery, this.span * 2);
      const applied = await store.applyIndexedEvents(events);
      cursor = applied ? toBlock : await store.cursor(HOLDINGS_CURSOR);
    }
    return cursor;
  }

  private async read(
    fromBlock: number,
    toBlock: number,
    expectedBlock: number,
  ): Promise<{ events: IndexedEvents; logCount: number }> {
    const { chain, contracts } = this.options;
    const pointsToken = contracts.pointsToken.toLowerCase();
    const badges = contracts.badges.toLowerCase();
    const logs =
      fromBlock > toBlock
        ? []
        : await chain.logs({ addresses: [pointsToken, badges], fromBlock, toBlock, topics: this.topics });
    const balanceDeltas = new Map<string, bigint>();
    const badgeDeltas = new Map<string, bigint>();
    const add = (map: Map<string, bigint>, key: string, delta: bigint) =>
      map.set(key, (map.get(key) ?? 0n) + delta);
    for (const log of logs) {
      const [topic, ...indexed] = log.topics;
      if (log.address === pointsToken && topic === this.topics[0] && indexed.length === 2) {
        // Transfer(address indexed from, address indexed to, uint256 value): decoded by hand, it is
        // three fixed words, and this loop sees every payment the mirror makes.
        const [from, to] = indexed.map(topicAddress) as [string, string];
        const value = BigInt(log.data);
        if (from !== ZERO) add(balanceDeltas, from, -value);
        if (to !== ZERO) add(balanceDeltas, to, value);
      } else if (log.address === badges && topic === this.topics[1] && indexed.length === 3) {
        // TransferSingle(operator, from, to indexed; id, value)
        const [, from, to] = indexed.map(topicAddress) as [string, string, string];
        const id = BigInt(`0x${log.data.slice(2, 66)}`);
        const value = BigInt(`0x${log.data.slice(66, 130)}`);
        if (from !== ZERO) add(badgeDeltas, `${from}|${id}`, -value);
        if (to !== ZERO) add(badgeDeltas, `${to}|${id}`, value);
      } else if (log.address === badges && topic === this.topics[2]) {
        const parsed = this.badges.parseLog(log);
        if (!parsed) continue;
        const from = normal(parsed.args.getValue('from') as string);
        const to = normal(parsed.args.getValue('to') as string);
        const ids = parsed.args.getValue('ids') as bigint[];
        const values = parsed.args.getValue('values') as bigint[];
        ids.forEach((id, index) => {
          if (from !== ZERO) add(badgeDeltas, `${from}|${id}`, -values[index]!);
          if (to !== ZERO) add(badgeDeltas, `${to}|${id}`, values[index]!);
        });
      }
    }
    return {
      events: {
        cursor: HOLDINGS_CURSOR,
        expectedBlock,
        toBlock,
        toBlockHash: await chain.blockHash(toBlock),
        balanceDeltas,
        badgeDeltas,
      },
      logCount: logs.length,
    };
  }
}

const ZERO = ZeroAddress.toLowerCase();

/** Addresses are stored lowercase, as wallets are. */
function normal(address: string): string {
  return getAddress(address).toLowerCase();
}

/** The address in an indexed topic (the last 20 of its 32 bytes), lowercase. */
function topicAddress(topic: string): string {
  return `0x${topic.slice(26).toLowerCase()}`;
}

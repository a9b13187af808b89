import { Contract, Interface, JsonRpcProvider, type Log } from 'ethers';
import { loadArtifact } from '../../src/core/contracts/artifacts.js';

/** What the adapter answered for one accepted request. */
export interface Accepted {
  id: string;
  userId: string;
  points: bigint;
  badge: { id: bigint; amount: bigint } | null;
}

/** The `index`th activity of a stream: one of 17 users, a lesson finished, 1 to 9 points. */
export function lessonActivity(index: number) {
  return {
    userId: `user-${index % 17}`,
    type: 'lesson.finished',
    occurredAt: '2026-11-24T08:00:00Z',
    payload: { lesson: index },
    points: String(1 + (index % 9)),
  };
}

/** A small HTTP client of the adapter for tests: JSON in, JSON out, bearer token. */
export function adapterClient(url: string, token: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  return {
    call,
    track: (body: Record<string, unknown>, key: string) =>
      call('POST', '/activity/track', body, { 'idempotency-key': key }),
    mint: (body: Record<string, unknown>, key: string) =>
      call('POST', '/mintToken', body, { 'idempotency-key': key }),
    activity: (id: string) => call('GET', `/activity/${id}`),
    wallet: (userId: string) => call('GET', `/wallet/status?userId=${encodeURIComponent(userId)}`),
  };
}

/** Polls until every id's status is final (confirmed or failed), or the time is up. */
export async function waitSettled(
  client: ReturnType<typeof adapterClient>,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Map<string, Record<string, unknown>>> {
  const settled = new Map<string, Record<string, unknown>>();
  const deadline = Date.now() + timeoutMs;
  // At least one pass, so a zero timeout reads the statuses as they are now.
  for (;;) {
    for (const id of ids) {
      if (settled.has(id)) continue;
      const { status, body } = await client.activity(id);
      if (status === 200 && (body.status === 'confirmed' || body.status === 'failed')) settled.set(id, body);
    }
    if (settled.size === ids.length || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return settled;
}

/** The mirror's events on-chain, read back independently of the adapter's database. */
export interface ChainRecord {
  /** Minted refs → (to, amount); a ref seen twice is listed in `duplicateMints`. */
  mints: Map<string, { to: string; amount: bigint }>;
  duplicateMints: string[];
  badgeMints: Map<string, { to: string; id: bigint; amount: bigint }>;
  duplicateBadgeMints: string[];
  /** Anchored batches: root → count. */
  anchors: Map<string, number>;
}

export async function readChainRecord(
  rpcUrl: string,
  contracts: { pointsToken: string; badges: string; activityLog: string },
): Promise<ChainRecord> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  try {
    const token = new Interface(loadArtifact('PointsToken').abi as never);
    const badges = new Interface(loadArtifact('Badges').abi as never);
    const log = new Interface(loadArtifact('ActivityLog').abi as never);
    const logs = (address: string, topic: string) =>
      provider.getLogs({ address, fromBlock: 0, toBlock: 'latest', topics: [topic] });
    const record: ChainRecord = {
      mints: new Map(),
      duplicateMints: [],
      badgeMints: new Map(),
      duplicateBadgeMints: [],
      anchors: new Map(),
    };
    for (const entry of await logs(contracts.pointsToken, token.getEvent('Minted')!.topicHash)) {
      const { to, amount, ref } = token.parseLog(entry as Log)!.args as unknown as {
        to: string;
        amount: bigint;
        ref: string;
      };
      if (record.mints.has(ref)) record.duplicateMints.push(ref);
      record.mints.set(ref, { to: to.toLowerCase(), amount });
    }
    for (const entry of await logs(contracts.badges, badges.getEvent('BadgeMinted')!.topicHash)) {
      const args = badges.parseLog(entry as Log)!.args as unknown as {
        to: string;
        id: bigint;
        amount: bigint;
        ref: string;
      };
      if (record.badgeMints.has(args.ref)) record.duplicateBadgeMints.push(args.ref);
      record.badgeMints.set(args.ref, { to: args.to.toLowerCase(), id: args.id, amount: args.amount });
    }
    for (const entry of await logs(contracts.activityLog, log.getEvent('Anchored')!.topicHash)) {
      const { root, count } = log.parseLog(entry as Log)!.args as unknown as { root: string; count: bigint };
      record.anchors.set(root, Number(count));
    }
    return record;
  } finally {
    provider.destroy();
  }
}

/** Asks ActivityLog.verify on-chain whether a leaf and proof belong to an anchored root. */
export async function verifyOnChain(
  rpcUrl: string,
  activityLog: string,
  evidence: { merkleRoot: string; leaf: string; proof: string[] },
): Promise<boolean> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  try {
    const contract = new Contract(activityLog, loadArtifact('ActivityLog').abi as never, provider);
    return (await contract.getFunction('verify')(
      evidence.merkleRoot,
      evidence.leaf,
      evidence.proof,
    )) as boolean;
  } finally {
    provider.destroy();
  }
}

import { hash, randomFillSync } from 'node:crypto';
import { ErrorCodes, InputError, RefusedError } from '../../core/errors.js';
import { canonicalJson } from '../canonical-json.js';
import type { ActivityKind, ActivityRecord, AuditInput, NewActivity, Store } from '../store/types.js';
import type { ActivityDetails, ActivityHasher } from './refs.js';
import type { WalletService } from './wallets.js';
import type { EvidenceReader } from '../worker/evidence.js';

const UINT256_MAX = (1n << 256n) - 1n;

/** An unsigned integer as the API takes it: a JSON number (safe integer) or decimal text. */
export type UintInput = string | number;

export interface TrackActivityInput {
  userId: string;
  type: string;
  /** ISO-8601 time with a zone. */
  occurredAt: string;
  payload?: Record<string, unknown>;
  points?: UintInput;
  badge?: { id: UintInput; amount?: UintInput };
  idempotencyKey: string;
  /** Who asks (the JWT subject), for the audit trail. */
  actor: string;
}

export interface MintInput {
  userId: string;
  amount: UintInput;
  /** Why the points are paid; kept off-chain, covered by the detail hash. */
  reason: string;
  idempotencyKey: string;
  actor: string;
}

/** `created`: stored now. `replayed`: the same request came before; its activity is returned. */
export interface IntakeResult {
  outcome: 'created' | 'replayed';
  activity: ActivityRecord;
}

/** A request after checks: the details a detail hash covers, before the activity has an id. */
interface Normalised extends Omit<ActivityDetails, 'id' | 'kind'> {
  kind: ActivityKind;
}

/**
 * Activity intake: checks and normalises a request, answers replays of an idempotency key, makes
 * the salted on-chain references, and stores the activity durably with its audit entry. The
 * mirror worker takes it from there.
 */
export class ActivityService {
  constructor(
    private readonly store: Store,
    private readonly wallets: WalletService,
    private readonly hasher: ActivityHasher,
    private readonly evidence?: EvidenceReader,
  ) {}

  /**
   * Accepts an activity.
   * @param input - the request and its idempotency key
   * @returns the stored activity, new or replayed
   * @throws InputError (PC_REQUEST_INVALID) for a value the schema cannot check (a time that does
   *   not exist, points beyond uint256); RefusedError (PC_IDEMPOTENCY_CONFLICT) when the key was used
   *   for a different request
   */
  track(input: TrackActivityInput): Promise<IntakeResult> {
    const normalised: Normalised = {
      kind: 'activity',
      userId: input.userId,
      type: input.type,
      occurredAt: isoTime(input.occurredAt, 'body.occurredAt'),
      payload: input.payload ?? null,
      points: uint(input.points ?? 0, 'body.points'),
      badge: input.badge
        ? {
            id: uint(input.badge.id, 'body.badge.id'),
            amount: uint(input.badge.amount ?? 1, 'body.badge.amount', 1n),
          }
        : null,
    };
    return this.accept(normalised, input.idempotencyKey, input.actor, (activity) => ({
      actor: input.actor,
      action: 'activity.track',
      subject: activity.id,
      details: {
        userId: activity.userId,
        wallet: activity.wallet,
        type: activity.type,
        points: activity.points,
        badgeId: activity.badgeId,
        idempotencyKey: activity.idempotencyKey,
        activityRef: activity.activityRef,
      },
    }));
  }

  /**
   * Accepts a points mint with no activity around it (kind `mint`, type `mint`).
   * @param input - user, amount, reason and idempotency key
   * @returns the stored mint, new or replayed
   */
  mint(input: MintInput): Promise<IntakeResult> {
    const normalised: Normalised = {
      kind: 'mint',
      userId: input.userId,
      type: 'mint',
      occurredAt: new Date().toISOString(),
      payload: { reason: input.reason },
      points: uint(input.amount, 'body.amount', 1n),
      badge: null,
    };
    return this.accept(normalised, input.idempotencyKey, input.actor, (activity) => ({
      actor: input.actor,
      action: 'mint.request',
      subject: activity.id,
      details: {
        userId: activity.userId,
        wallet: activity.wallet,
        amount: activity.points,
        idempotencyKey: activity.idempotencyKey,
        activityRef: activity.activityRef,
      },
    }));
  }

  /**
   * An activity or mint by id.
   * @throws InputError (PC_NOT_FOUND)
   */
  async get(id: string): Promise<ActivityRecord> {
    const activity = await this.store.getActivity(id);
    if (!activity) throw new InputError(ErrorCodes.NOT_FOUND, `No activity ${id}`);
    return this.withEvidence(activity);
  }

  /** The activity with its leaf, proof and transactions, derived from its batch. */
  async withEvidence(activity: ActivityRecord): Promise<ActivityRecord> {
    if (!this.evidence || !activity.batchId) return activity;
    const evidence = await this.evidence.of(activity);
    return {
      ...activity,
      merkleRoot: evidence.merkleRoot ?? activity.merkleRoot,
      leafHash: evidence.leaf,
      proof: evidence.proof,
      txHashes: evidence.txHashes,
    };
  }

  private async accept(
    request: Normalised,
    idempotencyKey: string,
    actor: string,
    audit: (activity: NewActivity) => AuditInput,
  ): Promise<IntakeResult> {
    // The mint's time is set now, so it cannot be part of what identifies its request.
    const requestHash = sha256(
      canonicalJson({ ...request, occurredAt: request.kind === 'mint' ? null : request.occurredAt }),
    );
    // A replay or conflict must not create a wallet, so for a user not yet seen it is answered
    // from a read first. For a returning user the insert finds it (the key is unique), which
    // spares the common case, a new activity, that read.
    let wallet = this.wallets.remembered(request.userId);
    if (!wallet) {
      const earlier = await this.store.findActivityByKey(idempotencyKey);
      if (earlier) return this.settle(earlier, requestHash);
      wallet = (await this.wallets.ensure(request.userId, actor)).wallet;
    }
    const id = newActivityId();
    const activity: NewActivity = {
      id,
      idempotencyKey,
      requestHash,
      kind: request.kind,
      userId: request.userId,
      wallet: wallet.address,
      type: request.type,
      occurredAt: request.occurredAt,
      payload: request.payload,
      points: request.points,
      badgeId: request.badge?.id ?? null,
      badgeAmount: request.badge?.amount ?? null,
      activityRef: this.hasher.activityRef(id),
      detailHash: this.hasher.detailHash({ id, ...request }),
    };
    const result = await this.store.insertActivity(activity, audit(activity));
    if (result.outcome === 'created') return { outcome: 'created', activity: result.activity };
    return this.settle(result.activity, requestHash);
  }

  private settle(earlier: ActivityRecord, requestHash: string): IntakeResult {
    if (earlier.requestHash === requestHash) return { outcome: 'replayed', activity: earlier };
    throw new RefusedError(
      ErrorCodes.IDEMPOTENCY_CONFLICT,
      'This Idempotency-Key was already used for a different request',
      {
        details: [`the key belongs to ${earlier.kind} ${earlier.id}`],
        hint: 'Use a new key for a new request; repeat a request only with exactly the same body.',
      },
    );
  }
}

/**
 * Random bytes for ids, drawn from the CSPRNG a few kilobytes at a time: one call per id cost
 * several microseconds of intake's budget (as Node's own randomUUID, which pools the same way).
 */
class EntropyPool {
  private readonly pool = Buffer.alloc(16 * 256);
  private readonly id = Buffer.alloc(16);
  private offset = this.pool.length;

  /** 16 fresh random bytes, in a buffer reused by the next call. */
  next(): Buffer {
    if (this.offset === this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    this.pool.copy(this.id, 0, this.offset, this.offset + 16);
    this.offset += 16;
    return this.id;
  }
}

const idEntropy = new EntropyPool();

/**
 * A new activity id: a UUID version 7 (RFC 9562), whose leading 48 bits are the time in
 * milliseconds, so ids sort roughly by arrival and index well.
 * @param now - the time to embed (default: now)
 */
export function newActivityId(now = Date.now()): string {
  const bytes = idEntropy.next();
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

function isoTime(value: string, field: string): string {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw invalid(field, `not a real time: ${JSON.stringify(value)}`);
  return time.toISOString();
}

function uint(value: UintInput, field: string, minimum = 0n): string {
  let parsed: bigint;
  try {
    parsed = BigInt(value);
  } catch {
    throw invalid(field, 'expected an unsigned integer');
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw invalid(field, 'a number above 2^53 - 1 loses precision in JSON; send it as a decimal string');
  }
  if (parsed < minimum) throw invalid(field, `must be at least ${minimum}`);
  if (parsed > UINT256_MAX) throw invalid(field, 'must fit in 256 bits');
  return parsed.toString();
}

function invalid(field: string, problem: string): InputError {
  return new InputError(ErrorCodes.REQUEST_INVALID, 'The request is not valid', {
    details: [`${field}: ${problem}`],
  });
}

/**
 * The arithmetic of a validator key rotation under IBFT 2.0 (Besu; see NOTES.md section (c)):
 * a block needs ceil(2N/3) of the N validators online, and a vote changes the set once
 * floor(N/2) + 1 of the current N validators have cast it. Pure: the CLI's dry run prints it and
 * every step of a run checks it against the nodes it finds online.
 */

/** The steps of a validator rotation; {@link ROTATION_ORDER_STEPS} says in which order they run. */
export const VALIDATOR_ROTATION_STEPS = ['allowlists', 'vote-in', 'move', 'vote-out', 'finish'] as const;
export type ValidatorRotationStep = (typeof VALIDATOR_ROTATION_STEPS)[number];

/**
 * The two orders of a rotation: `in-first` votes the new key in before the node moves onto it and
 * the old key out after (N+1 validators meanwhile); `out-first` votes the old key out first, moves
 * the node while it is no validator, then votes the new key in (N−1 meanwhile).
 */
export const ROTATION_ORDERS = ['in-first', 'out-first'] as const;
export type RotationOrder = (typeof ROTATION_ORDERS)[number];

/** The steps of each order, as they run. */
export const ROTATION_ORDER_STEPS: Record<RotationOrder, readonly ValidatorRotationStep[]> = {
  'in-first': ['allowlists', 'vote-in', 'move', 'vote-out', 'finish'],
  'out-first': ['allowlists', 'vote-out', 'move', 'vote-in', 'finish'],
};

/**
 * Validators that must be online for IBFT 2.0 to make blocks: ceil(2N/3).
 * @param validators - N, the size of the validator set
 * @example bftQuorum(4) // 3
 */
export function bftQuorum(validators: number): number {
  return Math.ceil((2 * validators) / 3);
}

/**
 * Votes that change the validator set: more than half of the current set, floor(N/2) + 1.
 * @param validators - N, the size of the current validator set
 * @example votesNeeded(4) // 3
 */
export function votesNeeded(validators: number): number {
  return Math.floor(validators / 2) + 1;
}

/** One validator as the plan sees it. */
export interface PlanValidator {
  /** The node that holds the key. */
  node: string;
  address: string;
}

/** Inputs of {@link planValidatorRotation}. */
export interface ValidatorRotationPlanInput {
  /** The node whose key is rotated. */
  node: string;
  /** The validator set before the rotation (on-chain, or the workspace's for a dry run). */
  validators: readonly PlanValidator[];
  oldAddress: string;
  newAddress: string;
  /** Validator nodes that do not make blocks now (default: none, as a dry run assumes). */
  offline?: readonly string[];
  /** Follow this order (the one a rotation under way recorded) instead of choosing one. */
  order?: RotationOrder;
}

/** The moment of a step with the fewest validators online, and the quorum of the set then. */
export interface TightestMoment {
  /** In words, e.g. `while v2 restarts`. */
  when: string;
  online: number;
  setSize: number;
  /** ceil(2N/3) of that set. */
  quorum: number;
}

/** One step of the plan, with the quorum arithmetic it is checked against. */
export interface ValidatorRotationPlanStep {
  id: ValidatorRotationStep;
  action: string;
  /** Validator set size when the step starts. */
  setSize: number;
  /** Set size after the step. */
  setSizeAfter: number;
  /** ceil(2N/3) of the set after the step. */
  quorumAfter: number;
  /** Validators online once the step is done (the new key counts once it runs). */
  onlineAfter: number;
  /** The moment of the step with the fewest validators online. */
  tightest: TightestMoment;
  /** For a vote: floor(N/2) + 1 of the set the vote is cast in. */
  votesNeeded?: number;
  /** For a vote: the nodes it is proposed on (the online validators of that set). */
  voters?: string[];
  /** Why the step cannot keep blocks coming (fewer than the quorum online, or too few voters). */
  problem?: string;
}

/** One order's steps and what stops it. */
export interface RotationOrderPlan {
  order: RotationOrder;
  steps: ValidatorRotationPlanStep[];
  /** `step: reason` for each step that would leave fewer than the quorum online or cannot be voted. */
  problems: string[];
}

/** The rotation's plan. */
export interface ValidatorRotationPlan {
  /** N before the rotation. */
  validators: number;
  /** The order the rotation follows; undefined when neither order keeps the quorum at every step. */
  order: RotationOrder | undefined;
  /** Why that order, or why none, with the arithmetic. */
  reason: string;
  /** The steps of the order followed, as they run (in-first's when there is none). */
  steps: ValidatorRotationPlanStep[];
  /** Both orders, with their problems. */
  orders: Record<RotationOrder, RotationOrderPlan>;
}

/**
 * Plans a validator key rotation that keeps blocks coming: in-first (vote the new key in, move the
 * node, vote the old key out) when its N+1 set keeps a quorum while the node restarts, as it keeps
 * the most validators; otherwise out-first (vote the old key out, move the node while it is no
 * validator, vote the new key in); no order when neither keeps ceil(2N/3) online at every step,
 * the rolling restarts of the allowlist steps included.
 * @param input - the node, the current set, old and new address, the offline validators
 * @returns the chosen order with the reason and every step's arithmetic, and both orders' problems
 * @example
 * const plan = planValidatorRotation({ node: 'v2', validators, oldAddress, newAddress });
 * plan.order; // 'out-first' for 4 validators: in-first would leave 3 of 5 online while v2 restarts
 */
export function planValidatorRotation(input: ValidatorRotationPlanInput): ValidatorRotationPlan {
  const orders = {
    'in-first': planOrder('in-first', input),
    'out-first': planOrder('out-first', input),
  };
  const n = input.validators.length;
  const others = input.validators.filter((validator) => validator.address !== input.oldAddress);
  const offline = new Set(input.offline ?? []);
  const othersOnline = others.filter((validator) => !offline.has(validator.node)).length;
  const words = (plan: RotationOrderPlan) => plan.problems.join('; ');
  let order: RotationOrder | undefined;
  let reason: string;
  if (input.order) {
    order = input.order;
    reason = `${order}, as recorded when the rotation started`;
  } else if (orders['in-first'].problems.length === 0) {
    order = 'in-first';
    reason = `in-first keeps the most validators: while ${input.node} restarts, ${othersOnline} of ${n + 1} validators are online, ceil(2·${n + 1}/3) = ${bftQuorum(n + 1)} needed`;
  } else if (orders['out-first'].problems.length === 0) {
    order = 'out-first';
    reason = `in-first would stop blocks (${words(orders['in-first'])}); out-first keeps them coming: while ${input.node} restarts it is no validator, and ${othersOnline} of ${n - 1} validators are online, ceil(2·${n - 1}/3) = ${bftQuorum(n - 1)} needed`;
  } else {
    reason = `neither order keeps ceil(2N/3) of the validators online at every step: in-first: ${words(orders['in-first'])}; out-first: ${words(orders['out-first'])}`;
  }
  return { validators: n, order, reason, steps: orders[order ?? 'in-first'].steps, orders };
}

function planOrder(order: RotationOrder, input: ValidatorRotationPlanInput): RotationOrderPlan {
  const n = input.validators.length;
  const offline = new Set(input.offline ?? []);
  const others = input.validators.filter((validator) => validator.address !== input.oldAddress);
  const othersOnline = others.filter((validator) => !offline.has(validator.node)).map((v) => v.node);
  const o = othersOnline.length;
  const m = offline.has(input.node) ? 0 : 1;
  const moment = (when: string, online: number, setSize: number): TightestMoment => ({
    when,
    online,
    setSize,
    quorum: bftQuorum(setSize),
  });
  const step = (
    id: ValidatorRotationStep,
    action: string,
    sizes: { before: number; after: number; onlineAfter: number },
    tightest: TightestMoment,
    vote?: { castIn: number; voters: string[] },
  ): ValidatorRotationPlanStep => {
    const problems: string[] = [];
    if (sizes.after < 1) problems.push('the validator set would be empty');
    if (tightest.online < tightest.quorum) {
      problems.push(
        `${tightest.when}: ${tightest.online} of ${tightest.setSize} validators online, ceil(2·${tightest.setSize}/3) = ${tightest.quorum} needed`,
      );
    }
    const needed = vote ? votesNeeded(vote.castIn) : undefined;
    if (vote && vote.voters.length < needed!) {
      problems.push(
        `${vote.voters.length} validator(s) online to vote, floor(${vote.castIn}/2)+1 = ${needed} votes needed`,
      );
    }
    return {
      id,
      action,
      setSize: sizes.before,
      setSizeAfter: sizes.after,
      quorumAfter: bftQuorum(sizes.after),
      onlineAfter: sizes.onlineAfter,
      tightest,
      ...(vote ? { votesNeeded: needed!, voters: vote.voters } : {}),
      ...(problems.length > 0 ? { problem: problems.join(', ') } : {}),
    };
  };
  // A rolling restart takes one online validator down at a time; the set is N in both orders.
  const rolling = (id: 'allowlists' | 'finish', action: string) =>
    step(
      id,
      action,
      { before: n, after: n, onlineAfter: o + m },
      moment('while each validator restarts', Math.max(0, o + m - 1), n),
    );
  const allowlists = rolling(
    'allowlists',
    `allowlist ${input.node}'s new enode beside the old on every node, restarting them one at a time`,
  );
  const finish = rolling(
    'finish',
    `drop ${input.node}'s old enode from every allowlist, restarting the nodes one at a time`,
  );
  const self = m === 1 ? [input.node] : [];
  const steps =
    order === 'in-first'
      ? [
          allowlists,
          step(
            'vote-in',
            `vote ${input.newAddress} in and wait until it is a validator`,
            { before: n, after: n + 1, onlineAfter: o + m },
            moment('once the new key is in, before it runs', o + m, n + 1),
            { castIn: n, voters: [...othersOnline, ...self] },
          ),
          step(
            'move',
            `put the new key into ${input.node}'s folder and restart it on it`,
            { before: n + 1, after: n + 1, onlineAfter: o + 1 },
            moment(`while ${input.node} restarts`, o, n + 1),
          ),
          // The node votes on its new key; its old key no longer runs.
          step(
            'vote-out',
            `vote ${input.oldAddress} out and wait until it is gone`,
            { before: n + 1, after: n, onlineAfter: o + 1 },
            moment('once the old key is out', o + 1, n),
            { castIn: n + 1, voters: [...othersOnline, input.node] },
          ),
          finish,
        ]
      : [
          allowlists,
          // The old key may vote for its own removal.
          step(
            'vote-out',
            `vote ${input.oldAddress} out and wait until it is gone (${input.node} keeps running, no longer a validator)`,
            { before: n, after: n - 1, onlineAfter: o },
            moment('once the old key is out', o, n - 1),
            { castIn: n, voters: [...othersOnline, ...self] },
          ),
          step(
            'move',
            `put the new key into ${input.node}'s folder and restart it on it (no validator restarts)`,
            { before: n - 1, after: n - 1, onlineAfter: o },
            moment(`while ${input.node} restarts`, o, n - 1),
          ),
          step(
            'vote-in',
            `vote ${input.newAddress} in and wait until it is a validator`,
            { before: n - 1, after: n, onlineAfter: o + 1 },
            moment('once the new key is in', o + 1, n),
            { castIn: n - 1, voters: othersOnline },
          ),
          finish,
        ];
  return {
    order,
    steps,
    problems: steps.flatMap((entry) => (entry.problem ? [`${entry.id}: ${entry.problem}`] : [])),
  };
}

/** What a quorum check found before a step. */
export interface QuorumAssessment {
  ok: boolean;
  /** The arithmetic in words, e.g. `after vote-in: 3 of 5 validators online, ceil(2·5/3) = 4 needed`. */
  text: string;
}

/**
 * Whether a step may run: the validators online at its tightest moment must reach ceil(2N/3) of
 * the set then.
 * @param step - the step and moment, e.g. `after vote-in` or `while v2 restarts`
 * @param online - validators online then
 * @param setSize - the set's size then
 */
export function assessQuorum(step: string, online: number, setSize: number): QuorumAssessment {
  const quorum = bftQuorum(setSize);
  return {
    ok: online >= quorum,
    text: `${step}: ${online} of ${setSize} validators online, ceil(2·${setSize}/3) = ${quorum} needed`,
  };
}

/**
 * The arithmetic of a validator key rotation under IBFT 2.0 (Besu; see NOTES.md section (c)):
 * a block needs ceil(2N/3) of the N validators online, and a vote changes the set once
 * floor(N/2) + 1 of the current N validators have cast it. Pure: the CLI's dry run prints it and
 * every step of a run checks it against the nodes it finds online.
 */

/** The steps of a validator rotation, in order. */
export const VALIDATOR_ROTATION_STEPS = ['allowlists', 'vote-in', 'move', 'vote-out', 'finish'] as const;
export type ValidatorRotationStep = (typeof VALIDATOR_ROTATION_STEPS)[number];

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
}

/** One step of the plan, with the quorum arithmetic it is checked against. */
export interface ValidatorRotationPlanStep {
  id: ValidatorRotationStep;
  action: string;
  /** Validator set size while the step runs (N, or N+1 while both keys are in). */
  setSize: number;
  /** ceil(2N/3) of that set. */
  quorum: number;
  /** Validators online once the step is done when every node answers (the new key counts once it runs). */
  onlineAfter: number;
  /** Set size after the step. */
  setSizeAfter: number;
  /** ceil(2N/3) of the set after the step: what `onlineAfter` must reach. */
  quorumAfter: number;
  /** For a vote: floor(N/2) + 1 of the set the vote is cast in. */
  votesNeeded?: number;
  /** For a vote: the nodes it is proposed on. */
  voters?: string[];
  /** When a restart in this step leaves fewer than the quorum online for a moment. */
  pause?: string;
}

/** The rotation's plan. */
export interface ValidatorRotationPlan {
  /** N before the rotation. */
  validators: number;
  steps: ValidatorRotationPlanStep[];
}

/**
 * The steps of a validator key rotation and their quorum arithmetic, assuming every node answers:
 * allowlist the new enode everywhere (rolling restart), vote the new key in, move the node onto
 * it, vote the old key out, then drop the old enode from the allowlists (rolling restart).
 * @param input - the node, the current set, old and new address
 * @returns the plan; `pause` marks restarts that stop block production until the node is back
 * @example
 * const plan = planValidatorRotation({ node: 'pds', validators, oldAddress, newAddress });
 * plan.steps.find((step) => step.id === 'vote-in')!.votesNeeded; // floor(N/2) + 1
 */
export function planValidatorRotation(input: ValidatorRotationPlanInput): ValidatorRotationPlan {
  const n = input.validators.length;
  const others = input.validators.filter((validator) => validator.address !== input.oldAddress);
  const everyone = input.validators.map((validator) => validator.node);
  const rolling = (size: number): string | undefined =>
    size - 1 < bftQuorum(size)
      ? `each validator's restart leaves ${size - 1} of ${size} online, ${bftQuorum(size)} needed: blocks pause until it is back`
      : undefined;
  const step = (
    id: ValidatorRotationStep,
    action: string,
    setSize: number,
    setSizeAfter: number,
    onlineAfter: number,
    extra: Partial<ValidatorRotationPlanStep> = {},
  ): ValidatorRotationPlanStep => ({
    id,
    action,
    setSize,
    quorum: bftQuorum(setSize),
    onlineAfter,
    setSizeAfter,
    quorumAfter: bftQuorum(setSizeAfter),
    ...extra,
  });
  const moving = n - 1 < bftQuorum(n + 1);
  return {
    validators: n,
    steps: [
      step(
        'allowlists',
        `allowlist ${input.node}'s new enode beside the old on every node, restarting them one at a time`,
        n,
        n,
        n,
        pauseOf(rolling(n)),
      ),
      step('vote-in', `vote ${input.newAddress} in and wait until it is a validator`, n, n + 1, n, {
        votesNeeded: votesNeeded(n),
        voters: everyone,
      }),
      step(
        'move',
        `put the new key into ${input.node}'s folder and restart it on it`,
        n + 1,
        n + 1,
        n,
        pauseOf(
          moving
            ? `while ${input.node} restarts, ${n - 1} of ${n + 1} validators are online, ${bftQuorum(n + 1)} needed: blocks pause until it runs on the new key`
            : undefined,
        ),
      ),
      step('vote-out', `vote ${input.oldAddress} out and wait until it is gone`, n + 1, n, n, {
        votesNeeded: votesNeeded(n + 1),
        voters: [...others.map((validator) => validator.node), input.node],
      }),
      step(
        'finish',
        `drop ${input.node}'s old enode from every allowlist, restarting the nodes one at a time`,
        n,
        n,
        n,
        pauseOf(rolling(n)),
      ),
    ],
  };
}

function pauseOf(pause: string | undefined): Partial<ValidatorRotationPlanStep> {
  return pause ? { pause } : {};
}

/** What a quorum check found before a step. */
export interface QuorumAssessment {
  ok: boolean;
  /** The arithmetic in words, e.g. `after vote-in: 3 of 5 validators online, ceil(2·5/3) = 4 needed`. */
  text: string;
}

/**
 * Whether a step may run: the validators online after it must reach ceil(2N/3) of the set after it.
 * @param step - the step's name
 * @param online - validators online once the step is done
 * @param setSize - the set's size once the step is done
 */
export function assessQuorum(step: string, online: number, setSize: number): QuorumAssessment {
  const quorum = bftQuorum(setSize);
  return {
    ok: online >= quorum,
    text: `after ${step}: ${online} of ${setSize} validators online, ceil(2·${setSize}/3) = ${quorum} needed`,
  };
}

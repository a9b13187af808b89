import { mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { ErrorCodes, InputError, RefusedError, RemoteError } from '../errors.js';
import { MachinePool, workspaceConnector, type MachineConnector } from '../deploy/machines.js';
import { readDeployState, writeDeployState, type DeployState } from '../deploy/state.js';
import {
  FOLDER_HASH_FILE,
  machineName,
  nodeTargets,
  withTargetDefaults,
  type TargetOptions,
} from '../deploy/targets.js';
import { sortValidators } from '../genesis/build.js';
import { decodeExtraData } from '../genesis/extra-data.js';
import { randomKeySource, type KeySource } from '../keys/key-source.js';
import { encryptAccountKeys } from '../keys/keystore.js';
import {
  addressFromPublicKey,
  formatNodeKeyFile,
  identityFromPrivateKey,
  normalisePublicKey,
  parseNodeKeyFile,
  type NodeIdentity,
} from '../keys/node-key.js';
import { renderWorkspace } from '../render/render-workspace.js';
import { parseSpec } from '../spec/load.js';
import type { NetworkSpec } from '../spec/types.js';
import { releasingOnFailure, type Step } from '../steps.js';
import { diffAgainstDisk } from '../workspace/expected.js';
import {
  ARCHIVE_DIR,
  ROTATE_STATE_FILE,
  ROTATION_DIR,
  SPEC_FILE,
  archiveStamp,
  nodeKeyFile,
} from '../workspace/layout.js';
import { chooseKeystorePassword, type SuppliedSecret } from '../workspace/password.js';
import { formatProblem, readOptional, readWorkspace, type WorkspaceState } from '../workspace/read.js';
import { readKeyRotations, writeKeyRotations } from '../workspace/rotations.js';
import { completeAccounts, completeIdentities } from '../workspace/validate.js';
import { applyWorkspaceChanges } from '../workspace/write.js';
import type { SshAuth } from '../../io/ssh.js';
import { RotationNetwork, describeObservation, sleep } from './network.js';
import {
  ROTATION_ORDERS,
  ROTATION_ORDER_STEPS,
  planValidatorRotation,
  votesNeeded,
  type RotationOrder,
  type TightestMoment,
  type ValidatorRotationPlan,
  type ValidatorRotationPlanStep,
  type ValidatorRotationStep,
} from './plan.js';
import {
  clearRotationState,
  readRotationState,
  writeRotationState,
  type RecordedProposal,
  type RotationState,
  type ValidatorRotationState,
} from './state.js';

/** Options of {@link prepareValidatorRotation}. */
export interface ValidatorRotationOptions {
  dir: string;
  /** The validator node whose key is rotated. */
  node: string;
  /** An HSM-held identity: its public key (128 hex); no key is generated or uploaded. */
  publicKey?: string;
  /** Print the plan from the workspace and the record; connect to nothing, write nothing. */
  dryRun: boolean;
  auth: SshAuth | undefined;
  acceptNewHostKey: boolean;
  /** The workspace's keystore password: the old key is archived encrypted with it. */
  password: SuppliedSecret | undefined;
  /** How long a node may take to come back or a vote to apply (default 180 s). */
  timeoutMs?: number;
  /** Time between probes (default 1 s). */
  pollIntervalMs?: number;
  systemdUnitDir?: string;
  dockerSocket?: string;
  connector?: MachineConnector;
  keySource?: KeySource;
  signal?: AbortSignal;
}

/** One step of a rotation as reported. */
export interface RotationStepReport {
  id: string;
  action: string;
  /** A run: done now, or already done by an earlier run. A dry run: would run, or already done. */
  outcome: 'done' | 'already done' | 'would run';
  detail?: string;
  /** The quorum arithmetic the step is checked against (validator rotations). */
  quorum?: {
    setSize: number;
    setSizeAfter: number;
    quorumAfter: number;
    /** The moment of the step with the fewest validators online, and the quorum then. */
    tightest: TightestMoment;
    votesNeeded?: number;
    voters?: string[];
  };
}

/** What a rotation did, or would do. */
export interface RotateKeyResult {
  dir: string;
  network: string;
  kind: 'validator' | 'account';
  /** The node, `minter`, or `admin:<organisation>`. */
  subject: string;
  dryRun: boolean;
  oldAddress: string;
  /** Null in a dry run that has no new key yet (it is generated when the rotation starts). */
  newAddress: string | null;
  /** Validators before the rotation (validator rotations). */
  validators?: number;
  /** The order of a validator rotation: new key in first, or old key out first. */
  order?: RotationOrder;
  /** Why that order, with the quorum arithmetic of both. */
  orderReason?: string;
  steps: RotationStepReport[];
  /** Where the old key was archived, encrypted (workspace-relative). */
  archivedKey: string | null;
  /** The progress record while a rotation is under way; null once complete or in a dry run. */
  stateFile: string | null;
  warnings: string[];
}

/** The context the steps share; `result` is set by the last one. */
export interface RotateKeyContext {
  result?: RotateKeyResult;
}

interface Run {
  options: ValidatorRotationOptions;
  dir: string;
  workspace: WorkspaceState;
  spec: NetworkSpec;
  state: ValidatorRotationState;
  deployState: DeployState;
  network: RotationNetwork;
  targetOptions: TargetOptions;
  /** The plan for the validators found online; set by the first step. */
  plan: ValidatorRotationPlan;
  /** The order followed; set by the first step. */
  order: RotationOrder;
  reports: RotationStepReport[];
  warnings: string[];
  /** The validator nodes and the address each had before the rotation. */
  validators: { node: string; address: string }[];
}

/**
 * Builds the steps that rotate a validator's node key through IBFT 2.0 voting: allowlist the new
 * enode on every node, then in-first (vote the new key in on the validators with
 * `ibft_proposeValidatorVote`, move the node onto it, vote the old key out) or out-first (vote the
 * old key out, move the node while it is no validator, vote the new key in), whichever keeps
 * ceil(2N/3) of the validators online at every step (in-first when both do), discard the votes,
 * and drop the old enode. The first step probes the validators, chooses the order (a resumed
 * rotation follows the one it recorded) and refuses when none keeps the quorum; before every step
 * the validators are probed again and the step is refused when fewer than ceil(2N/3) of the set of
 * its tightest moment would be online, or when validators hold votes this rotation did not make.
 * Progress and the order are recorded in `rotate-state.json` after every step, so a re-run resumes.
 * @param options - workspace, node, SSH login, secrets, limits
 * @returns the steps for a renderer and the context whose `result` the last step sets
 * @throws InputError for a node that is not a validator, or a workspace with key problems;
 *   RefusedError when another rotation is under way — before anything is touched
 * @example
 * const { steps, context } = await prepareValidatorRotation({ dir, node: 'pds', dryRun: true, ... });
 * await runSteps(steps, context);
 */
export async function prepareValidatorRotation(
  options: ValidatorRotationOptions,
): Promise<{ steps: Step<RotateKeyContext>[]; context: RotateKeyContext }> {
  const dir = resolve(options.dir);
  const workspace = await readWorkspace(dir);
  const { spec } = workspace;
  const node = spec.nodes.find((candidate) => candidate.name === options.node);
  if (!node || node.role !== 'validator') {
    const names = spec.nodes.filter((candidate) => candidate.role === 'validator').map((n) => n.name);
    throw new InputError(
      ErrorCodes.FLAG_INVALID,
      `--node: expected a validator node (${names.join(', ')}), found "${options.node}"`,
    );
  }
  const recorded = await readRotationState(dir);
  refuseOtherRotation(
    recorded,
    `validator ${node.name}`,
    (state) => state.kind === 'validator' && state.node === node.name,
  );
  const resumed = recorded as ValidatorRotationState | undefined;
  const identities = completeIdentities(workspace);
  if (!identities || (workspace.problems.length > 0 && !resumed)) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      `Cannot rotate keys in ${dir}: its keys have problems`,
      {
        details: workspace.problems.map(formatProblem),
        hint: 'Run `peruri-chain validate` and fix what it lists first.',
      },
    );
  }
  const validatorNodes = spec.nodes.filter((candidate) => candidate.role === 'validator');
  const oldIdentity = resumed ? resumed.old : identities[node.name]!;
  const validators = validatorNodes.map((candidate) => ({
    node: candidate.name,
    address: candidate.name === node.name ? oldIdentity.address : identities[candidate.name]!.address,
  }));
  const requested = options.publicKey ? normalisePublicKey(options.publicKey, '--public-key') : undefined;
  if (resumed && requested && requested !== resumed.new.publicKey) {
    throw new InputError(
      ErrorCodes.FLAG_INVALID,
      `--public-key differs from the key of the rotation under way (${resumed.new.address})`,
      { hint: `Re-run without --public-key to resume it; it is recorded in ${ROTATE_STATE_FILE}.` },
    );
  }
  const knownNew = resumed ? resumed.new.address : requested ? addressFromPublicKey(requested) : null;
  if (knownNew && validators.some((validator) => validator.address === knownNew) && !resumed) {
    throw new InputError(ErrorCodes.KEY_INVALID, `--public-key is already the key of a validator`);
  }
  const planFor = (offline: readonly string[]) =>
    planValidatorRotation({
      node: node.name,
      validators,
      oldAddress: oldIdentity.address,
      newAddress: knownNew ?? '(new key)',
      offline,
      ...(resumed ? { order: resumed.order ?? 'in-first' } : {}),
    });
  // The dry run connects to nothing, so it plans as if every validator were online.
  const plan = planFor([]);
  const done = new Set(resumed?.done ?? []);
  const context: RotateKeyContext = {};

  if (options.dryRun) {
    if (!plan.order) throw noOrder(plan, []);
    return {
      context,
      steps: [
        {
          title: 'Plan the rotation (dry run: nothing is touched)',
          run: (ctx) => {
            ctx.result = {
              dir,
              network: spec.name,
              kind: 'validator',
              subject: node.name,
              dryRun: true,
              oldAddress: oldIdentity.address,
              newAddress: knownNew,
              validators: validators.length,
              order: plan.order,
              orderReason: plan.reason,
              steps: plan.steps.map((step) => report(step, done.has(step.id) ? 'already done' : 'would run')),
              archivedKey: resumed?.archivedKey ?? null,
              stateFile: null,
              warnings: [
                ...workspace.specWarnings,
                ...(resumed
                  ? [`A rotation of ${node.name} is under way (${ROTATE_STATE_FILE}); a run resumes it.`]
                  : []),
                // Only a recorded order can hold such steps: a chosen one has none.
                ...plan.steps
                  .filter((step) => step.problem && !done.has(step.id))
                  .map((step) => `${step.id}: ${step.problem!}; a run refuses this step.`),
              ],
            };
          },
        },
      ],
    };
  }

  if (!options.auth) {
    throw new InputError(ErrorCodes.SECRET_MISSING, 'No SSH login was given', {
      hint: 'Pass --ssh-key-file or start ssh-agent.',
    });
  }
  // The old key is archived encrypted: without the password nothing may start.
  const password = await chooseKeystorePassword(spec, options.password, dir);
  if (password.generated) {
    throw new InputError(ErrorCodes.SECRET_MISSING, 'No keystore password to archive the old node key with', {
      hint: 'Set PERURI_CHAIN_KEYSTORE_PASSWORD or pass --keystore-password-file FILE with the workspace password.',
    });
  }
  const targetOptions = withTargetDefaults(options);
  const connector = workspaceConnector(dir, options);
  const pollMs = options.pollIntervalMs ?? 1_000;
  const network = new RotationNetwork(
    new MachinePool(connector, options.dockerSocket),
    await nodeTargets(spec, dir, targetOptions),
    {
      timeoutMs: options.timeoutMs ?? 180_000,
      pollMs,
      blockWaitMs: Math.max(5_000, spec.consensus.blockPeriodSeconds * 3_000),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const run: Run = {
    options,
    dir,
    workspace,
    spec,
    // Set by the first step (a new key is made only once the steps run).
    state: resumed ?? (undefined as unknown as ValidatorRotationState),
    deployState: await readDeployState(dir, spec.name, spec.chainId),
    network,
    targetOptions,
    plan,
    order: plan.order ?? 'in-first',
    reports: [],
    warnings: [...workspace.specWarnings],
    validators,
  };
  const runStep = (id: ValidatorRotationStep, order?: RotationOrder): Step<RotateKeyContext> => {
    const action = plan.orders[order ?? 'in-first'].steps.find((step) => step.id === id)!.action;
    return {
      title: order ? `${id} (${order}): ${action}` : action,
      run: async () => {
        const planned = run.plan.steps.find((step) => step.id === id)!;
        if (run.state.done.includes(id)) {
          run.reports.push(report(planned, 'already done'));
          return;
        }
        const detail = await STEP_BODIES[id](run);
        if (id !== 'finish') {
          run.state.done.push(id);
          await writeRotationState(dir, run.state);
        }
        run.reports.push(report(planned, 'done', detail));
      },
      ...(order ? { skip: () => (run.order === order ? false : `this rotation runs ${run.order}`) } : {}),
    };
  };
  const steps: Step<RotateKeyContext>[] = [
    {
      title: `Connect to ${[...new Set(network.targets.map((target) => machineName(target.machine)))].join(', ')}; check pending votes and quorum`,
      run: async () => {
        for (const target of network.targets) await network.pool.get(target.machine);
        await refuseForeignVotes(run, resumed?.proposals ?? []);
        // Choose the order (or follow the recorded one) for the validators online now, and refuse
        // before anything changes if no step left to run can keep a quorum online.
        const moved = resumed?.done.includes('move') ?? false;
        const observation = await network.observe((name) =>
          name === node.name && moved
            ? resumed!.new.address
            : validators.find((validator) => validator.node === name)!.address,
        );
        network.requireProducing('the rotation', observation);
        const offline = validators
          .map((validator) => validator.node)
          .filter((name) => !observation.online.has(name));
        run.plan = planFor(offline);
        if (!run.plan.order) throw noOrder(run.plan, describeObservation(observation));
        run.order = run.plan.order;
        const left = run.plan.steps.filter((step) => step.problem && !done.has(step.id));
        if (left.length > 0) {
          throw new RefusedError(
            ErrorCodes.QUORUM_AT_RISK,
            `Refused: the ${run.order} rotation under way cannot keep ceil(2N/3) of the validators online at every step left`,
            {
              details: [
                ...describeObservation(observation),
                ...left.map((step) => `${step.id}: ${step.problem!}`),
              ],
              hint: 'Bring the offline validators back (`peruri-chain status` shows them) and re-run rotate-key; it resumes here.',
            },
          );
        }
      },
    },
    {
      title: resumed
        ? `Resume the rotation of ${node.name} (done: ${[...done].join(', ') || 'nothing'})`
        : `Make the new key of ${node.name}`,
      run: async () => {
        if (!resumed) run.state = await startRotation(run, node.name, oldIdentity, requested, run.order);
      },
    },
    runStep('allowlists'),
    // Both orders' middle steps are listed; the order chosen by the first step skips the others.
    ...ROTATION_ORDERS.flatMap((order) =>
      ROTATION_ORDER_STEPS[order].slice(1, -1).map((id) => runStep(id, order)),
    ),
    runStep('finish'),
    {
      title: 'Close the connections',
      run: async (ctx) => {
        await network.close();
        ctx.result = {
          dir,
          network: spec.name,
          kind: 'validator',
          subject: node.name,
          dryRun: false,
          oldAddress: run.state.old.address,
          newAddress: run.state.new.address,
          validators: validators.length,
          order: run.order,
          orderReason: run.plan.reason,
          steps: run.reports,
          archivedKey: run.state.archivedKey ?? null,
          stateFile: null,
          warnings: run.warnings,
        };
      },
    },
  ];
  return { steps: releasingOnFailure(steps, () => network.close()), context };
}

function report(
  step: ValidatorRotationPlanStep,
  outcome: RotationStepReport['outcome'],
  detail?: string,
): RotationStepReport {
  return {
    id: step.id,
    action: step.action,
    outcome,
    ...(detail ? { detail } : {}),
    quorum: {
      setSize: step.setSize,
      setSizeAfter: step.setSizeAfter,
      quorumAfter: step.quorumAfter,
      tightest: step.tightest,
      ...(step.votesNeeded !== undefined ? { votesNeeded: step.votesNeeded } : {}),
      ...(step.voters ? { voters: step.voters } : {}),
    },
  };
}

/** The refusal when neither order keeps a quorum online at every step, with both orders' arithmetic. */
function noOrder(plan: ValidatorRotationPlan, found: string[]): RefusedError {
  return new RefusedError(
    ErrorCodes.QUORUM_AT_RISK,
    `Refused: neither order of the rotation keeps ceil(2N/3) of the ${plan.validators} validators online at every step`,
    {
      details: [
        ...found,
        ...ROTATION_ORDERS.map((order) => `${order}: ${plan.orders[order].problems.join('; ')}`),
      ],
      hint: 'Bring the offline validators back (`peruri-chain status` shows them) and re-run rotate-key. With fewer than three validators no restart keeps the chain producing blocks.',
    },
  );
}

/**
 * Refuses when a rotation other than the one asked for is under way.
 * @param recorded - the record, if any
 * @param asked - the rotation asked for, in words
 * @param same - whether the record is that rotation
 */
export function refuseOtherRotation(
  recorded: RotationState | undefined,
  asked: string,
  same: (state: RotationState) => boolean,
): void {
  if (!recorded || same(recorded)) return;
  const under =
    recorded.kind === 'validator'
      ? `the validator key of ${recorded.node}`
      : `the ${recorded.account}${recorded.organisation ? ` of ${recorded.organisation}` : ''} account`;
  throw new RefusedError(
    ErrorCodes.ROTATION_IN_PROGRESS,
    `A rotation of ${under} is under way; ${asked} must wait until it is complete`,
    {
      hint: `Finish it first: re-run the same rotate-key command (it resumes from ${ROTATE_STATE_FILE}).`,
    },
  );
}

async function startRotation(
  run: Run,
  nodeName: string,
  old: NodeIdentity,
  publicKey: string | undefined,
  order: RotationOrder,
): Promise<ValidatorRotationState> {
  const { dir, spec } = run;
  let identity: NodeIdentity;
  let keyFile: string | null = null;
  if (publicKey) {
    identity = { publicKey, address: addressFromPublicKey(publicKey) };
  } else {
    const privateKey = (run.options.keySource ?? randomKeySource).nodeKey(nodeName);
    identity = identityFromPrivateKey(privateKey);
    keyFile = `${ROTATION_DIR}/${nodeName}/key`;
    await mkdir(join(dir, ROTATION_DIR, nodeName), { recursive: true, mode: 0o700 });
    await chmod(join(dir, ROTATION_DIR), 0o700);
    await writeFile(join(dir, keyFile), formatNodeKeyFile(privateKey), { mode: 0o600 });
    await chmod(join(dir, keyFile), 0o600);
  }
  // Genesis is history: record the validators it holds before any key changes.
  const rotations = await readKeyRotations(dir);
  if (!rotations) {
    const genesis = JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8')) as { extraData: string };
    await writeKeyRotations(dir, {
      version: 1,
      genesisValidators: sortValidators(decodeExtraData(genesis.extraData).validators),
      rotations: [],
    });
  }
  const state: ValidatorRotationState = {
    version: 1,
    kind: 'validator',
    network: spec.name,
    chainId: spec.chainId,
    node: nodeName,
    old: { address: old.address, publicKey: old.publicKey },
    new: { address: identity.address, publicKey: identity.publicKey, keyFile },
    order,
    done: [],
    proposals: [],
    startedAt: new Date().toISOString(),
  };
  await writeRotationState(dir, state);
  return state;
}

async function refuseForeignVotes(run: Run, ours: readonly RecordedProposal[]): Promise<void> {
  const names = run.network.validators.map((target) => target.node.name);
  const { foreign, unasked } = await run.network.foreignVotes(ours, names);
  if (foreign.length > 0) {
    throw new RefusedError(
      ErrorCodes.VOTES_PENDING,
      `Validators hold ${foreign.length} pending vote(s) that this rotation did not make; nothing was voted`,
      {
        details: foreign,
        hint: 'Only one validator change may be pending at a time: let the other change complete, or discard it with ibft_discardValidatorVote on those nodes, then re-run.',
      },
    );
  }
  for (const name of unasked) {
    const warning = `${name} did not answer ibft_getPendingVotes; its own pending votes are unknown.`;
    if (!run.warnings.includes(warning)) run.warnings.push(warning);
  }
}

/** The address each validator node runs with at this point of the rotation. */
function addressOf(run: Run): (node: string) => string {
  const moved = run.state.done.includes('move');
  return (node) =>
    node === run.state.node
      ? moved
        ? run.state.new.address
        : run.state.old.address
      : run.validators.find((validator) => validator.node === node)!.address;
}

/** Validators of `set` that are online, by address. */
function onlineIn(set: string[], online: Map<string, string>): string[] {
  return [...online.values()].filter((address) => set.includes(address));
}

/** Re-renders the workspace for this point of the rotation and writes what changed. */
async function renderForStage(run: Run, transitional: boolean): Promise<void> {
  const workspace = await readWorkspace(run.dir);
  const identities = completeIdentities(workspace);
  const accounts = completeAccounts(workspace);
  if (!identities || !accounts) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      `The workspace ${run.dir} lost a key during the rotation`,
      {
        details: workspace.problems.map(formatProblem),
        hint: 'Restore the listed keys, then re-run rotate-key; it resumes.',
      },
    );
  }
  const { node, old, new: fresh } = run.state;
  const other = identities[node]!.address === old.address ? fresh : old;
  const files = renderWorkspace({
    spec: workspace.spec,
    workspaceDir: run.dir,
    nodeIdentities: identities,
    accounts,
    ...(workspace.genesisValidators ? { genesisValidators: workspace.genesisValidators } : {}),
    ...(transitional
      ? { transitionalIdentities: { [node]: { address: other.address, publicKey: other.publicKey } } }
      : {}),
  });
  const diff = await diffAgainstDisk(run.dir, files);
  const changes = new Map([...diff.created, ...diff.updated].map((path) => [path, files.get(path)!]));
  await applyWorkspaceChanges(run.dir, changes, []);
  run.workspace = workspace;
}

/** Puts every node's folder on its machine, one node at a time, each back before the next. */
async function rollOut(run: Run): Promise<string> {
  const { network } = run;
  network.targets = await nodeTargets(run.spec, run.dir, run.targetOptions);
  let restarted = 0;
  for (const target of network.targets) {
    const recorded = run.deployState.nodes[target.node.name];
    const access = await network.access(target);
    const marker = `${target.dir}/${FOLDER_HASH_FILE}`;
    const current = (await access.machine.exists(marker))
      ? (await access.machine.readFile(marker)).toString('utf8').trim()
      : undefined;
    if (current === target.folderHash && recorded?.folderHash === target.folderHash) continue;
    if (target.node.role === 'validator') {
      const observation = await network.observe(addressOf(run));
      const online = onlineIn(observation.set, observation.online);
      // While it restarts, the others of the set as it is now must make blocks on their own.
      const counted = online.includes(addressOf(run)(target.node.name)) ? 1 : 0;
      network.requireQuorum(`restarting ${target.node.name}`, observation, {
        when: `while ${target.node.name} restarts`,
        setSize: observation.set.length,
        online: online.length - counted,
      });
    }
    const outcome = await network.deployNode(target, run.deployState);
    await writeDeployState(run.dir, run.deployState);
    if (outcome === 'changed') {
      restarted++;
      await network.waitForNode(target);
    }
  }
  return `${restarted} node(s) restarted`;
}

async function vote(run: Run, subject: string, add: boolean): Promise<string> {
  const { network, state } = run;
  const observation = await network.observe(addressOf(run));
  const present = observation.set.includes(subject);
  const names = run.network.validators.map((target) => target.node.name);
  if (present !== add) {
    await refuseForeignVotes(run, state.proposals);
    const setAfter = add
      ? [...observation.set, subject]
      : observation.set.filter((address) => address !== subject);
    // Online after the vote: the running keys of the new set (in-first's new key does not run yet;
    // out-first's does, and its old key stops counting once it is out).
    const onlineAfter = onlineIn(setAfter, observation.online);
    network.requireQuorum(add ? 'vote-in' : 'vote-out', observation, {
      when: add ? 'once the new key is in' : 'once the old key is out',
      setSize: setAfter.length,
      online: onlineAfter.length,
    });
    // The voters are the online validators of the set the vote is cast in (a key may vote itself out).
    const voters = [...observation.online.entries()]
      .filter(([, address]) => observation.set.includes(address))
      .map(([name]) => name);
    const needed = votesNeeded(observation.set.length);
    if (voters.length < needed) {
      throw new RefusedError(
        ErrorCodes.QUORUM_AT_RISK,
        `Refused before ${add ? 'vote-in' : 'vote-out'}: ${voters.length} validator(s) online to vote, floor(${observation.set.length}/2)+1 = ${needed} votes needed`,
        {
          details: describeObservation(observation),
          hint: 'A vote that cannot pass would stay pending: bring the offline validators back and re-run rotate-key; it resumes here.',
        },
      );
    }
    // Recorded before the first call, so a re-run after a crash knows these votes as its own.
    const proposal = state.proposals.find((entry) => entry.subject === subject && entry.add === add);
    if (proposal) proposal.nodes = [...new Set([...proposal.nodes, ...voters])];
    else state.proposals.push({ subject, add, nodes: voters });
    await writeRotationState(run.dir, state);
    for (const name of voters) await network.call(name, 'ibft_proposeValidatorVote', [subject, add]);
    await network.waitForSet(
      `${add ? 'add' : 'remove'} ${subject}`,
      (set) => set.includes(subject) === add,
      names,
    );
  }
  // Discard on every node a proposal was made on, so none of ours stays pending.
  const proposal = state.proposals.find((entry) => entry.subject === subject && entry.add === add);
  const left: string[] = [];
  for (const name of proposal?.nodes ?? []) {
    try {
      await network.call(name, 'ibft_discardValidatorVote', [subject]);
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      left.push(name);
    }
  }
  if (left.length > 0) {
    throw new RemoteError(ErrorCodes.REMOTE_FAILED, `Could not discard the vote on ${left.join(', ')}`, {
      command: 'ibft_discardValidatorVote',
      hint: 'Re-run rotate-key once those nodes answer; it discards the remaining votes and goes on.',
    });
  }
  state.proposals = state.proposals.filter((entry) => entry !== proposal);
  await writeRotationState(run.dir, state);
  return present === add
    ? `already ${add ? 'a validator' : 'gone'}`
    : `voted on ${proposal?.nodes.join(', ') ?? 'no node'}, discarded afterwards`;
}

async function moveNode(run: Run): Promise<string> {
  const { dir, state, network } = run;
  const observation = await network.observe(addressOf(run));
  network.requireProducing('move', observation);
  if (run.order === 'in-first' && !observation.set.includes(state.new.address)) {
    throw new RefusedError(
      ErrorCodes.VOTE_NOT_APPLIED,
      `${state.new.address} is not a validator: the node is not moved`,
      {
        hint: 'Re-run rotate-key; it votes the new key in again.',
      },
    );
  }
  if (run.order === 'out-first' && observation.set.includes(state.old.address)) {
    throw new RefusedError(
      ErrorCodes.VOTE_NOT_APPLIED,
      `${state.old.address} is still a validator: the node is not moved`,
      {
        hint: 'Re-run rotate-key; it votes the old key out again.',
      },
    );
  }
  // While the node restarts neither of its keys runs: the other validators must make the blocks.
  const others = onlineIn(observation.set, observation.online).filter(
    (address) => address !== state.old.address && address !== state.new.address,
  );
  network.requireQuorum('move', observation, {
    when: `while ${state.node} restarts`,
    setSize: observation.set.length,
    online: others.length,
  });
  const keyPath = join(dir, nodeKeyFile(state.node));
  const current = await readOptional(keyPath);
  const currentAddress = current
    ? identityFromPrivateKey(parseNodeKeyFile(current, nodeKeyFile(state.node))).address
    : undefined;
  if (currentAddress !== state.new.address) {
    if (current !== undefined && currentAddress === state.old.address) {
      state.archivedKey = await archiveOldKey(run, current);
      await writeRotationState(dir, state);
    }
    if (state.new.keyFile) {
      const fresh = await readFile(join(dir, state.new.keyFile), 'utf8');
      await applyWorkspaceChanges(
        dir,
        new Map([[nodeKeyFile(state.node), { content: fresh, mode: 0o600, secret: true }]]),
        [],
      );
    } else {
      await rm(keyPath, { force: true });
    }
    await setSpecPublicKey(run, state.new.publicKey);
  }
  await renderForStage(run, true);
  network.targets = await nodeTargets(run.spec, dir, run.targetOptions);
  const target = network.target(state.node);
  await network.deployNode(target, run.deployState);
  await writeDeployState(dir, run.deployState);
  await network.waitForNode(target);
  return await confirmIdentity(run);
}

// Besu's admin_nodeInfo gives the node's public key as `id`: proof that it runs on the new key.
// An HSM-held key is given to the node by its operator, so the move waits (up to the timeout) for
// the node to report it, then for the node to make blocks again after that restart.
async function confirmIdentity(run: Run): Promise<string> {
  const { state, network } = run;
  const hsm = !state.new.keyFile;
  const deadline = Date.now() + network.timing.timeoutMs;
  let id = '';
  for (;;) {
    let info: { id?: unknown } | null;
    try {
      info = await network.call<{ id?: unknown } | null>(state.node, 'admin_nodeInfo');
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      if (!hsm) {
        run.warnings.push(
          `${state.node}: admin_nodeInfo did not answer, so its new identity could not be confirmed.`,
        );
        return 'restarted on the new key';
      }
      info = null;
    }
    id = String(info?.id ?? '')
      .replace(/^0x/, '')
      .toLowerCase();
    if (id === state.new.publicKey) break;
    if (!hsm || Date.now() > deadline) {
      throw new RemoteError(
        ErrorCodes.NODE_UNHEALTHY,
        `${state.node} runs with node id ${id ? `${id.slice(0, 16)}…` : 'unknown'}, not the new key ${state.new.publicKey.slice(0, 16)}…`,
        {
          command: 'admin_nodeInfo',
          hint: hsm
            ? 'Give the node its HSM-held key and restart it, then re-run rotate-key; it resumes at the move.'
            : 'Check the key file in the node folder on its machine, then re-run rotate-key.',
        },
      );
    }
    await sleep(network.timing.pollMs, network.timing.signal);
  }
  if (hsm) await network.waitForNode(network.target(state.node));
  return 'restarted on the new key (admin_nodeInfo confirms it)';
}

async function archiveOldKey(run: Run, keyText: string): Promise<string> {
  const password = await chooseKeystorePassword(run.spec, run.options.password, run.dir);
  const privateKey = parseNodeKeyFile(keyText, nodeKeyFile(run.state.node));
  const { key } = await encryptAccountKeys({ key: privateKey }, password.value, password.strength);
  const relative = join(ARCHIVE_DIR, archiveStamp(), 'nodes', run.state.node, 'key.json');
  const target = join(run.dir, relative);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  await chmod(join(run.dir, ARCHIVE_DIR), 0o700);
  await writeFile(target, key!.json, { mode: 0o600 });
  await chmod(target, 0o600);
  return relative;
}

// Only a node that names its publicKey in network.yaml has one to change; an HSM-held new key
// (no key file) must be named there.
async function setSpecPublicKey(run: Run, publicKey: string): Promise<void> {
  const specPath = join(run.dir, SPEC_FILE);
  const text = await readFile(specPath, 'utf8');
  const document = parseDocument(text);
  const nodes = document.get('nodes');
  const item = (isSeq(nodes) ? nodes.items.filter(isMap) : []).find(
    (entry) => entry.get('name') === run.state.node,
  );
  if (!item) return;
  const existing = item.get('publicKey', true);
  let edited: string;
  if (isScalar(existing) && existing.range) {
    edited = `${text.slice(0, existing.range[0])}0x${publicKey}${text.slice(existing.range[1])}`;
  } else if (!run.state.new.keyFile) {
    item.set('publicKey', `0x${publicKey}`);
    // One line: a 130-character key folded over two is hard to read and to grep.
    edited = document.toString({ lineWidth: 0 });
  } else {
    return;
  }
  parseSpec(edited, SPEC_FILE);
  await applyWorkspaceChanges(
    run.dir,
    new Map([[SPEC_FILE, { content: edited, mode: 0o644, secret: false }]]),
    [],
  );
  run.spec = parseSpec(edited, SPEC_FILE).spec;
}

async function finish(run: Run): Promise<string> {
  await renderForStage(run, false);
  const detail = await rollOut(run);
  const record = (await readKeyRotations(run.dir))!;
  record.rotations.push({
    kind: 'validator',
    subject: run.state.node,
    from: run.state.old.address,
    to: run.state.new.address,
    completedAt: new Date().toISOString(),
  });
  await writeKeyRotations(run.dir, record);
  await rm(join(run.dir, ROTATION_DIR, run.state.node), { recursive: true, force: true });
  await clearRotationState(run.dir);
  return detail;
}

const STEP_BODIES: Record<ValidatorRotationStep, (run: Run) => Promise<string>> = {
  allowlists: async (run) => {
    await renderForStage(run, true);
    return rollOut(run);
  },
  'vote-in': (run) => vote(run, run.state.new.address, true),
  move: moveNode,
  'vote-out': (run) => vote(run, run.state.old.address, false),
  finish,
};

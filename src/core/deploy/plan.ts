import type { DeployState, DeployedFolder } from './state.js';
import { machineName, type FolderTarget, type NodeTarget } from './targets.js';

/** Which part of the deployment to do (`--only`); `all` does every part in order. */
export type DeployScope = 'all' | 'nodes' | 'contracts' | 'adapter';

/** The kinds of step, in the order a full deployment runs them. */
export type DeployStepKind =
  'node-folder' | 'node-runtime' | 'health' | 'contracts' | 'adapter-folder' | 'adapter-runtime';

/** What a step is expected to do, judged from the workspace and the state record alone. */
export type PlannedChange = 'change' | 'no change' | 'check';

/** One step of the plan. */
export interface PlannedStep {
  /** Stable id, e.g. `node-folder:peruri`. */
  id: string;
  kind: DeployStepKind;
  /** A node name, `network`, `contracts` or `adapter`. */
  subject: string;
  /** `host` or `host:port` of the machine it acts on (the tx node's for the contracts). */
  machine: string;
  /** What it does, in words. */
  action: string;
  expected: PlannedChange;
}

/** Inputs of {@link planDeploy}: the targets derived from the workspace, and the record. */
export interface PlanInput {
  scope: DeployScope;
  nodes: readonly NodeTarget[];
  adapter: FolderTarget | undefined;
  state: DeployState;
  /** Whether deployments.json records all three contracts on this chain. */
  contractsRecorded: boolean;
  /** The node whose JSON-RPC the contracts are deployed through. */
  rpcNode: NodeTarget;
}

/**
 * The ordered steps of a deployment, as a pure function of the workspace's targets and the state
 * record: what `--dry-run` prints and what a run executes (each step still checks its machine).
 * @param input - scope, targets, record
 * @returns the steps in execution order
 * @example
 * const steps = planDeploy({ scope: 'all', nodes, adapter, state, contractsRecorded: false, rpcNode });
 * steps.filter((step) => step.expected === 'change').length; // what a run would change
 */
export function planDeploy(input: PlanInput): PlannedStep[] {
  const { scope, state } = input;
  const steps: PlannedStep[] = [];
  if (scope === 'all' || scope === 'nodes') {
    for (const target of input.nodes) {
      const name = target.node.name;
      const recorded = state.nodes[name];
      const folderCurrent = isCurrent(recorded, target);
      steps.push({
        id: `node-folder:${name}`,
        kind: 'node-folder',
        subject: name,
        machine: machineName(target.machine),
        action: `put nodes/${name} at ${target.dir}`,
        expected: folderCurrent ? 'no change' : 'change',
      });
      steps.push({
        id: `node-runtime:${name}`,
        kind: 'node-runtime',
        subject: name,
        machine: machineName(target.machine),
        action: runtimeAction(target),
        expected: folderCurrent && recorded?.runtimeHash === target.runtimeHash ? 'no change' : 'change',
      });
    }
    steps.push({
      id: 'health',
      kind: 'health',
      subject: 'network',
      machine: input.nodes.map((target) => machineName(target.machine)).join(', '),
      action: 'wait until blocks advance, peers are connected and the validator set matches the spec',
      expected: 'check',
    });
  }
  if (scope === 'all' || scope === 'contracts') {
    steps.push({
      id: 'contracts',
      kind: 'contracts',
      subject: 'contracts',
      machine: machineName(input.rpcNode.machine),
      action: `deploy or verify PointsToken, Badges and ActivityLog through ${input.rpcNode.node.name}`,
      expected: input.contractsRecorded ? 'check' : 'change',
    });
  }
  if ((scope === 'all' || scope === 'adapter') && input.adapter) {
    const target = input.adapter;
    const recorded = state.adapter;
    const folderCurrent = isCurrent(recorded, target);
    steps.push({
      id: 'adapter-folder',
      kind: 'adapter-folder',
      subject: 'adapter',
      machine: machineName(target.machine),
      action: `put service/ and ${'deployments.json'} at ${target.dir}, and the secrets in its 0600 environment file`,
      expected: folderCurrent ? 'no change' : 'change',
    });
    steps.push({
      id: 'adapter-runtime',
      kind: 'adapter-runtime',
      subject: 'adapter',
      machine: machineName(target.machine),
      action: `${runtimeAction(target)}, wait until it answers /health, and have it reload its signer if it signs with another key`,
      expected: folderCurrent && recorded?.runtimeHash === target.runtimeHash ? 'no change' : 'change',
    });
  }
  return steps;
}

function isCurrent(recorded: DeployedFolder | undefined, target: FolderTarget): boolean {
  return (
    recorded !== undefined &&
    recorded.folderHash === target.folderHash &&
    recorded.machine === machineName(target.machine) &&
    recorded.dir === target.dir
  );
}

function runtimeAction(target: FolderTarget): string {
  return target.runtime.kind === 'docker'
    ? `run container ${target.runtime.container.name} (${target.runtime.container.image})`
    : `install ${target.runtime.unitPath}, enable and start it`;
}

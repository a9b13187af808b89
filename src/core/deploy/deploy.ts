import { join, resolve } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import { DEPLOYMENTS_FILE } from '../contracts/deploy-workspace.js';
import { CONTRACT_NAMES } from '../contracts/artifacts.js';
import { parseDeploymentsRecord } from '../contracts/record.js';
import { releasingOnFailure, type Step } from '../steps.js';
import type { NetworkSpec } from '../spec/types.js';
import { DEPLOY_STATE_FILE } from '../workspace/layout.js';
import { chooseKeystorePassword, type SuppliedSecret } from '../workspace/password.js';
import { readOptional, readWorkspace } from '../workspace/read.js';
import type { SshAuth } from '../../io/ssh.js';
import { ensureAdapterFolder, ensureAdapterSigner } from './adapter-signer.js';
import { waitForAdapterHealth, waitUntilHealthy } from './health.js';
import { MachinePool, workspaceConnector, type MachineConnector } from './machines.js';
import { planDeploy, type DeployScope, type PlannedStep } from './plan.js';
import { ensureFile, ensureFolder, ensureRuntime, lastLogLines, type RuntimeAccess } from './runtime.js';
import { deployedFolder, readDeployState, writeDeployState, type DeployState } from './state.js';
import {
  adapterTarget,
  machineName,
  nodeTargets,
  type AdapterTarget,
  type FolderTarget,
  type NodeTarget,
  type TargetOptions,
  withTargetDefaults,
} from './targets.js';

/** Options of {@link prepareDeploy}. */
export interface DeployOptions {
  dir: string;
  scope: DeployScope;
  /** Print the plan from the workspace and the state record; connect to nothing, write nothing. */
  dryRun: boolean;
  /** SSH login; required unless dryRun. */
  auth: SshAuth | undefined;
  /** Record the host key of a machine met for the first time. */
  acceptNewHostKey: boolean;
  /** The account keystore password (the adapter's signer and wallet master; the contracts' deployer). */
  password: SuppliedSecret | undefined;
  /** The adapter's JWT secret (HS256), written to the service machine's 0600 environment file. */
  jwtSecret: SuppliedSecret | undefined;
  /** Health gate limit (default 180 s). */
  healthTimeoutMs?: number;
  /** Time between health probes (default 1 s). */
  pollIntervalMs?: number;
  /** Where unit files go on systemd machines (default /etc/systemd/system). */
  systemdUnitDir?: string;
  /** peruri-chain on the service machine (default /usr/local/bin/peruri-chain). */
  adapterCommand?: string;
  /** The adapter image for the docker runtime (default peruri-chain/adapter:<this version>). */
  adapterImage?: string;
  /** The Docker engine's socket on the machines (default /var/run/docker.sock). */
  dockerSocket?: string;
  /** Opens connections; the default is SSH with the workspace's known hosts (tests may pass another). */
  connector?: MachineConnector;
  /** This package's version, recorded with the adapter. */
  version: string;
  signal?: AbortSignal;
}

/** What happened in one step (or, in a dry run, is expected to). */
export interface DeployStepReport extends Omit<PlannedStep, 'expected'> {
  /** A run: changed, unchanged or checked. A dry run: would change, no change (per the record) or would check. */
  outcome: 'changed' | 'unchanged' | 'checked' | 'would change' | 'no change' | 'would check';
  detail?: string;
}

/** What {@link prepareDeploy}'s steps did, or would do. */
export interface DeployResult {
  dir: string;
  network: string;
  scope: DeployScope;
  dryRun: boolean;
  steps: DeployStepReport[];
  /** Steps that changed something on a machine (0 for a re-run after success). */
  changes: number;
  /** The state record, relative to the workspace; null for a dry run. */
  stateFile: string | null;
  warnings: string[];
}

/** The context the steps share; `result` is set by the last one. */
export interface DeployContext {
  result?: DeployResult;
}

interface Run {
  options: DeployOptions;
  dir: string;
  spec: NetworkSpec;
  state: DeployState;
  nodes: NodeTarget[];
  adapter: AdapterTarget | undefined;
  targetOptions: TargetOptions;
  pool: MachinePool;
  reports: DeployStepReport[];
  warnings: string[];
  adapterSecretsChanged: boolean;
  adapterEnv: string | undefined;
  /** The spec's validator addresses, from the workspace's keys. */
  validators: string[];
}

/**
 * Reads the workspace and the state record and builds the deployment's steps: one per planned
 * step (see {@link planDeploy}), each checking its machine before acting and recording what it
 * did in `deploy-state.json`. With `dryRun` there is a single step that reports the plan.
 * Nothing remote happens until the steps run.
 * @param options - workspace, scope, SSH login, secrets, limits
 * @returns the steps for a renderer, the plan, and the context whose `result` the last step sets
 * @throws InputError for a workspace that cannot be deployed (relative installDir, missing
 *   files or secrets) — before anything is touched
 * @example
 * const { steps, context } = await prepareDeploy({ dir, scope: 'all', dryRun: false, auth, ... });
 * await runSteps(steps, context);
 * console.log(context.result!.changes);
 */
export async function prepareDeploy(
  options: DeployOptions,
): Promise<{ steps: Step<DeployContext>[]; plan: PlannedStep[]; context: DeployContext }> {
  const dir = resolve(options.dir);
  const workspace = await readWorkspace(dir);
  const { spec } = workspace;
  const targetOptions = withTargetDefaults(options);
  const nodes = await nodeTargets(spec, dir, targetOptions);
  const withAdapter = options.scope === 'all' || options.scope === 'adapter';
  const adapter = withAdapter ? await adapterTarget(spec, dir, targetOptions) : undefined;
  const state = await readDeployState(dir, spec.name, spec.chainId);
  const rpcNode = rpcNodeOf(spec, nodes);
  const plan = planDeploy({
    scope: options.scope,
    nodes,
    adapter,
    state,
    contractsRecorded: await contractsRecorded(dir, spec.chainId),
    rpcNode,
  });
  const context: DeployContext = {};
  if (options.dryRun) {
    const steps: Step<DeployContext>[] = [
      {
        title: 'Plan the deployment (dry run: nothing is touched)',
        run: (ctx) => {
          ctx.result = {
            dir,
            network: spec.name,
            scope: options.scope,
            dryRun: true,
            steps: plan.map(({ expected, ...step }) => ({
              ...step,
              outcome:
                expected === 'change' ? 'would change' : expected === 'check' ? 'would check' : 'no change',
            })),
            changes: plan.filter((step) => step.expected === 'change').length,
            stateFile: null,
            warnings: workspace.specWarnings,
          };
        },
      },
    ];
    return { steps, plan, context };
  }

  if (!options.auth) {
    throw new InputError(ErrorCodes.SECRET_MISSING, 'No SSH login was given', {
      hint: 'Pass --ssh-key-file or start ssh-agent.',
    });
  }
  const validators = spec.nodes
    .filter((node) => node.role === 'validator')
    .map((node) => {
      const address = workspace.nodes[node.name]?.identity?.address;
      if (!address) {
        throw new InputError(
          ErrorCodes.KEY_INVALID,
          `Node ${node.name} has no usable key file or public key`,
          {
            hint: 'Run `peruri-chain validate` to see what is wrong with the workspace.',
          },
        );
      }
      return address;
    });
  const adapterEnv = adapter ? await adapterEnvironment(spec, dir, options, adapter) : undefined;
  const connector = workspaceConnector(dir, options);
  const run: Run = {
    options,
    dir,
    spec,
    state,
    nodes,
    adapter,
    targetOptions,
    pool: new MachinePool(connector, options.dockerSocket),
    reports: [],
    warnings: [...workspace.specWarnings],
    adapterSecretsChanged: false,
    adapterEnv,
    validators,
  };
  // Every machine is reached (host key checked) before anything changes anywhere, so an unknown
  // or changed host key refuses the whole deployment rather than half of it.
  const machines = new Map(
    [...nodes, ...(adapter ? [adapter] : [])]
      .filter((target) => plan.some((step) => step.machine.split(', ').includes(machineName(target.machine))))
      .map((target) => [machineName(target.machine), target.machine]),
  );
  const preflight: Step<DeployContext> = {
    title: `Connect to ${[...machines.keys()].join(', ')} over SSH`,
    run: async () => {
      for (const machine of machines.values()) await run.pool.get(machine);
    },
  };
  const steps: Step<DeployContext>[] = plan.map((planned) => ({
    title: `${planned.subject}: ${planned.action} (${planned.machine})`,
    run: async () => {
      run.reports.push(await runStep(run, planned, rpcNode));
      await writeDeployState(dir, run.state);
    },
  }));
  steps.unshift(preflight);
  steps.push({
    title: 'Close the connections',
    run: async (ctx) => {
      await run.pool.closeAll();
      ctx.result = {
        dir,
        network: spec.name,
        scope: options.scope,
        dryRun: false,
        steps: run.reports,
        changes: run.reports.filter((report) => report.outcome === 'changed').length,
        stateFile: DEPLOY_STATE_FILE,
        warnings: run.warnings,
      };
    },
  });
  return { steps: releasingOnFailure(steps, () => run.pool.closeAll()), plan, context };
}

async function runStep(run: Run, planned: PlannedStep, rpcNode: NodeTarget): Promise<DeployStepReport> {
  const step = withoutExpectation(planned);
  const report = (outcome: DeployStepReport['outcome'], detail?: string): DeployStepReport =>
    detail === undefined ? { ...step, outcome } : { ...step, outcome, detail };
  const now = new Date().toISOString();
  switch (planned.kind) {
    case 'node-folder': {
      const target = nodeTarget(run, planned.subject);
      const outcome = await ensureFolder(await access(run, target), target);
      const previous = run.state.nodes[planned.subject];
      // A new folder needs its runtime step again before the record says it runs.
      run.state.nodes[planned.subject] = deployedFolder(
        target,
        outcome === 'changed',
        previous,
        outcome === 'unchanged' ? previous?.runtimeHash : undefined,
      );
      return report(outcome);
    }
    case 'node-runtime': {
      const target = nodeTarget(run, planned.subject);
      const outcome = await ensureRuntime(await access(run, target), target.runtime);
      const recorded = run.state.nodes[planned.subject]!;
      recorded.runtimeHash = target.runtimeHash;
      if (outcome === 'changed') recorded.changedAt = now;
      return report(outcome);
    }
    case 'health': {
      const watched = await Promise.all(
        run.nodes.map(async (target) => {
          const machine = await run.pool.get(target.machine);
          const forward = await machine.forwardTcp(target.rpc.host, target.rpc.port);
          return {
            name: target.node.name,
            machine: machineName(target.machine),
            url: forward.url,
            validator: target.node.role === 'validator',
            logs: async () => lastLogLines(await access(run, target), target.runtime),
          };
        }),
      );
      const seen = await waitUntilHealthy({
        nodes: watched,
        expectedValidators: run.validators,
        ...(run.options.healthTimeoutMs ? { timeoutMs: run.options.healthTimeoutMs } : {}),
        ...(run.options.pollIntervalMs ? { pollIntervalMs: run.options.pollIntervalMs } : {}),
        ...(run.options.signal ? { signal: run.options.signal } : {}),
      });
      run.state.healthy = { ...seen, at: now };
      return report('checked', `block ${seen.blockNumber}, ${seen.validators.length} validators`);
    }
    case 'contracts': {
      const machine = await run.pool.get(rpcNode.machine);
      const forward = await machine.forwardTcp(rpcNode.rpc.host, rpcNode.rpc.port);
      const { deployWorkspaceContracts } = await import('../contracts/deploy-workspace.js');
      const deployed = await deployWorkspaceContracts({
        dir: run.dir,
        rpcUrl: forward.url,
        password: run.options.password,
        ...(run.options.signal ? { signal: run.options.signal } : {}),
      });
      run.warnings.push(...deployed.warnings);
      run.state.contracts = {
        addresses: Object.fromEntries(
          deployed.contracts.map((contract) => [contract.name, contract.address]),
        ),
        at: now,
      };
      return deployed.transactionsSent > 0
        ? report('changed', `${deployed.transactionsSent} transaction(s)`)
        : report('checked', 'verified');
    }
    case 'adapter-folder': {
      // Read again: the contracts step may have just written deployments.json.
      const target = await adapterTarget(run.spec, run.dir, run.targetOptions);
      run.adapter = target;
      const machineAccess = await access(run, target);
      const folder = await ensureAdapterFolder(machineAccess, target);
      const secrets = await ensureFile(machineAccess, target.envFile, run.adapterEnv!, 0o600);
      run.adapterSecretsChanged = secrets === 'changed';
      run.state.adapter = {
        ...deployedFolder(
          target,
          folder === 'changed' || secrets === 'changed',
          run.state.adapter,
          folder === 'unchanged' ? run.state.adapter?.runtimeHash : undefined,
        ),
        version: run.options.version,
      };
      return report(folder === 'changed' || secrets === 'changed' ? 'changed' : 'unchanged');
    }
    case 'adapter-runtime': {
      const target = run.adapter!;
      const machineAccess = await access(run, target);
      // A new signer alone is not a restart: the adapter reloads it (below); the runtime carries
      // the hash of everything else it reads at start.
      const outcome = await ensureRuntime(machineAccess, target.runtime, run.adapterSecretsChanged);
      const timeoutMs = run.options.healthTimeoutMs ?? 180_000;
      const limits = {
        timeoutMs,
        pollMs: run.options.pollIntervalMs ?? 1_000,
        ...(run.options.signal ? { signal: run.options.signal } : {}),
      };
      await waitForAdapterHealth(machineAccess, target, {
        ...limits,
        message: (reason) =>
          `The adapter on ${machineName(target.machine)} does not answer after ${Math.round(timeoutMs / 1000)} s: ${reason}`,
        hint: 'Look at its last log lines below; re-running deploy resumes here.',
      });
      const signer = await ensureAdapterSigner(machineAccess, target, limits);
      run.state.adapter!.runtimeHash = target.runtimeHash;
      const changed = outcome === 'changed' || signer !== 'unchanged';
      if (changed) run.state.adapter!.changedAt = now;
      return report(
        changed ? 'changed' : 'unchanged',
        signer === 'reloaded' ? `signer reloaded: ${target.signerAddress}` : undefined,
      );
    }
  }
}

function withoutExpectation(planned: PlannedStep): Omit<PlannedStep, 'expected'> {
  const { id, kind, subject, machine, action } = planned;
  return { id, kind, subject, machine, action };
}

async function access(run: Run, target: FolderTarget): Promise<RuntimeAccess> {
  const machine = await run.pool.get(target.machine);
  return {
    machine,
    docker: () => run.pool.docker(target.machine),
    ...(run.options.signal ? { signal: run.options.signal } : {}),
  };
}

function nodeTarget(run: Run, name: string): NodeTarget {
  return run.nodes.find((target) => target.node.name === name)!;
}

function rpcNodeOf(spec: NetworkSpec, nodes: NodeTarget[]): NodeTarget {
  const name = spec.service.rpcNode ?? spec.nodes.find((node) => node.role === 'tx')!.name;
  return nodes.find((target) => target.node.name === name)!;
}

async function contractsRecorded(dir: string, chainId: number): Promise<boolean> {
  const text = await readOptional(join(dir, DEPLOYMENTS_FILE));
  if (text === undefined) return false;
  try {
    const record = parseDeploymentsRecord(JSON.parse(text), DEPLOYMENTS_FILE);
    return record.chainId === chainId && CONTRACT_NAMES.every((name) => record.contracts[name] !== undefined);
  } catch {
    return false;
  }
}

// The variables adapter.yaml names; each runtime reads its own file syntax.
async function adapterEnvironment(
  spec: NetworkSpec,
  dir: string,
  options: DeployOptions,
  adapter: AdapterTarget,
): Promise<string> {
  const password = await chooseKeystorePassword(spec, options.password, dir);
  if (password.generated) {
    throw new InputError(ErrorCodes.SECRET_MISSING, 'No keystore password for the adapter', {
      hint: 'Set PERURI_CHAIN_KEYSTORE_PASSWORD or pass --keystore-password-file FILE.',
    });
  }
  if (!options.jwtSecret) {
    throw new InputError(ErrorCodes.SECRET_MISSING, 'No JWT secret for the adapter', {
      hint: 'Set PERURI_CHAIN_ADAPTER_JWT_SECRET or pass --adapter-jwt-secret-file FILE (at least 32 bytes).',
    });
  }
  const variables: [string, string][] = [
    ['PERURI_CHAIN_KEYSTORE_PASSWORD', password.value],
    ['PERURI_CHAIN_ADAPTER_JWT_SECRET', options.jwtSecret.value],
  ];
  for (const [name, value] of variables) {
    if (/[\n\r\0]/.test(value)) {
      throw new InputError(
        ErrorCodes.FLAG_INVALID,
        `${name} holds a line break, which an environment file cannot carry`,
      );
    }
  }
  const quote =
    adapter.runtime.kind === 'systemd'
      ? // systemd.exec(5) EnvironmentFile: double quotes with C-style backslash escapes.
        (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
      : // Read with the shell's `.` inside the container: single quotes, nothing expanded.
        (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  return `${variables.map(([name, value]) => `${name}=${quote(value)}`).join('\n')}\n`;
}

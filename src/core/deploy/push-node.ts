import { resolve } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import { readWorkspace } from '../workspace/read.js';
import type { SshAuth } from '../../io/ssh.js';
import { waitUntilHealthy } from './health.js';
import { MachinePool, workspaceConnector, type MachineConnector } from './machines.js';
import { ensureFolder, ensureRuntime, lastLogLines, type RuntimeAccess } from './runtime.js';
import { deployedFolder, readDeployState, writeDeployState } from './state.js';
import { machineName, nodeTargets, withTargetDefaults } from './targets.js';

/** Options of {@link pushNode}. */
export interface PushNodeOptions {
  dir: string;
  /** The node to put onto its machine. */
  node: string;
  auth: SshAuth;
  /** Record the host key of a machine met for the first time (a new machine). */
  acceptNewHostKey: boolean;
  /** Where unit files go on systemd machines (default /etc/systemd/system). */
  systemdUnitDir?: string;
  /** The Docker engine's socket on the machine (default /var/run/docker.sock). */
  dockerSocket?: string;
  /** How long the node may take to make blocks (default 180 s). */
  healthTimeoutMs?: number;
  pollIntervalMs?: number;
  connector?: MachineConnector;
  signal?: AbortSignal;
}

/** What {@link pushNode} did. */
export interface PushNodeResult {
  node: string;
  /** `host` or `host:port` of the machine. */
  machine: string;
  dir: string;
  outcome: 'changed' | 'unchanged';
  /** The height at which the node was seen making blocks. */
  blockNumber: number;
}

/**
 * Puts one node's folder from the workspace onto its machine and starts it with its runtime, as
 * `deploy` does for every node (same upload, same container or unit, same health gate, same
 * state record), then waits until it makes blocks with the spec's validator set.
 * @param options - workspace, node, SSH login and limits
 * @returns what was done and where
 * @throws InputError for an unknown node; RemoteError when the machine or the node fails
 * @example
 * await pushNode({ dir: './pilot', node: 'pds', auth, acceptNewHostKey: true });
 */
export async function pushNode(options: PushNodeOptions): Promise<PushNodeResult> {
  const dir = resolve(options.dir);
  const workspace = await readWorkspace(dir);
  const { spec } = workspace;
  const targets = await nodeTargets(spec, dir, withTargetDefaults(options));
  const target = targets.find((candidate) => candidate.node.name === options.node);
  if (!target) {
    throw new InputError(
      ErrorCodes.FLAG_INVALID,
      `--node: expected one of ${spec.nodes.map((node) => node.name).join(', ')}, found "${options.node}"`,
    );
  }
  const validators = spec.nodes
    .filter((node) => node.role === 'validator')
    .map((node) => workspace.nodes[node.name]?.identity?.address ?? '');
  const connector = workspaceConnector(dir, options);
  const pool = new MachinePool(connector, options.dockerSocket);
  try {
    const machine = await pool.get(target.machine);
    const access: RuntimeAccess = {
      machine,
      docker: () => pool.docker(target.machine),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const folder = await ensureFolder(access, target);
    const runtime = await ensureRuntime(access, target.runtime);
    const forward = await machine.forwardTcp(target.rpc.host, target.rpc.port);
    const seen = await waitUntilHealthy({
      nodes: [
        {
          name: target.node.name,
          machine: machineName(target.machine),
          url: forward.url,
          validator: target.node.role === 'validator',
          logs: () => lastLogLines(access, target.runtime),
        },
      ],
      expectedValidators: validators,
      ...(options.healthTimeoutMs ? { timeoutMs: options.healthTimeoutMs } : {}),
      ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const changed = folder === 'changed' || runtime === 'changed';
    const state = await readDeployState(dir, spec.name, spec.chainId);
    state.nodes[target.node.name] = deployedFolder(
      target,
      changed,
      state.nodes[target.node.name],
      target.runtimeHash,
    );
    await writeDeployState(dir, state);
    return {
      node: target.node.name,
      machine: machineName(target.machine),
      dir: target.dir,
      outcome: changed ? 'changed' : 'unchanged',
      blockNumber: seen.blockNumber,
    };
  } finally {
    await pool.closeAll();
  }
}

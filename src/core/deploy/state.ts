import { join } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import { DEPLOY_STATE_FILE } from '../workspace/layout.js';
import { readOptional } from '../workspace/read.js';
import { machineName, type FolderTarget } from './targets.js';
import { writeJsonAtomically } from '../../io/files.js';

/** What deploy last put in place for one folder (a node or the adapter) on its machine. */
export interface DeployedFolder {
  /** `host` or `host:port` of the machine. */
  machine: string;
  dir: string;
  folderHash: string;
  runtime: 'docker' | 'systemd';
  /** Hash of the container spec or unit that runs it; absent until the runtime step finished. */
  runtimeHash?: string;
  /** When the folder or the runtime last changed (ISO 8601). */
  changedAt: string;
}

/**
 * The record of a folder after a step put it in place.
 * @param target - the folder's deploy target
 * @param changed - whether the step changed the folder or its runtime
 * @param previous - the record before the step
 * @param runtimeHash - the runtime that now runs it; undefined while its runtime step is pending
 */
export function deployedFolder(
  target: FolderTarget,
  changed: boolean,
  previous: DeployedFolder | undefined,
  runtimeHash: string | undefined,
): DeployedFolder {
  const now = new Date().toISOString();
  return {
    machine: machineName(target.machine),
    dir: target.dir,
    folderHash: target.folderHash,
    runtime: target.runtime.kind,
    ...(runtimeHash ? { runtimeHash } : {}),
    changedAt: changed ? now : (previous?.changedAt ?? now),
  };
}

/**
 * The deploy state record (`deploy-state.json`): what is on which machine. It is a record, not
 * the truth: every step still checks the machine before acting; the record lets `--dry-run` show
 * the plan without connecting, and lets people see what was done.
 */
export interface DeployState {
  version: 1;
  network: string;
  chainId: number;
  nodes: Record<string, DeployedFolder>;
  /** The validator set the health gate last saw, ascending. */
  healthy?: { validators: string[]; blockNumber: number; at: string };
  contracts?: { addresses: Record<string, string>; at: string };
  adapter?: DeployedFolder & { version: string };
}

/**
 * Reads the deploy state record of a workspace.
 * @param dir - the workspace
 * @returns the record, or a fresh one when there is none or it belongs to another network
 * @throws InputError when the file is not a state record
 */
export async function readDeployState(dir: string, network: string, chainId: number): Promise<DeployState> {
  const fresh: DeployState = { version: 1, network, chainId, nodes: {} };
  const text = await readOptional(join(dir, DEPLOY_STATE_FILE));
  if (text === undefined) return fresh;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw invalid('it is not JSON', cause);
  }
  const state = parsed as Partial<DeployState> | null;
  if (state === null || typeof state !== 'object' || state.version !== 1 || typeof state.nodes !== 'object') {
    throw invalid('it is not a version 1 deploy state record');
  }
  // A record of another chain (a re-created network) says nothing about this one.
  if (state.network !== network || state.chainId !== chainId) return fresh;
  return state as DeployState;
}

/**
 * Writes the record atomically (temporary file, then rename), so a crash leaves the old or the new one.
 * @param dir - the workspace
 * @param state - the record
 */
export async function writeDeployState(dir: string, state: DeployState): Promise<void> {
  await writeJsonAtomically(join(dir, DEPLOY_STATE_FILE), state);
}

function invalid(reason: string, cause?: unknown): InputError {
  return new InputError(ErrorCodes.WORKSPACE_INVALID, `${DEPLOY_STATE_FILE} cannot be read: ${reason}`, {
    hint: `Move ${DEPLOY_STATE_FILE} aside; deploy checks every machine anyway and writes a new one.`,
    cause,
  });
}

import { join } from 'node:path';
import { ErrorCodes, InputError, isPeruriError } from '../errors.js';
import { decodeExtraData } from '../genesis/extra-data.js';
import { sortValidators } from '../genesis/build.js';
import { enodeUrl, type NodeIdentity } from '../keys/node-key.js';
import type { AccountAddresses } from '../render/render-workspace.js';
import { diffAgainstDisk, expectedFiles, findStaleNodeFiles } from './expected.js';
import { formatProblem, readOptional, readWorkspace, type WorkspaceState } from './read.js';

export interface ValidateWorkspaceOptions {
  dir: string;
}

export interface ValidateWorkspaceResult {
  dir: string;
  network: string;
  chainId: number;
  /** Validator addresses, in genesis (ascending) order. */
  validators: string[];
  nodes: number;
  /** Generated files compared with what network.yaml gives. */
  filesChecked: number;
  warnings: string[];
}

/**
 * Checks a workspace: the spec against its schema and rules; every key against its public key,
 * address, enode and the spec; the genesis validators against the validator nodes; the
 * allowlists; and that every generated file is what `render` would write now.
 * @param options - the workspace folder
 * @returns a summary when everything holds
 * @throws InputError (PC_WORKSPACE_INVALID) listing every problem found
 */
export async function validateWorkspace(options: ValidateWorkspaceOptions): Promise<ValidateWorkspaceResult> {
  const state = await readWorkspace(options.dir);
  const problems = state.problems.map(formatProblem);
  const identities = completeIdentities(state);
  const accounts = completeAccounts(state);
  let filesChecked = 0;

  if (identities) {
    problems.push(...(await checkGenesis(state, identities)));
    problems.push(...(await checkAllowlists(state, identities)));
    for (const node of state.spec.nodes) {
      const recorded = (await readOptional(join(state.dir, 'nodes', node.name, 'key.pub')))
        ?.trim()
        .replace(/^0x/i, '')
        .toLowerCase();
      if (recorded !== undefined && recorded !== identities[node.name]!.publicKey) {
        problems.push(
          `nodes/${node.name}/key.pub: does not match the node's ${node.publicKey ? 'publicKey in network.yaml' : 'key file'}`,
        );
      }
    }
  }
  if (identities && accounts) {
    const expected = expectedFiles(state, identities, accounts);
    const diff = await diffAgainstDisk(state.dir, expected);
    filesChecked = expected.size;
    const alreadyReported = new Set(problems.map((problem) => problem.split(':')[0]));
    for (const path of diff.created) problems.push(`${path}: missing (run \`peruri-chain render\`)`);
    for (const path of diff.updated.filter((path) => !alreadyReported.has(path))) {
      problems.push(`${path}: out of date with network.yaml (run \`peruri-chain render\`)`);
    }
    const { stale, orphanKeys } = await findStaleNodeFiles(
      state.dir,
      expected,
      state.spec.nodes.map((node) => node.name),
    );
    for (const path of stale)
      problems.push(`${path}: no longer generated from network.yaml (run \`peruri-chain render\`)`);
    for (const path of orphanKeys) problems.push(`${path}: key of a node that is not in network.yaml`);
  }

  if (problems.length > 0) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      `The workspace ${state.dir} has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      {
        details: problems,
        hint: 'Generated files are fixed by `peruri-chain render`; key problems need the right key file or publicKey.',
      },
    );
  }
  const validators = sortValidators(
    state.spec.nodes
      .filter((node) => node.role === 'validator')
      .map((node) => identities![node.name]!.address),
  );
  return {
    dir: state.dir,
    network: state.spec.name,
    chainId: state.spec.chainId,
    validators,
    nodes: state.spec.nodes.length,
    filesChecked,
    warnings: state.specWarnings,
  };
}

/**
 * Node identities when every node has one, otherwise undefined.
 * @param state - the workspace as read
 */
export function completeIdentities(state: WorkspaceState): Record<string, NodeIdentity> | undefined {
  const entries = state.spec.nodes.map((node) => [node.name, state.nodes[node.name]?.identity] as const);
  return entries.every(([, identity]) => identity)
    ? (Object.fromEntries(entries) as Record<string, NodeIdentity>)
    : undefined;
}

/**
 * Account addresses when every account has one, otherwise undefined.
 * @param state - the workspace as read
 */
export function completeAccounts(state: WorkspaceState): AccountAddresses | undefined {
  const { deployer, minter, admins } = state.accounts;
  if (!deployer || !minter || Object.values(admins).some((address) => !address)) return undefined;
  return { deployer, minter, admins: admins as Record<string, string> };
}

async function checkGenesis(
  state: WorkspaceState,
  identities: Record<string, NodeIdentity>,
): Promise<string[]> {
  const text = await readOptional(join(state.dir, 'genesis.json'));
  if (text === undefined) return [];
  let genesis: { config?: { chainId?: unknown }; extraData?: unknown };
  try {
    genesis = JSON.parse(text) as typeof genesis;
  } catch {
    return ['genesis.json: not valid JSON'];
  }
  const problems: string[] = [];
  if (genesis.config?.chainId !== state.spec.chainId) {
    problems.push(
      `genesis.json: chainId ${String(genesis.config?.chainId)}, but network.yaml says ${state.spec.chainId}`,
    );
  }
  try {
    const encoded = decodeExtraData(String(genesis.extraData ?? '')).validators;
    // After a validator key rotation the genesis keeps the keys it was made with (key-rotations.json).
    const expected = sortValidators(
      state.genesisValidators ??
        state.spec.nodes
          .filter((node) => node.role === 'validator')
          .map((node) => identities[node.name]!.address),
    );
    if (encoded.join() !== expected.join()) {
      problems.push(
        state.genesisValidators
          ? `genesis.json: extraData validators (${encoded.join(', ') || 'none'}) are not the genesis validators recorded in key-rotations.json (${expected.join(', ')})`
          : `genesis.json: extraData validators (${encoded.join(', ') || 'none'}) are not the validator nodes' addresses in ascending order (${expected.join(', ')})`,
      );
    }
  } catch (error) {
    if (!isPeruriError(error)) throw error;
    problems.push(`genesis.json: ${error.message}`);
  }
  return problems;
}

async function checkAllowlists(
  state: WorkspaceState,
  identities: Record<string, NodeIdentity>,
): Promise<string[]> {
  const problems: string[] = [];
  const enodes = state.spec.nodes.map((node) => ({
    name: node.name,
    enode: enodeUrl(identities[node.name]!.publicKey, node.host, node.p2pPort),
  }));
  for (const node of state.spec.nodes) {
    const permissionsPath = `nodes/${node.name}/permissions_config.toml`;
    const permissions = await readOptional(join(state.dir, permissionsPath));
    if (permissions !== undefined) {
      const missing = enodes
        .filter((entry) => !permissions.includes(`"${entry.enode}"`))
        .map((entry) => entry.name);
      if (missing.length > 0)
        problems.push(`${permissionsPath}: the allowlist lacks the enode of ${missing.join(', ')}`);
    }
    const staticPath = `nodes/${node.name}/static-nodes.json`;
    const staticNodes = await readOptional(join(state.dir, staticPath));
    if (staticNodes !== undefined) {
      let listed: unknown;
      try {
        listed = JSON.parse(staticNodes);
      } catch {
        problems.push(`${staticPath}: not valid JSON`);
        continue;
      }
      const missing = enodes
        .filter(
          (entry) => entry.name !== node.name && !(Array.isArray(listed) && listed.includes(entry.enode)),
        )
        .map((entry) => entry.name);
      if (missing.length > 0) problems.push(`${staticPath}: lacks the enode of ${missing.join(', ')}`);
    }
  }
  return problems;
}

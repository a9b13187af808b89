import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, InputError, isPeruriError } from '../errors.js';
import { keystoreAddress } from '../keys/keystore.js';
import {
  identityFromPrivateKey,
  normalisePublicKey,
  addressFromPublicKey,
  parseNodeKeyFile,
  type NodeIdentity,
} from '../keys/node-key.js';
import { parseSpec } from '../spec/load.js';
import { readOptional } from './read-optional.js';
import { readKeyRotations } from './rotations.js';
import type { NetworkSpec } from '../spec/types.js';
import {
  DEPLOYER_KEYSTORE,
  MINTER_KEYSTORE,
  SPEC_FILE,
  WALLET_MASTER_KEYSTORE,
  adminKeystore,
  nodeKeyFile,
} from './layout.js';

export { readOptional };

/** Where a node's identity comes from in a workspace. */
export type NodeKeySource = 'key-file' | 'imported' | 'missing';

export interface NodeKeyState {
  source: NodeKeySource;
  identity: NodeIdentity | undefined;
}

export interface WorkspaceAccounts {
  deployer: string | undefined;
  minter: string | undefined;
  /** Fingerprint (keystore address) of the adapter's wallet master secret. */
  walletMaster: string | undefined;
  /** Admin address by organisation: from the spec, or from the generated keystore. */
  admins: Record<string, string | undefined>;
}

/** A workspace as found on disk, with every key problem collected rather than thrown. */
export interface WorkspaceState {
  dir: string;
  spec: NetworkSpec;
  specText: string;
  specWarnings: string[];
  nodes: Record<string, NodeKeyState>;
  accounts: WorkspaceAccounts;
  /** Problems with keys and keystores, each naming the file. */
  problems: WorkspaceProblem[];
  /** The genesis's validators when a validator key was rotated since (key-rotations.json). */
  genesisValidators: string[] | undefined;
}

/** One thing wrong in a workspace. */
export interface WorkspaceProblem {
  path: string;
  message: string;
  /** A key that does not exist yet for a node or organisation new in the spec: render makes it. */
  missingNewKey: boolean;
}

/** One problem as printed: `path: message`. */
export function formatProblem(problem: WorkspaceProblem): string {
  return `${problem.path}: ${problem.message}`;
}

/**
 * Reads a workspace: the spec (validated; an invalid spec throws), node identities from key
 * files or the spec, and account addresses from keystores (no password needed).
 * @param dir - the workspace folder
 * @returns the workspace state, with problems listed rather than thrown
 * @throws InputError when there is no workspace or its spec is invalid
 */
export async function readWorkspace(dir: string): Promise<WorkspaceState> {
  const specPath = join(dir, SPEC_FILE);
  const specText = await readOptional(specPath);
  if (specText === undefined) {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${dir} is not a workspace: it has no ${SPEC_FILE}`, {
      hint: 'Create one with `peruri-chain init --example pilot --dir <dir>`, or pass the right --dir.',
    });
  }
  const { spec, warnings } = parseSpec(specText, specPath);
  const problems: WorkspaceProblem[] = [];

  const nodes: Record<string, NodeKeyState> = {};
  for (const node of spec.nodes) {
    nodes[node.name] = await readNodeKey(dir, node.name, node.publicKey, problems);
  }

  const admins: Record<string, string | undefined> = {};
  for (const organisation of spec.organisations) {
    admins[organisation.name] = organisation.admin
      ? organisation.admin.toLowerCase()
      : await readKeystoreAddress(dir, adminKeystore(organisation.name), problems, true);
  }
  const accounts: WorkspaceAccounts = {
    deployer: await readKeystoreAddress(dir, DEPLOYER_KEYSTORE, problems),
    minter: await readKeystoreAddress(dir, MINTER_KEYSTORE, problems),
    // Every custodial wallet derives from it; render makes one only for a workspace without it.
    walletMaster: await readKeystoreAddress(dir, WALLET_MASTER_KEYSTORE, problems, true),
    admins,
  };
  const genesisValidators = (await readKeyRotations(dir))?.genesisValidators;
  return { dir, spec, specText, specWarnings: warnings, nodes, accounts, problems, genesisValidators };
}

async function readNodeKey(
  dir: string,
  nodeName: string,
  publicKey: string | undefined,
  problems: WorkspaceProblem[],
): Promise<NodeKeyState> {
  const path = nodeKeyFile(nodeName);
  const text = await readOptional(join(dir, path));
  let imported: NodeIdentity | undefined;
  if (publicKey) {
    try {
      const normalised = normalisePublicKey(publicKey, `node ${nodeName} publicKey`);
      imported = { publicKey: normalised, address: addressFromPublicKey(normalised) };
    } catch (error) {
      problems.push(problemFrom(error, 'network.yaml'));
    }
  }
  if (text === undefined) {
    if (publicKey) return { source: 'imported', identity: imported };
    problems.push({
      path,
      message: `missing: node ${nodeName} has no key file and no publicKey in network.yaml (render generates one)`,
      missingNewKey: true,
    });
    return { source: 'missing', identity: undefined };
  }
  await checkSecretMode(dir, path, problems);
  try {
    const identity = identityFromPrivateKey(parseNodeKeyFile(text, path));
    if (imported && imported.publicKey !== identity.publicKey) {
      problems.push({
        path,
        message: `this key does not belong to the publicKey that network.yaml gives node ${nodeName}`,
        missingNewKey: false,
      });
    }
    return { source: 'key-file', identity };
  } catch (error) {
    problems.push(problemFrom(error, path));
    return { source: 'key-file', identity: undefined };
  }
}

async function readKeystoreAddress(
  dir: string,
  path: string,
  problems: WorkspaceProblem[],
  newWhenMissing = false,
): Promise<string | undefined> {
  const text = await readOptional(join(dir, path));
  if (text === undefined) {
    problems.push({
      path,
      message: newWhenMissing ? 'missing keystore (render generates one)' : 'missing keystore',
      missingNewKey: newWhenMissing,
    });
    return undefined;
  }
  await checkSecretMode(dir, path, problems);
  try {
    return keystoreAddress(text, path);
  } catch (error) {
    problems.push(problemFrom(error, path));
    return undefined;
  }
}

/**
 * Records a problem when a key file can be read by anyone but its owner.
 * @param dir - the workspace
 * @param path - workspace-relative path of the key file
 * @param problems - where to record it
 */
export async function checkSecretMode(
  dir: string,
  path: string,
  problems: WorkspaceProblem[],
): Promise<void> {
  const { mode } = await stat(join(dir, path));
  if ((mode & 0o077) !== 0) {
    problems.push({
      path,
      message: `mode ${(mode & 0o777).toString(8).padStart(4, '0')}, expected 0600 (key material)`,
      missingNewKey: false,
    });
  }
}

function problemFrom(error: unknown, path: string): WorkspaceProblem {
  if (!isPeruriError(error)) throw error;
  // Key errors already start with the file they concern.
  const message = error.message.startsWith(`${path}: `)
    ? error.message.slice(path.length + 2)
    : error.message;
  return { path, message, missingNewKey: false };
}

import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCodes, InputError, RefusedError } from '../errors.js';
import { randomKeySource, type KeySource } from '../keys/key-source.js';
import { encryptAccountKeys } from '../keys/keystore.js';
import { formatNodeKeyFile, identityFromPrivateKey, type NodeIdentity } from '../keys/node-key.js';
import { secretFile, type FileSet } from '../render/file-set.js';
import { diffAgainstDisk, expectedFiles, findStaleNodeFiles } from './expected.js';
import {
  ARCHIVE_DIR,
  DEV_PASSWORD_FILE,
  WALLET_MASTER_KEYSTORE,
  adminKeystore,
  archiveStamp,
  nodeKeyFile,
} from './layout.js';
import { chooseKeystorePassword, type SuppliedSecret } from './password.js';
import { formatProblem, readWorkspace } from './read.js';
import { applyWorkspaceChanges } from './write.js';

export interface RerenderWorkspaceOptions {
  dir: string;
  dryRun: boolean;
  /** Allow archiving the keys of nodes removed from the spec. */
  force: boolean;
  /** Needed only when an organisation without an admin address was added. */
  password: SuppliedSecret | undefined;
  keySource?: KeySource;
}

export interface RerenderWorkspaceResult {
  dir: string;
  dryRun: boolean;
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
  /** Keys made for nodes or organisations new in the spec (paths, never contents). */
  generatedKeys: string[];
  /** Keys of removed nodes, moved under .archive/ (only with force). */
  archivedKeys: string[];
  warnings: string[];
}

/**
 * Re-derives every generated file after network.yaml was edited, keeping every existing key.
 * Nodes and organisations new in the spec get fresh keys; keys of removed nodes are archived
 * only with `force`. With `dryRun` it reports the same plan and writes nothing.
 * @param options - the workspace and how to treat it
 * @returns what changed (or would change)
 * @throws InputError when a key is unreadable or mismatched; RefusedError when keys would go
 * @example
 * const { updated } = await rerenderWorkspace({ dir: 'ws', dryRun: true, force: false, password: undefined });
 */
export async function rerenderWorkspace(options: RerenderWorkspaceOptions): Promise<RerenderWorkspaceResult> {
  const keySource = options.keySource ?? randomKeySource;
  const state = await readWorkspace(options.dir);
  const blocking = state.problems.filter((problem) => !problem.missingNewKey);
  if (blocking.length > 0) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      `Cannot render ${state.dir}: its keys have problems; nothing was changed`,
      {
        details: blocking.map(formatProblem),
        hint: 'Fix or restore the listed key files; render never replaces an existing key.',
      },
    );
  }

  const newFiles: FileSet = new Map();
  const generatedKeys: string[] = [];
  const identities: Record<string, NodeIdentity> = {};
  for (const node of state.spec.nodes) {
    const known = state.nodes[node.name]?.identity;
    if (known) {
      identities[node.name] = known;
      continue;
    }
    const privateKey = keySource.nodeKey(node.name);
    identities[node.name] = identityFromPrivateKey(privateKey);
    newFiles.set(nodeKeyFile(node.name), secretFile(formatNodeKeyFile(privateKey)));
    generatedKeys.push(nodeKeyFile(node.name));
  }

  const admins: Record<string, string> = {};
  const newOrganisations = state.spec.organisations.filter(
    (organisation) => !state.accounts.admins[organisation.name],
  );
  // Keystores to make now, by path: admins of organisations new in the spec, and the wallet master
  // secret of a workspace made before it existed. All in one batch: one scrypt derivation.
  const newKeystores: Record<string, Uint8Array> = {};
  for (const organisation of newOrganisations) {
    newKeystores[adminKeystore(organisation.name)] = keySource.accountKey(`admin-${organisation.name}`);
  }
  if (!state.accounts.walletMaster)
    newKeystores[WALLET_MASTER_KEYSTORE] = keySource.accountKey('wallet-master');
  if (Object.keys(newKeystores).length > 0) {
    const password = await chooseKeystorePassword(state.spec, options.password, state.dir);
    const keystores = await encryptAccountKeys(newKeystores, password.value, password.strength);
    for (const [path, keystore] of Object.entries(keystores)) {
      newFiles.set(path, secretFile(keystore.json));
      generatedKeys.push(path);
    }
    for (const organisation of newOrganisations) {
      admins[organisation.name] = keystores[adminKeystore(organisation.name)]!.address;
    }
    if (password.generated) newFiles.set(DEV_PASSWORD_FILE, secretFile(`${password.value}\n`));
  }
  for (const [organisation, address] of Object.entries(state.accounts.admins)) {
    if (address) admins[organisation] = address;
  }

  const expected = expectedFiles(state, identities, {
    deployer: state.accounts.deployer!,
    minter: state.accounts.minter!,
    admins,
  });
  const diff = await diffAgainstDisk(state.dir, expected);
  const { stale, orphanKeys } = await findStaleNodeFiles(
    state.dir,
    expected,
    state.spec.nodes.map((node) => node.name),
  );
  if (orphanKeys.length > 0 && !options.force) {
    throw new RefusedError(
      ErrorCodes.WOULD_DESTROY_KEYS,
      'Nodes were removed from network.yaml but their keys are still here; nothing was changed',
      {
        details: orphanKeys,
        hint: 'Run `peruri-chain render --force` to move those keys to .archive/, or put the nodes back in network.yaml.',
      },
    );
  }

  const changes: FileSet = new Map(newFiles);
  for (const path of [...diff.created, ...diff.updated]) changes.set(path, expected.get(path)!);
  const archivedKeys: string[] = [];
  if (!options.dryRun) {
    await applyWorkspaceChanges(state.dir, changes, stale);
    const archive = join(ARCHIVE_DIR, archiveStamp());
    for (const path of orphanKeys) {
      const target = join(archive, path);
      await mkdir(dirname(join(state.dir, target)), { recursive: true, mode: 0o700 });
      await rename(join(state.dir, path), join(state.dir, target));
      archivedKeys.push(target);
    }
  }
  const warnings = [...state.specWarnings];
  if (diff.updated.includes('genesis.json')) {
    warnings.push(
      'genesis.json changed: a running network cannot take a new genesis. Nodes started from it form a new chain; change validators of a live network with `rotate-key` instead.',
    );
  }
  if (options.dryRun && orphanKeys.length > 0) warnings.push(`Would archive: ${orphanKeys.join(', ')}`);
  return {
    dir: state.dir,
    dryRun: options.dryRun,
    created: [...diff.created, ...newFiles.keys()]
      .filter((path, index, all) => all.indexOf(path) === index)
      .sort(),
    updated: diff.updated.sort(),
    removed: stale,
    unchanged: diff.unchanged.length,
    generatedKeys: generatedKeys.sort(),
    archivedKeys,
    warnings,
  };
}

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeIdentity } from '../keys/node-key.js';
import type { FileSet } from '../render/file-set.js';
import { NODE_GENERATED_FILES, renderWorkspace, type AccountAddresses } from '../render/render-workspace.js';
import type { WorkspaceState } from './read.js';
import { readOptional } from './read.js';

/**
 * Every generated file the workspace should hold, given identities for all nodes and addresses
 * for all accounts (validate passes what is on disk; render adds the keys it just made).
 * @param state - the workspace as read
 * @param nodeIdentities - an identity for every node
 * @param accounts - every account address
 */
export function expectedFiles(
  state: WorkspaceState,
  nodeIdentities: Record<string, NodeIdentity>,
  accounts: AccountAddresses,
): FileSet {
  return renderWorkspace({
    spec: state.spec,
    workspaceDir: state.dir,
    nodeIdentities,
    accounts,
    ...(state.genesisValidators ? { genesisValidators: state.genesisValidators } : {}),
  });
}

/** How the files on disk differ from the expected set. */
export interface FileDiff {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/**
 * Compares expected files with the workspace's files, content only.
 * @param dir - the workspace
 * @param files - the expected files
 */
export async function diffAgainstDisk(dir: string, files: FileSet): Promise<FileDiff> {
  const diff: FileDiff = { created: [], updated: [], unchanged: [] };
  for (const [path, entry] of files) {
    const current = await readOptional(join(dir, path));
    if (current === undefined) diff.created.push(path);
    else if (current !== entry.content) diff.updated.push(path);
    else diff.unchanged.push(path);
  }
  return diff;
}

/** What is in a node folder that render owns or must not touch. */
export interface StaleNodeFiles {
  /** Generated files nothing derives any more (a runtime file after a runtime change, ...). */
  stale: string[];
  /** Key files of nodes that are no longer in the spec. */
  orphanKeys: string[];
}

/**
 * Finds generated files that the spec no longer produces, and keys of removed nodes.
 * @param dir - the workspace
 * @param files - the expected files
 * @param nodeNames - the nodes in the spec
 */
export async function findStaleNodeFiles(
  dir: string,
  files: FileSet,
  nodeNames: readonly string[],
): Promise<StaleNodeFiles> {
  const result: StaleNodeFiles = { stale: [], orphanKeys: [] };
  let folders: string[];
  try {
    folders = (await readdir(join(dir, 'nodes'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return result;
  }
  for (const folder of folders.sort()) {
    for (const name of (await readdir(join(dir, 'nodes', folder))).sort()) {
      const path = `nodes/${folder}/${name}`;
      const generated = NODE_GENERATED_FILES.includes(name) || name.endsWith('.service');
      if (generated && !files.has(path)) result.stale.push(path);
      if (name === 'key' && !nodeNames.includes(folder)) result.orphanKeys.push(path);
    }
  }
  return result;
}

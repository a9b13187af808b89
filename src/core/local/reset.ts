import { mkdir, rename, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { DEPLOYMENTS_FILE } from '../contracts/deploy-workspace.js';
import { ARCHIVE_DIR, archiveStamp } from '../workspace/layout.js';
import type { NetworkSpec } from '../spec/types.js';
import { nodeDirOnMachine } from '../render/paths.js';
import { CHAIN_STATE_FILE } from './state.js';

/** Options of {@link archiveLocalChain}. */
export interface ArchiveLocalChainOptions {
  /** The workspace, absolute. */
  dir: string;
  spec: NetworkSpec;
  /** The adapter's database URL: a SQLite file goes with the chain it mirrored. */
  databaseUrl: string;
  /** The adapter's copy of deployments.json. */
  deploymentsFile: string;
  now?: Date;
}

/** What {@link archiveLocalChain} moved, and what it could not reset. */
export interface ArchiveLocalChainResult {
  /** Workspace-relative folder under .archive/, or null when there was nothing to move. */
  archivedTo: string | null;
  /** Workspace-relative paths of what was moved (or absolute, when outside the workspace). */
  moved: string[];
  warnings: string[];
}

/**
 * Moves everything that belongs to the local chain's history into `.archive/<time>/`, so that the
 * next start makes a new chain and deploys new contracts: anvil's saved state, the Besu nodes'
 * data folders, deployments.json (and the adapter's copy) and the adapter's SQLite database, whose
 * transactions refer to the old chain. Nothing is deleted. The stack must be stopped.
 * @param options - workspace, spec, adapter database and deployments paths
 * @returns what was moved
 */
export async function archiveLocalChain(options: ArchiveLocalChainOptions): Promise<ArchiveLocalChainResult> {
  const { dir, spec } = options;
  const stamp = archiveStamp(options.now);
  const archiveRoot = join(dir, ARCHIVE_DIR, `${stamp}-local-chain`);
  const candidates = [
    join(dir, CHAIN_STATE_FILE),
    join(dir, DEPLOYMENTS_FILE),
    options.deploymentsFile,
    ...spec.nodes.map((node) => join(nodeDirOnMachine(spec, dir, node.name), 'data')),
  ];
  const warnings: string[] = [];
  if (options.databaseUrl.startsWith('sqlite://')) {
    const file = options.databaseUrl.slice('sqlite://'.length);
    candidates.push(file, `${file}-wal`, `${file}-shm`);
  } else {
    warnings.push(
      'The adapter database is not SQLite and was left as it is; its records refer to the old chain.',
    );
  }
  const moved: string[] = [];
  for (const path of [...new Set(candidates)]) {
    if (!(await exists(path))) continue;
    const inside = relative(dir, path);
    const shown = inside.startsWith('..') ? path : inside;
    const target = inside.startsWith('..')
      ? join(archiveRoot, 'outside', basename(path))
      : join(archiveRoot, inside);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await rename(path, target);
    moved.push(shown);
  }
  return { archivedTo: moved.length > 0 ? relative(dir, archiveRoot) : null, moved, warnings };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

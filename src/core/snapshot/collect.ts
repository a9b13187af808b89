import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArchiveFile } from './archive.js';
import type { ManifestDatabase } from './format.js';
import { backupSqlite, looksLikeSqlite } from './sqlite.js';

export interface CollectWorkspaceOptions {
  /** The workspace folder. */
  dir: string;
  /** Nodes of the spec: their `nodes/<name>/data` folders are chain data. */
  nodeNames: readonly string[];
  /** Take each node's `data/` folder too. */
  includeChainData: boolean;
  /** Absolute paths never to take (the snapshot being written, when it is inside the workspace). */
  exclude?: readonly string[];
}

export interface CollectWorkspaceResult {
  files: ArchiveFile[];
  database: ManifestDatabase;
  /** Nodes whose data folder was taken. */
  chainData: string[];
  warnings: string[];
}

const KEY_MATERIAL = [/^nodes\/[^/]+\/key$/, /^accounts\//, /^secrets\//];
const SQLITE_SIDE_FILE = /^service\/[^/]+\.db-(wal|shm|journal)$/;
const ADAPTER_DATABASE = /^service\/[^/]+\.db$/;
// `.archive/<time>/` holds earlier workspaces (init/render --force); the same rules apply inside.
const ARCHIVED = /^\.archive\/[^/]+\//;

/**
 * Whether a workspace file goes into the encrypted section: key material by place (node keys,
 * accounts, secrets), any keystore by content (a JSON document with a `crypto` member), any file
 * its owner keeps private (no group or other permission bits), and the adapter database.
 * @param path - workspace-relative path
 * @param mode - permission bits
 * @param data - content
 */
export function isSecretFile(path: string, mode: number, data: Buffer): boolean {
  let inner = path;
  while (ARCHIVED.test(inner)) inner = inner.replace(ARCHIVED, '');
  if ((mode & 0o077) === 0) return true;
  if (KEY_MATERIAL.some((pattern) => pattern.test(inner)) || ADAPTER_DATABASE.test(inner)) return true;
  return inner.endsWith('.json') && isKeystore(data);
}

function isKeystore(data: Buffer): boolean {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && ('crypto' in parsed || 'Crypto' in parsed);
  } catch {
    return false;
  }
}

/**
 * Reads every file of a workspace for a snapshot, with its mode and whether it is secret. Chain
 * data folders are left out unless asked for; the adapter's SQLite databases are copied with the
 * online backup API (consistent while the adapter writes), and their WAL and journal files are
 * left out since the copy already holds what they held.
 * @param options - the workspace and what to take
 * @returns the files, how the database was taken, and warnings (skipped or changing files)
 * @example
 * const { files } = await collectWorkspace({ dir: 'ws', nodeNames: ['peruri'], includeChainData: false });
 */
export async function collectWorkspace(options: CollectWorkspaceOptions): Promise<CollectWorkspaceResult> {
  const root = resolve(options.dir);
  const exclude = new Set((options.exclude ?? []).map((path) => resolve(path)));
  const dataFolders = new Set(options.nodeNames.map((name) => `nodes/${name}/data`));
  const files: ArchiveFile[] = [];
  const databases: string[] = [];
  const chainData = new Set<string>();
  const changing = new Map<string, number>();
  const warnings: string[] = [];

  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(root, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const absolute = join(root, path);
      if (exclude.has(absolute)) continue;
      if (entry.isDirectory()) {
        if (/(^|\/)nodes\/[^/]+\/data$/.test(path) && !(options.includeChainData && dataFolders.has(path))) {
          continue;
        }
        await walk(path);
      } else if (entry.isFile()) {
        if (SQLITE_SIDE_FILE.test(path)) continue;
        const node = /^nodes\/([^/]+)\/data\//.exec(path)?.[1];
        if (node) {
          chainData.add(node);
          const file = await readChangingFile(absolute, path);
          if (file.changed) changing.set(node, (changing.get(node) ?? 0) + 1);
          files.push({ ...file.file, secret: isSecretFile(path, file.file.mode, file.file.data) });
        } else if (ADAPTER_DATABASE.test(path) && (await startsLikeSqlite(absolute))) {
          const { mode } = await stat(absolute);
          databases.push(path);
          files.push({ path, mode: mode & 0o7777, data: await backupSqlite(absolute, path), secret: true });
        } else {
          const { mode } = await stat(absolute);
          const data = await readFile(absolute);
          files.push({ path, mode: mode & 0o7777, data, secret: isSecretFile(path, mode, data) });
        }
      } else {
        warnings.push(`${path}: skipped, not a regular file or folder`);
      }
    }
  };
  await walk('');

  if (options.includeChainData) {
    for (const name of options.nodeNames.filter((node) => !chainData.has(node))) {
      warnings.push(
        `Node ${name}: no data in nodes/${name}/data of this workspace; a node on another machine keeps its data there, which snapshot cannot reach yet.`,
      );
    }
  }
  for (const [node, count] of changing) {
    warnings.push(
      `nodes/${node}/data: ${count} file(s) changed while they were copied; stop the node first (e.g. \`peruri-chain down\`) for a consistent copy, or let the restored node resync from its peers.`,
    );
  }
  const database: ManifestDatabase =
    databases.length > 0
      ? { present: true, paths: databases, method: 'sqlite-online-backup' }
      : { present: false, reason: 'no SQLite database (service/*.db) in the workspace' };
  return { files, database, chainData: [...chainData].sort(), warnings };
}

async function startsLikeSqlite(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    return bytesRead === 16 && looksLikeSqlite(head);
  } finally {
    await handle.close();
  }
}

/** Reads a file and says whether it changed meanwhile (a running node writing its database). */
async function readChangingFile(
  absolute: string,
  path: string,
): Promise<{ file: Omit<ArchiveFile, 'secret'>; changed: boolean }> {
  const before = await lstat(absolute);
  const data = await readFile(absolute);
  const after = await lstat(absolute);
  const changed =
    before.mtimeMs !== after.mtimeMs || before.size !== after.size || data.length !== after.size;
  return { file: { path, mode: after.mode & 0o7777, data }, changed };
}

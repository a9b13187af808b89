import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ErrorCodes, RefusedError } from '../errors.js';
import type { FileSet } from '../render/file-set.js';
import { ARCHIVE_DIR, archiveStamp } from './layout.js';
import { writeFileAtomically } from '../../io/files.js';

/**
 * True when the directory exists and holds anything.
 * @param dir - a path
 */
export async function isNonEmptyDirectory(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function writeEntries(root: string, files: FileSet): Promise<void> {
  const folders = [...new Set([...files.keys()].map((path) => dirname(join(root, path))))].sort();
  for (const folder of folders) await mkdir(folder, { recursive: true, mode: 0o755 });
  // All files at once: one after another, each file's open, write, close and chmod waited for a
  // thread-pool round trip in turn, and writing took longer than rendering.
  const written = await Promise.allSettled(
    [...files].map(async ([path, entry]) => {
      const target = join(root, path);
      await writeFile(target, entry.content, { mode: entry.mode });
      // The process umask may have narrowed or (for 0600) the file may pre-exist; set it exactly.
      await chmod(target, entry.mode);
    }),
  );
  // Every write has settled before the first failure is thrown, so the caller's clean-up of the
  // staging folder cannot race a write still under way.
  const failure = written.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

/**
 * Refuses early when a folder already holds something, before any key is generated.
 * @param dir - the folder a new workspace would go to
 * @throws RefusedError (PC_WORKSPACE_EXISTS)
 */
export async function assertNoWorkspace(dir: string): Promise<void> {
  if (await isNonEmptyDirectory(dir)) throw workspaceExists(dir);
}

/**
 * Writes a whole new workspace atomically: everything goes to a staging folder beside the
 * target, which is renamed into place only when complete. With `force`, an existing workspace is
 * first moved, keys included, into the new one's `.archive/<time>/`.
 * @param dir - the workspace folder to create
 * @param files - every file of the new workspace
 * @param options - `force` to replace an existing workspace
 * @returns where the previous workspace was archived, if there was one
 */
export async function writeNewWorkspace(
  dir: string,
  files: FileSet,
  options: { force: boolean },
): Promise<{ archivedTo: string | undefined }> {
  const exists = await isNonEmptyDirectory(dir);
  if (exists && !options.force) throw workspaceExists(dir);
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${basename(dir)}.staging-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(staging, { mode: 0o755 });
    await writeEntries(staging, files);
    let archivedTo: string | undefined;
    if (exists) {
      archivedTo = join(ARCHIVE_DIR, archiveStamp());
      await mkdir(join(staging, ARCHIVE_DIR), { recursive: true, mode: 0o700 });
      await rename(dir, join(staging, archivedTo));
    } else {
      await rm(dir, { recursive: true, force: true });
    }
    await rename(staging, dir);
    return { archivedTo };
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Applies changes to an existing workspace: each file is written to a temporary name and renamed
 * over the old one, so a reader never sees half a file.
 * @param dir - the workspace
 * @param files - files to create or replace
 * @param removals - workspace-relative paths to delete
 */
export async function applyWorkspaceChanges(
  dir: string,
  files: FileSet,
  removals: readonly string[],
): Promise<void> {
  for (const [path, entry] of files) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFileAtomically(target, entry.content, entry.mode);
  }
  for (const path of removals) {
    await rm(join(dir, path), { force: true });
  }
}

function workspaceExists(dir: string): RefusedError {
  return new RefusedError(
    ErrorCodes.WORKSPACE_EXISTS,
    `${dir} already holds a workspace; nothing was written`,
    {
      hint: 'Use `peruri-chain render` to update it after editing network.yaml, or `init --force` to replace it (the old keys are moved to .archive/).',
    },
  );
}

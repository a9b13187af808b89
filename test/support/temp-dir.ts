import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { onTestFinished } from 'vitest';

/** A fresh temporary folder, removed when the current test finishes. */
export async function aTempDir(prefix = 'peruri-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file below a folder with its mode and content, for before/after comparisons. */
export async function snapshotTree(root: string): Promise<Record<string, { mode: number; content: string }>> {
  const result: Record<string, { mode: number; content: string }> = {};
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else
        result[relative(root, path)] = {
          mode: (await stat(path)).mode & 0o777,
          content: await readFile(path, 'utf8'),
        };
    }
  }
  await walk(root);
  return result;
}

import { randomBytes } from 'node:crypto';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes a file so that a reader, or a crash, sees the old content or the new one, never half:
 * a temporary name beside it, the exact mode (umask aside), then a rename over it. The temporary
 * file is removed when a step fails.
 * @param path - the file
 * @param content - its bytes or text
 * @param mode - its permissions, e.g. 0o644, or 0o600 for a keystore
 */
export async function writeFileAtomically(
  path: string,
  content: string | Uint8Array,
  mode: number,
): Promise<void> {
  const temporary = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, content, { mode });
    await chmod(temporary, mode);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes a JSON record (two-space indent, final newline) atomically, mode 0644.
 * @param path - the file
 * @param value - the record
 */
export function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  return writeFileAtomically(path, `${JSON.stringify(value, null, 2)}\n`, 0o644);
}

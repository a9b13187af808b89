import { readFile } from 'node:fs/promises';

/**
 * Reads a UTF-8 file, or undefined when it does not exist.
 * @param path - absolute path
 */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

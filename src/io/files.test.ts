import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aTempDir } from '../../test/support/temp-dir.js';
import { writeFileAtomically, writeJsonAtomically } from './files.js';

describe('writeFileAtomically', () => {
  it('replaces a file with the exact mode and leaves no temporary file', async () => {
    const dir = await aTempDir('peruri-files-');
    const path = join(dir, 'key.json');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileAtomically(path, 'new', 0o600);
    expect(await readFile(path, 'utf8')).toBe('new');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['key.json']);
  });

  it('keeps the old file and removes the temporary one when the rename fails', async () => {
    const dir = await aTempDir('peruri-files-');
    // A folder where the file should go: the rename over it fails.
    const path = join(dir, 'record.json');
    await mkdir(path);
    await expect(writeJsonAtomically(path, { a: 1 })).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['record.json']);
    expect((await stat(path)).isDirectory()).toBe(true);
  });
});

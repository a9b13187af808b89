import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { rejectionOf } from '../../../test/support/net.js';
import { besuArgs, findBesu } from './besu.js';

describe('Besu as the local chain', () => {
  it('finds besu only as an executable on the PATH, and refuses with a hint otherwise', async () => {
    // Given a folder with a non-executable and one with an executable besu
    const plain = await aTempDir();
    await writeFile(join(plain, 'besu'), '#!/bin/sh\n');
    const bin = await aTempDir();
    await writeFile(join(bin, 'besu'), '#!/bin/sh\n');
    await chmod(join(bin, 'besu'), 0o755);

    // When besu is looked for
    const error = (await rejectionOf(findBesu(`${plain}:relative/dir`))) as { code: string; hint: string };
    const found = await findBesu(`${plain}:${bin}`);

    // Then the first PATH refuses (exit 5 kind) and the second finds it
    expect(error.code).toBe('PC_ENGINE_MISSING');
    expect(error.hint).toContain('besu.hyperledger.org');
    expect(found).toBe(join(bin, 'besu'));
    expect(besuArgs('/ws/nodes/tx/config.toml')).toEqual(['--config-file=/ws/nodes/tx/config.toml']);
  });
});

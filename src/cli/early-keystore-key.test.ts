import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startKeystoreKey } from '../core/keys/keystore.js';
import { aTempDir } from '../../test/support/temp-dir.js';
import { startInitKeystoreKeyEarly } from './early-keystore-key.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('starting init’s keystore key before oclif loads', () => {
  it('starts it from --keystore-password-file, and init’s own request for that key gets it', async () => {
    // Given init with a password file (its trailing newline is not part of the password)
    const file = join(await aTempDir(), 'password');
    await writeFile(file, 'a long pilot password 1234\n');
    vi.stubEnv('PERURI_CHAIN_KEYSTORE_PASSWORD', 'not this one, the file wins');
    // When the key is started early
    const early = await startInitKeystoreKeyEarly([
      'init',
      '--example',
      'pilot',
      `--keystore-password-file=${file}`,
    ]);
    // Then it is the standard-strength key init asks for with that password
    expect(early?.strength).toBe('standard');
    expect(startKeystoreKey('a long pilot password 1234', 'standard')).toBe(early);
    await early!.derived;
  });

  it('starts it from PERURI_CHAIN_KEYSTORE_PASSWORD, but hands it to a request for that password only', async () => {
    // Given init with the password in the environment
    vi.stubEnv('PERURI_CHAIN_KEYSTORE_PASSWORD', 'a long pilot password 1234');
    // When the key is started early and then a key for another password is asked for
    const early = await startInitKeystoreKeyEarly(['init', '--spec', 'network.yaml', '--dir', 'ws']);
    const other = startKeystoreKey('another long password 99', 'dev');
    // Then that request derives its own key, and the early one is not handed out later either
    expect(early).toBeDefined();
    expect(other).not.toBe(early);
    const later = startKeystoreKey('a long pilot password 1234', 'standard');
    expect(later).not.toBe(early);
    await Promise.all([early!.derived, other.derived, later.derived]);
  });

  it.each([
    ['init --help', ['init', '--help']],
    ['init -h', ['init', '--example', 'pilot', '-h']],
    ['another command', ['render', '--dir', 'ws']],
  ])('starts nothing for %s', async (_case, argv) => {
    vi.stubEnv('PERURI_CHAIN_KEYSTORE_PASSWORD', 'a long pilot password 1234');
    expect(await startInitKeystoreKeyEarly(argv)).toBeUndefined();
  });

  it('starts nothing for a password init would refuse, nor for a password file that is missing', async () => {
    vi.stubEnv('PERURI_CHAIN_KEYSTORE_PASSWORD', 'short');
    expect(await startInitKeystoreKeyEarly(['init', '--example', 'pilot'])).toBeUndefined();
    const missing = join(await aTempDir(), 'missing');
    expect(
      await startInitKeystoreKeyEarly(['init', '--example', 'pilot', '--keystore-password-file', missing]),
    ).toBeUndefined();
  });
});

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aTempDir } from '../../test/support/temp-dir.js';
import { runLocal } from './exec.js';
import {
  checkHostKey,
  hostKeyFingerprint,
  hostKeyType,
  knownHostsName,
  recordedHostKeyTypes,
  recordHostKey,
} from './known-hosts.js';

// A fresh public key made by OpenSSH's own ssh-keygen, in wire format, with its fingerprint as
// ssh-keygen prints it.
async function aPublicKey(dir: string, type: 'ed25519' | 'ecdsa' = 'ed25519') {
  const file = join(dir, `key-${type}-${Math.random().toString(36).slice(2)}`);
  await runLocal('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', file]);
  const publicLine = await readFile(`${file}.pub`, 'utf8');
  const fingerprint = (await runLocal('ssh-keygen', ['-lf', `${file}.pub`])).stdout.split(' ')[1];
  return {
    key: Buffer.from(publicLine.split(' ')[1]!, 'base64'),
    publicLine: publicLine.trim(),
    fingerprint,
  };
}

describe('knownHostsName', () => {
  it.each([
    ['Example.COM', 22, 'example.com'],
    ['127.0.0.1', 2222, '[127.0.0.1]:2222'],
  ])('writes %s port %d as %s', (host, port, name) => {
    expect(knownHostsName(host, port)).toBe(name);
  });
});

describe('hostKeyFingerprint and hostKeyType', () => {
  it('agree with ssh-keygen', async () => {
    // Given a key made by ssh-keygen
    const dir = await aTempDir();
    const { key, fingerprint, publicLine } = await aPublicKey(dir, 'ecdsa');
    // When its fingerprint and type are computed
    // Then they are what OpenSSH prints
    expect(hostKeyFingerprint(key)).toBe(fingerprint);
    expect(hostKeyType(key)).toBe(publicLine.split(' ')[0]);
    expect(hostKeyType(Buffer.from([0, 0]))).toBe('unknown');
  });
});

describe('checkHostKey', () => {
  it('knows nothing when the file is missing', async () => {
    const dir = await aTempDir();
    const { key } = await aPublicKey(dir);
    expect(await checkHostKey(join(dir, 'absent'), '127.0.0.1', 2222, key)).toEqual({ status: 'unknown' });
  });

  it('records a key that ssh-keygen then finds for [host]:port, and knows it afterwards', async () => {
    // Given an empty workspace folder and a server key
    const dir = await aTempDir();
    const file = join(dir, 'nested', 'known_hosts');
    const { key } = await aPublicKey(dir);
    // When the key is recorded for 127.0.0.1:2222
    await recordHostKey(file, '127.0.0.1', 2222, key);
    // Then the line has OpenSSH's form, ssh-keygen finds it, and the check says known
    const text = await readFile(file, 'utf8');
    expect(text).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
    const found = await runLocal('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file]);
    expect(found.stdout).toContain(key.toString('base64'));
    expect(await checkHostKey(file, '127.0.0.1', 2222, key)).toEqual({ status: 'known' });
    // And the same host on another port is still unknown
    expect(await checkHostKey(file, '127.0.0.1', 2223, key)).toEqual({ status: 'unknown' });
  });

  it('reports a different key for a recorded host as changed, with the recorded fingerprint', async () => {
    // Given a host recorded with one key
    const dir = await aTempDir();
    const file = join(dir, 'known_hosts');
    const old = await aPublicKey(dir);
    const presented = await aPublicKey(dir);
    await recordHostKey(file, 'node-1.example', 22, old.key);
    // When it presents another key
    const check = await checkHostKey(file, 'node-1.example', 22, presented.key);
    // Then the key has changed and the old fingerprint is given
    expect(check).toEqual({ status: 'changed', recorded: [`ssh-ed25519 ${old.fingerprint}`] });
  });

  it('reads hashed names, patterns, negations, comments, @revoked, and appends after a line without newline', async () => {
    // Given a file written by hand and by ssh-keygen -H
    const dir = await aTempDir();
    const file = join(dir, 'known_hosts');
    const hashed = await aPublicKey(dir);
    const wildcard = await aPublicKey(dir);
    const revoked = await aPublicKey(dir);
    await writeFile(file, `[10.0.0.5]:2200 ${hashed.publicLine}\n`);
    await runLocal('ssh-keygen', ['-H', '-f', file]);
    const hashedText = await readFile(file, 'utf8');
    expect(hashedText).toMatch(/^\|1\|/);
    await writeFile(
      file,
      `# comment\n${hashedText}*.pilot.example,!bad.pilot.example ${wildcard.publicLine}\n` +
        `@revoked * ${revoked.publicLine}`,
    );
    // When keys are checked
    // Then the hashed entry, the pattern, its negation and the revocation are honoured
    expect(await checkHostKey(file, '10.0.0.5', 2200, hashed.key)).toEqual({ status: 'known' });
    expect(await checkHostKey(file, 'Node-2.pilot.example', 22, wildcard.key)).toEqual({ status: 'known' });
    expect(await checkHostKey(file, 'bad.pilot.example', 22, wildcard.key)).toEqual({ status: 'unknown' });
    expect(await checkHostKey(file, 'anything', 22, revoked.key)).toEqual({ status: 'revoked' });
    expect(await recordedHostKeyTypes(file, 'node-2.pilot.example', 22)).toEqual(['ssh-ed25519']);
    // And a recorded key goes on a line of its own
    await recordHostKey(file, 'new.example', 22, hashed.key);
    expect(await checkHostKey(file, 'new.example', 22, hashed.key)).toEqual({ status: 'known' });
    expect(await checkHostKey(file, 'anything', 22, revoked.key)).toEqual({ status: 'revoked' });
  });
});

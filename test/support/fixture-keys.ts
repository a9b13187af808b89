import { readFileSync } from 'node:fs';
import { fixedKeySource, type KeySource } from '../../src/core/keys/key-source.js';
import { identityFromPrivateKey, type NodeIdentity } from '../../src/core/keys/node-key.js';
import { hexToBytes } from '@noble/hashes/utils.js';

/** The committed test fixture keys (derived from public strings; never for a real network). */
export function fixtureKeys(): Record<string, string> {
  const file = new URL('../fixtures/keys/fixture-keys.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, string> }).keys;
}

/** A key source that hands out the fixture keys by node or account name. */
export function fixtureKeySource(): KeySource {
  return fixedKeySource(fixtureKeys());
}

/** The identity (public key, address) of a fixture key. */
export function fixtureIdentity(name: string): NodeIdentity {
  const hex = fixtureKeys()[name];
  if (!hex) throw new Error(`No fixture key ${name}`);
  return identityFromPrivateKey(hexToBytes(hex.slice(2)));
}

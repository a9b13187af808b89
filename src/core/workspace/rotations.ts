import { join } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import { KEY_ROTATIONS_FILE } from './layout.js';
import { readOptional } from './read-optional.js';
import { writeJsonAtomically } from '../../io/files.js';

/** One finished key rotation, as the history records it. */
export interface CompletedRotation {
  /** `validator` (a node key) or the account role rotated (`minter`, `admin`). */
  kind: 'validator' | 'minter' | 'admin';
  /** The node, or for an admin the organisation; absent for the minter. */
  subject?: string;
  from: string;
  to: string;
  completedAt: string;
}

/**
 * The history of key rotations (`key-rotations.json`). Genesis is history: once a validator key
 * was rotated, the genesis keeps the validators it was made with, recorded here at the first
 * rotation, while everything else follows the current keys.
 */
export interface KeyRotationsRecord {
  version: 1;
  /** The validator addresses in genesis.json's extraData, ascending. */
  genesisValidators: string[];
  rotations: CompletedRotation[];
}

/**
 * Reads the rotation history of a workspace.
 * @param dir - the workspace
 * @returns the record, or undefined when no key was ever rotated
 * @throws InputError when the file is not such a record
 */
export async function readKeyRotations(dir: string): Promise<KeyRotationsRecord | undefined> {
  const text = await readOptional(join(dir, KEY_ROTATIONS_FILE));
  if (text === undefined) return undefined;
  let parsed: Partial<KeyRotationsRecord> | null;
  try {
    parsed = JSON.parse(text) as Partial<KeyRotationsRecord> | null;
  } catch (cause) {
    throw invalid('it is not JSON', cause);
  }
  if (
    parsed === null ||
    parsed.version !== 1 ||
    !Array.isArray(parsed.genesisValidators) ||
    !parsed.genesisValidators.every((address) => /^0x[0-9a-f]{40}$/.test(String(address))) ||
    !Array.isArray(parsed.rotations)
  ) {
    throw invalid('it is not a version 1 key rotation record');
  }
  return parsed as KeyRotationsRecord;
}

/**
 * Writes the rotation history atomically (temporary file, then rename).
 * @param dir - the workspace
 * @param record - the history
 */
export async function writeKeyRotations(dir: string, record: KeyRotationsRecord): Promise<void> {
  await writeJsonAtomically(join(dir, KEY_ROTATIONS_FILE), record);
}

function invalid(reason: string, cause?: unknown): InputError {
  return new InputError(ErrorCodes.WORKSPACE_INVALID, `${KEY_ROTATIONS_FILE} cannot be read: ${reason}`, {
    hint: `${KEY_ROTATIONS_FILE} records which validators the genesis holds; restore it from a snapshot or version control.`,
    cause,
  });
}

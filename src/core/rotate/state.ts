import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import { ROTATE_STATE_FILE } from '../workspace/layout.js';
import { readOptional } from '../workspace/read-optional.js';
import type { RotationOrder, ValidatorRotationStep } from './plan.js';
import { writeJsonAtomically } from '../../io/files.js';

/** Proposals this rotation made (`ibft_proposeValidatorVote`) and has not discarded yet. */
export interface RecordedProposal {
  subject: string;
  add: boolean;
  /** The nodes it was proposed on. */
  nodes: string[];
}

/** A validator key rotation under way. */
export interface ValidatorRotationState {
  version: 1;
  kind: 'validator';
  network: string;
  chainId: number;
  node: string;
  old: { address: string; publicKey: string };
  /** `keyFile`: workspace-relative, 0600, until it replaces the node's key; null for an HSM-held key. */
  new: { address: string; publicKey: string; keyFile: string | null };
  /** The order chosen when the rotation started; records written before there was a choice lack it: in-first. */
  order?: RotationOrder;
  done: ValidatorRotationStep[];
  proposals: RecordedProposal[];
  /** Where the old key went, once archived (workspace-relative). */
  archivedKey?: string;
  startedAt: string;
}

/** The steps of an account rotation, in order. */
export const ACCOUNT_ROTATION_STEPS = ['grant', 'switch', 'revoke'] as const;
export type AccountRotationStep = (typeof ACCOUNT_ROTATION_STEPS)[number];

/** An account (minter or an organisation's admin) key rotation under way. */
export interface AccountRotationState {
  version: 1;
  kind: 'account';
  network: string;
  chainId: number;
  account: 'minter' | 'admin';
  /** The organisation whose admin rotates. */
  organisation?: string;
  old: { address: string };
  /** The new keystore (workspace-relative, 0600) until it replaces the old one. */
  new: { address: string; keystoreFile: string };
  done: AccountRotationStep[];
  archivedKey?: string;
  startedAt: string;
}

export type RotationState = ValidatorRotationState | AccountRotationState;

/**
 * Reads the record of the rotation under way.
 * @param dir - the workspace
 * @returns the record, or undefined when none is under way
 * @throws InputError when the file is not a record
 */
export async function readRotationState(dir: string): Promise<RotationState | undefined> {
  const text = await readOptional(join(dir, ROTATE_STATE_FILE));
  if (text === undefined) return undefined;
  let parsed: Partial<RotationState> | null;
  try {
    parsed = JSON.parse(text) as Partial<RotationState> | null;
  } catch (cause) {
    throw invalid('it is not JSON', cause);
  }
  if (
    parsed === null ||
    parsed.version !== 1 ||
    (parsed.kind !== 'validator' && parsed.kind !== 'account') ||
    !Array.isArray(parsed.done)
  ) {
    throw invalid('it is not a version 1 rotation record');
  }
  return parsed as RotationState;
}

/**
 * Writes the record atomically (temporary file, then rename); it holds addresses, never keys.
 * @param dir - the workspace
 * @param state - the record
 */
export async function writeRotationState(dir: string, state: RotationState): Promise<void> {
  await writeJsonAtomically(join(dir, ROTATE_STATE_FILE), state);
}

/**
 * Removes the record once the rotation is complete.
 * @param dir - the workspace
 */
export async function clearRotationState(dir: string): Promise<void> {
  await rm(join(dir, ROTATE_STATE_FILE), { force: true });
}

function invalid(reason: string, cause?: unknown): InputError {
  return new InputError(ErrorCodes.WORKSPACE_INVALID, `${ROTATE_STATE_FILE} cannot be read: ${reason}`, {
    hint: `${ROTATE_STATE_FILE} records a rotation under way; restore it, or move it aside only if no rotation is under way.`,
    cause,
  });
}

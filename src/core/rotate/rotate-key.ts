import { ErrorCodes, InputError } from '../errors.js';
import type { Step } from '../steps.js';
import { prepareAccountRotation, type AccountRotationOptions } from './account.js';
import {
  prepareValidatorRotation,
  type RotateKeyContext,
  type ValidatorRotationOptions,
} from './validator.js';

/** Options of {@link prepareKeyRotation}: a validator node or an account, and what both need. */
export type KeyRotationOptions = Omit<ValidatorRotationOptions, 'node'> &
  Omit<AccountRotationOptions, 'account'> & {
    node?: string;
    account?: 'minter' | 'admin';
  };

/**
 * Builds the steps of a key rotation: a validator's node key (`node`) or an account key (`account`).
 * @param options - exactly one of `node` and `account`, plus workspace, login, secrets and limits
 * @returns the steps and the context whose `result` the last step sets
 * @throws InputError when neither or both are given
 * @example
 * const { steps, context } = await prepareKeyRotation({ dir, node: 'pds', dryRun: true, ... });
 */
export async function prepareKeyRotation(
  options: KeyRotationOptions,
): Promise<{ steps: Step<RotateKeyContext>[]; context: RotateKeyContext }> {
  const { node, account, ...rest } = options;
  if ((node === undefined) === (account === undefined)) {
    throw new InputError(ErrorCodes.FLAG_INVALID, 'Give exactly one of --node and --account');
  }
  if (node !== undefined) return prepareValidatorRotation({ ...rest, node });
  return prepareAccountRotation({ ...rest, account: account! });
}

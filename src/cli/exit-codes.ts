import type { ErrorKind } from '../core/errors.js';

/** The documented exit codes; the README's table and the tests are built on this one object. */
export const ExitCodes = {
  ok: 0,
  internal: 1,
  usage: 2,
  badInput: 3,
  remoteFailed: 4,
  refused: 5,
  interrupted: 130,
} as const;

/** Exit code for each kind of domain error. */
export const exitCodeOfKind: Record<ErrorKind, number> = {
  input: ExitCodes.badInput,
  remote: ExitCodes.remoteFailed,
  refused: ExitCodes.refused,
  bug: ExitCodes.internal,
  interrupted: ExitCodes.interrupted,
};

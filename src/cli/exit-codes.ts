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

/** What each exit code means, for the README table (generated) and `--help`. */
export const exitCodeMeanings: { code: number; meaning: string }[] = [
  { code: ExitCodes.ok, meaning: 'Success.' },
  {
    code: ExitCodes.internal,
    meaning:
      'Internal error: a bug in peruri-chain (run again with --verbose for a stack trace and report it).',
  },
  { code: ExitCodes.usage, meaning: 'Usage: unknown command or flag, missing or conflicting flags.' },
  {
    code: ExitCodes.badInput,
    meaning: 'Bad input: invalid spec, workspace, key file or flag value; every problem is listed.',
  },
  {
    code: ExitCodes.remoteFailed,
    meaning: 'A remote step failed: SSH, Docker, a process or an RPC endpoint; the host is named.',
  },
  {
    code: ExitCodes.refused,
    meaning: 'Refused: it would destroy keys or data, or a precondition does not hold; nothing was changed.',
  },
  {
    code: ExitCodes.interrupted,
    meaning: 'Interrupted (Ctrl-C or SIGTERM) between steps; atomic writes leave nothing half done.',
  },
];

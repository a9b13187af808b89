import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { describeRequiring } from './requirement.js';

// The shared reference data sits beside the repository: <root>/../shared/reference/.
const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/reference/', import.meta.url));

/**
 * Declares a suite over a reference data file from ../shared/reference. Without the file the
 * suite is skipped with the reason printed, except in CI, where its absence fails.
 * @param title - suite title
 * @param file - path below shared/reference, e.g. `besu/node-key-vectors.json`
 * @param body - declares the tests, given the parsed file
 */
export function describeWithReference<T>(title: string, file: string, body: (data: T) => void): void {
  const path = `${REFERENCE_DIR}${file}`;
  const reason = existsSync(path) ? undefined : `the reference data is not at ${path}`;
  describeRequiring(title, 'reference data', reason, () => body(JSON.parse(readFileSync(path, 'utf8')) as T));
}

/** The InputError an action throws (fails the test when it throws nothing or something else). */
export function thrownBy(action: () => unknown): InputError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected the call to throw');
}

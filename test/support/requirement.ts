import { describe, expect, it } from 'vitest';

/**
 * The one rule for tests that need something outside the repository (a service, a binary,
 * reference data): declared as `it`s inside the current suite, they are skipped with the reason
 * printed when it is missing, except in CI (CI=true), where its absence is a failure, so nothing
 * goes silently untested.
 * @param title - what the tests are about
 * @param requirement - what they need, e.g. "OpenSSH server"
 * @param reason - why it is missing
 */
export function declareMissing(title: string, requirement: string, reason: string): void {
  if (process.env.CI === 'true') {
    it(`${title}: ${requirement} present`, () => expect.fail(reason));
  } else {
    console.warn(`Skipping "${title}": ${reason}`);
    it.skip(`${title} (skipped: ${reason})`, () => {});
  }
}

/**
 * Declares a suite when its requirement is met, otherwise skips it as {@link declareMissing} says.
 * @param title - suite title
 * @param requirement - what it needs
 * @param reason - why that is missing, or undefined when it is there
 * @param body - declares the tests
 */
export function describeRequiring(
  title: string,
  requirement: string,
  reason: string | undefined,
  body: () => void,
): void {
  if (reason === undefined) describe(title, body);
  else declareMissing(title, requirement, reason);
}

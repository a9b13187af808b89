import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The package root (where templates/, genesis/, examples/ and contracts/ live). This module is
 * at src/core/ under tsx and dist/core/ once built: two levels below the root either way.
 */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * An absolute path inside the installed package.
 * @param segments - path segments below the package root
 */
export function packagePath(...segments: string[]): string {
  return [packageRoot.replace(/\/$/, ''), ...segments].join('/');
}

let version: string | undefined;

/** This package's version (package.json), read once. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}

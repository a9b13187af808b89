#!/usr/bin/env node
// On every start oclif checks Node against @oclif/core's own engines range, loading semver for it
// (~10 ms of a ~170 ms start). Our package.json's engines range is the stricter one, and npm
// checks that at install; so the check is off unless the caller set the variable themselves.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
// Most of init's time is the keystores' scrypt: it starts before oclif loads (see the module).
if (process.argv[2] === 'init') {
  const { startInitKeystoreKeyEarly } = await import('../dist/cli/early-keystore-key.js');
  await startInitKeystoreKeyEarly(process.argv.slice(2));
}
const { execute } = await import('@oclif/core');

await execute({ dir: import.meta.url });

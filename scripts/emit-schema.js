// Writes network.schema.json and the spec validator from the compiled schema module, so the
// published schema is always the one the code validates with (a test fails when a committed copy
// drifts).
import { writeFileSync } from 'node:fs';
import { schemaDocument } from '../dist/core/spec/schema-document.js';
import { SPEC_VALIDATOR_FILE, specValidatorCode } from '../dist/core/spec/validator-code.js';

writeFileSync(new URL('../network.schema.json', import.meta.url), schemaDocument());
// The spec validator as ajv standalone code: committed in src (tests and tsx run from there) and
// written to dist, which tsc does not copy it to.
const validatorCode = specValidatorCode();
for (const base of ['../src/', '../dist/']) {
  writeFileSync(new URL(base + SPEC_VALIDATOR_FILE, import.meta.url), validatorCode);
}

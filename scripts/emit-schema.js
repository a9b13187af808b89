// Writes network.schema.json from the compiled schema module, so the published schema is
// always the one the code validates with (a test fails when the committed copy drifts).
import { writeFileSync } from 'node:fs';
import { schemaDocument } from '../dist/core/spec/schema-document.js';

writeFileSync(new URL('../network.schema.json', import.meta.url), schemaDocument());

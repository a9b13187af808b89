import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { schemaDocument } from '../src/core/spec/schema-document.js';
import { SPEC_VALIDATOR_FILE, specValidatorCode } from '../src/core/spec/validator-code.js';

const root = new URL('../', import.meta.url);

describe('generated files stay in step with the code', () => {
  it('network.schema.json is the schema the code validates with', () => {
    expect(readFileSync(new URL('network.schema.json', root), 'utf8')).toBe(schemaDocument());
  });

  it('the generated spec validator is the one ajv compiles from the schema', () => {
    expect(readFileSync(new URL(`src/${SPEC_VALIDATOR_FILE}`, root), 'utf8')).toBe(specValidatorCode());
  });

  it('README.md holds the current command reference, exit codes and spec reference', async () => {
    const result = await execa('node', ['scripts/docs.js', '--check'], { cwd: root, reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

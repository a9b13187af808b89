import { readFile } from 'node:fs/promises';
import { ErrorCodes, InputError } from '../errors.js';
import { problemAt, readYaml, schemaProblems } from '../yaml-validation.js';
import { checkSpecRules } from './rules.js';
// Generated from networkSpecSchema at build time (validator-code.ts), not compiled at each run.
import { validate as validateSpec } from './network-spec-validator.js';
import type { NetworkSpec } from './types.js';

export interface LoadSpecResult {
  spec: NetworkSpec;
  /** The YAML text as given, kept verbatim (with its comments) for the workspace copy. */
  text: string;
  /** Things the operator should know that do not stop the work (fault tolerance, ...). */
  warnings: string[];
}

/**
 * Reads and validates a network spec file.
 * @param path - the `network.yaml` to read
 * @returns the validated spec with defaults filled in, its text and warnings
 * @throws InputError (PC_SPEC_NOT_FOUND, PC_SPEC_INVALID) listing every problem at once
 */
export async function loadSpecFile(path: string): Promise<LoadSpecResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new InputError(ErrorCodes.SPEC_NOT_FOUND, `Cannot read the network spec ${path}`, {
      hint: 'Check the path, or start from a built-in example with --example pilot or --example local.',
      cause,
    });
  }
  return parseSpec(text, path);
}

/**
 * Parses and validates network spec text: YAML syntax, the JSON Schema (all errors collected),
 * then the cross-field rules.
 * @param text - YAML text of a network spec
 * @param source - a name for the text in messages, usually its file path
 * @returns the validated spec with defaults filled in, the text and warnings
 * @throws InputError (PC_SPEC_INVALID) whose details name path, expectation, finding and line
 * @example
 * const { spec } = parseSpec(await readFile('network.yaml', 'utf8'), 'network.yaml');
 */
export function parseSpec(text: string, source: string): LoadSpecResult {
  const parsed = readYaml(text);
  if ('syntaxErrors' in parsed) throw invalid(source, parsed.syntaxErrors);
  if (!validateSpec(parsed.source.data)) {
    throw invalid(source, schemaProblems(validateSpec.errors, parsed.source));
  }
  const spec = parsed.source.data as NetworkSpec;
  const { errors, warnings } = checkSpecRules(spec);
  if (errors.length > 0) {
    throw invalid(
      source,
      errors.map((problem) => problemAt(parsed.source, problem.path, problem.message)),
    );
  }
  return { spec, text, warnings };
}

function invalid(source: string, details: string[]): InputError {
  return new InputError(
    ErrorCodes.SPEC_INVALID,
    `The network spec ${source} is not valid (${details.length} problem${details.length === 1 ? '' : 's'})`,
    { details, hint: 'Fix every listed problem; the schema is network.schema.json in the workspace.' },
  );
}

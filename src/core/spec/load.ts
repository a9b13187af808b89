import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LineCounter, parseDocument, type Document, type Tags } from 'yaml';
import { ErrorCodes, InputError } from '../errors.js';
import { checkSpecRules } from './rules.js';
import { networkSpecSchema } from './schema.js';
import type { NetworkSpec } from './types.js';

// ajv-formats ships CommonJS with the function as `default` of the namespace under NodeNext.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export interface LoadSpecResult {
  spec: NetworkSpec;
  /** The YAML text as given, kept verbatim (with its comments) for the workspace copy. */
  text: string;
  /** Things the operator should know that do not stop the work (fault tolerance, ...). */
  warnings: string[];
}

let compiled: ReturnType<Ajv['compile']> | undefined;

function validator() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
    addFormats(ajv, ['ipv4', 'ipv6']);
    compiled = ajv.compile(networkSpecSchema);
  }
  return compiled;
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
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    customTags: withoutRadixIntegers,
  });
  if (document.errors.length > 0) {
    throw invalid(
      source,
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `line ${line}, column ${col}: ${error.message.split('\n')[0]}`;
      }),
    );
  }
  const data: unknown = document.toJS() ?? {};
  const validate = validator();
  if (!validate(data)) {
    const problems = (validate.errors ?? []).filter(isReportable).map((error) => {
      const path = errorPath(error);
      return `${displayPath(path)}${lineOf(document, lineCounter, path)}: ${describeAjvError(error)}`;
    });
    throw invalid(source, unique(problems));
  }
  const spec = data as NetworkSpec;
  const { errors, warnings } = checkSpecRules(spec);
  if (errors.length > 0) {
    throw invalid(
      source,
      errors.map(
        (problem) =>
          `${displayPath(problem.path)}${lineOf(document, lineCounter, problem.path)}: ${problem.message}`,
      ),
    );
  }
  return { spec, text, warnings };
}

/**
 * Addresses and keys are hex: YAML 1.2 would read an unquoted `0x5ff6…` as a number (and
 * `0o17` as octal). No field of the spec is written in hex or octal, so both stay strings.
 */
function withoutRadixIntegers(tags: Tags): Tags {
  return tags.filter(
    (tag) =>
      !(
        typeof tag === 'object' &&
        tag.tag === 'tag:yaml.org,2002:int' &&
        (tag.format === 'HEX' || tag.format === 'OCT')
      ),
  );
}

function invalid(source: string, details: string[]): InputError {
  return new InputError(
    ErrorCodes.SPEC_INVALID,
    `The network spec ${source} is not valid (${details.length} problem${details.length === 1 ? '' : 's'})`,
    { details, hint: 'Fix every listed problem; the schema is network.schema.json in the workspace.' },
  );
}

/** A failing anyOf also reports each branch; the anyOf error alone says it best. */
function isReportable(error: ErrorObject): boolean {
  return !error.schemaPath.includes('/anyOf/');
}

function errorPath(error: ErrorObject): (string | number)[] {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  if (error.keyword === 'additionalProperties') {
    segments.push(String(error.params.additionalProperty));
  }
  return segments;
}

/** `nodes[1].p2pPort`, or `(top level)` for the document itself. */
export function displayPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');
}

function lineOf(document: Document, lineCounter: LineCounter, path: readonly (string | number)[]): string {
  for (let length = path.length; length >= 0; length--) {
    const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) {
      // For a missing key the nearest existing parent is the best place to point at.
      return ` (line ${lineCounter.linePos(range[0]).line})`;
    }
  }
  return '';
}

function describeAjvError(error: ErrorObject): string {
  const found = `found ${describeValue(error.data)}`;
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case 'required':
      return `missing required property "${String(error.params.missingProperty)}"`;
    case 'additionalProperties':
      return `unknown property; expected one of ${Object.keys(
        (error.parentSchema as { properties?: object }).properties ?? {},
      ).join(', ')}`;
    case 'type':
      return `expected ${String(error.params.type)}${description ? ` (${description})` : ''}, ${found}`;
    case 'enum':
      return `expected one of ${(error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}, ${found}`;
    case 'minimum':
    case 'maximum':
      return `expected ${description ?? `a number ${error.params.comparison} ${error.params.limit}`} (${error.params.comparison} ${error.params.limit}), ${found}`;
    case 'minItems':
      return `expected at least ${error.params.limit} item(s), ${found}`;
    case 'minLength':
    case 'maxLength':
      return `expected ${description ?? 'a string'} of ${error.keyword === 'minLength' ? 'at least' : 'at most'} ${error.params.limit} character(s), ${found}`;
    case 'pattern':
    case 'format':
    case 'anyOf':
      return `expected ${description ?? error.message ?? 'a valid value'}, ${found}`;
    default:
      return `${error.message ?? 'invalid'}, ${found}`;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return String(value);
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

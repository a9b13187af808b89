import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, type Document, type Tags } from 'yaml';

/**
 * Validating YAML files (network.yaml, the adapter config) the same way: every problem collected
 * and printed as `path (line N): expected X, found Y`.
 */

/** A parsed YAML file, kept with its positions so that problems can name their line. */
export interface YamlSource {
  document: Document;
  lineCounter: LineCounter;
  /** The plain value of the document; an empty file is an empty object. */
  data: unknown;
}

/** A problem found by a rule that a JSON Schema cannot express. */
export interface PathProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Parses YAML text. Unquoted `0x…` stays a string: YAML 1.2 would read it as a hex integer, and
 * addresses and keys are hex (`0o17` likewise stays a string).
 * @param text - the YAML text
 * @returns the source, or every syntax error with its line and column
 */
export function readYaml(text: string): { source: YamlSource } | { syntaxErrors: string[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    customTags: withoutRadixIntegers,
  });
  if (document.errors.length > 0) {
    return {
      syntaxErrors: document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `line ${line}, column ${col}: ${error.message.split('\n')[0]}`;
      }),
    };
  }
  return { source: { document, lineCounter, data: document.toJS() ?? {} } };
}

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

/**
 * Every ajv error as one printable line, duplicates removed. ajv must run with `verbose: true`
 * (for the offending value and the schema's description) and `allErrors: true`.
 * @param errors - ajv's errors
 * @param source - the parsed file
 */
export function schemaProblems(
  errors: readonly ErrorObject[] | null | undefined,
  source: YamlSource,
): string[] {
  const lines = (errors ?? [])
    // A failing anyOf also reports each branch; the anyOf error alone says it best.
    .filter((error) => !error.schemaPath.includes('/anyOf/'))
    .map((error) => problemAt(source, errorPath(error), describeAjvError(error)));
  return [...new Set(lines)];
}

/**
 * One problem as printed: `nodes[1].p2pPort (line 23): message`.
 * @param source - the parsed file
 * @param path - where in the document
 * @param message - what is wrong
 */
export function problemAt(source: YamlSource, path: readonly (string | number)[], message: string): string {
  return `${displayPath(path)}${lineOf(source, path)}: ${message}`;
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

function errorPath(error: ErrorObject): (string | number)[] {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  return segments;
}

function lineOf({ document, lineCounter }: YamlSource, path: readonly (string | number)[]): string {
  for (let length = path.length; length >= 0; length--) {
    const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    // For a missing key the nearest existing parent is the best place to point at.
    if (range) return ` (line ${lineCounter.linePos(range[0]).line})`;
  }
  return '';
}

function describeAjvError(error: ErrorObject): string {
  const found = `found ${describeValue(error.data)}`;
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  const { params } = error;
  switch (error.keyword) {
    case 'required':
      return `missing required property "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `unknown property; expected one of ${Object.keys(
        (error.parentSchema as { properties?: object }).properties ?? {},
      ).join(', ')}`;
    case 'type':
      return `expected ${String(params.type)}${description ? ` (${description})` : ''}, ${found}`;
    case 'enum':
      return `expected one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}, ${found}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `expected ${description ?? 'a number'} (${String(params.comparison)} ${String(params.limit)}), ${found}`;
    case 'minItems':
      return `expected at least ${String(params.limit)} item(s), ${found}`;
    case 'minLength':
    case 'maxLength':
      return `expected ${description ?? 'a string'} of ${error.keyword === 'minLength' ? 'at least' : 'at most'} ${String(params.limit)} character(s), ${found}`;
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
  if (typeof value === 'string') {
    // A URL in the wrong place may carry a password: never echo it.
    const shown = value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
    return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
  }
  return String(value);
}

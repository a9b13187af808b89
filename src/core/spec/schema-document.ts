import { networkSpecSchema } from './schema.js';

/**
 * The published JSON Schema document (`network.schema.json`) as text.
 * @returns the schema with a draft-07 `$schema` line, two-space indented, newline-terminated
 */
export function schemaDocument(): string {
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...networkSpecSchema }, null, 2)}\n`;
}

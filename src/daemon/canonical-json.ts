/**
 * JSON with object keys sorted at every level and no whitespace, so that equal values give equal
 * text (and equal hashes) whatever order their keys arrived in. Keys whose value is undefined are
 * left out, as JSON.stringify does.
 * @param value - a JSON value (objects, arrays, strings, finite numbers, booleans, null)
 * @returns the canonical text
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

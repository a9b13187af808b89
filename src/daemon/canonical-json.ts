/**
 * JSON with object keys sorted at every level and no whitespace, so that equal values give equal
 * text (and equal hashes) whatever order their keys arrived in. Keys whose value is undefined are
 * left out, as JSON.stringify does.
 * @param value - a JSON value (objects, arrays, strings, finite numbers, booleans, null)
 * @returns the canonical text
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Built by concatenation rather than map/join: it runs several times per activity taken.
  if (Array.isArray(value)) {
    let items = '';
    for (let index = 0; index < value.length; index++) {
      items += (index === 0 ? '' : ',') + canonicalJson(value[index] ?? null);
    }
    return `[${items}]`;
  }
  const record = value as Record<string, unknown>;
  let members = '';
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    members += (members === '' ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(item);
  }
  return `{${members}}`;
}

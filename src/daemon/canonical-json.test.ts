import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

// Stored hashes (request hashes, detail hashes, the audit chain) are made over this text: any
// change to it breaks every chain already written, so it is pinned byte for byte.
describe('canonicalJson', () => {
  it('sorts keys at every level and leaves no whitespace', () => {
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } };
    expect(canonicalJson(value)).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('leaves out members whose value is undefined and writes undefined items as null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1], c: {} })).toBe('{"b":[null,1],"c":{}}');
    expect(canonicalJson({ only: undefined })).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('orders keys by UTF-16 code units and escapes as JSON.stringify does', () => {
    const value = { é: 1, e: 2, Z: 3, '\u{1F600}': 4, 'q"uote': '\n' };
    expect(canonicalJson(value)).toBe('{"Z":3,"e":2,"q\\"uote":"\\n","é":1,"\u{1F600}":4}');
  });

  it('writes scalars as JSON.stringify does', () => {
    expect([1.5, -0, 'text', true, null].map(canonicalJson)).toEqual(['1.5', '0', '"text"', 'true', 'null']);
  });
});

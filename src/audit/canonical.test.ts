import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members, whatever the input order', () => {
    const a = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, u: undefined };
    const b = { a: { c: 'x', d: [3, { y: null, z: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });
  it('keeps array order and escapes strings as JSON does', () => {
    expect(canonicalJson(['b', 'a', 'é"'])).toBe('["b","a","é\\""]');
  });
});

import { describe, expect, it } from 'vitest';
import { isValidBsn } from './bsn.js';

describe('isValidBsn', () => {
  it('accepts test BSNs that pass the 11-test', () => {
    for (const bsn of ['999911120', '900186021', '999990019']) expect(isValidBsn(bsn)).toBe(true);
  });
  it('rejects a wrong check digit, wrong length, letters and all zeros', () => {
    for (const bsn of ['999911121', '99991112', '9999111200', '99991112a', '000000000'])
      expect(isValidBsn(bsn)).toBe(false);
  });
});

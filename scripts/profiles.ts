// `npm run profiles`: turns profiles/src/profiles.json into StructureDefinitions with a differential and a snapshot
// (the base R4 snapshot with the profile's constraints applied), written as profiles/StructureDefinition-*.json.
// `--check` writes nothing and exits 1 when a generated file is out of date (CI runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildStructureDefinitions, type ProfileSource } from '../src/mappings/profiles.js';
import { PROFILES_DIR } from '../src/paths.js';

const source = JSON.parse(
  readFileSync(path.join(PROFILES_DIR, 'src', 'profiles.json'), 'utf8'),
) as ProfileSource;
const check = process.argv.includes('--check');
let stale = 0;
const definitions = buildStructureDefinitions(source);
for (const sd of definitions) {
  const file = path.join(PROFILES_DIR, `StructureDefinition-${sd.id}.json`);
  const text = `${JSON.stringify(sd, null, 2)}\n`;
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    /* new */
  }
  if (current === text) continue;
  stale++;
  if (check) console.error(`out of date: profiles/StructureDefinition-${sd.id}.json (run npm run profiles)`);
  else writeFileSync(file, text);
}
console.log(`${definitions.length} StructureDefinitions; ${stale} ${check ? 'out of date' : 'written'}`);
if (check && stale) process.exitCode = 1;

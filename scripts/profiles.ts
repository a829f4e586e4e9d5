// `npm run profiles`: turns profiles/src/profiles.json into StructureDefinitions with a differential and a snapshot
// (the base R4 snapshot with the profile's constraints applied), written as profiles/StructureDefinition-*.json.
// `--check` writes nothing and exits 1 when a generated file is out of date (CI runs it).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildStructureDefinitions, type ProfileSource } from '../src/mappings/profiles.js';
import { PROFILES_DIR } from '../src/paths.js';
import { finish, generate } from './generated.js';

const source = JSON.parse(
  readFileSync(path.join(PROFILES_DIR, 'src', 'profiles.json'), 'utf8'),
) as ProfileSource;
let stale = 0;
const definitions = buildStructureDefinitions(source);
for (const sd of definitions) {
  const name = `StructureDefinition-${sd.id}.json`;
  const text = `${JSON.stringify(sd, null, 2)}\n`;
  if (generate(path.join(PROFILES_DIR, name), text, `profiles/${name}`, 'npm run profiles')) stale++;
}
finish(stale, `${definitions.length} StructureDefinitions`);

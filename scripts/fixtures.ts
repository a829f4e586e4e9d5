// `npm run fixtures`: writes, for every native record in fixtures/{referrals,youthcare-registrations,municipal-cases},
// the Bundle the mapping makes of it (.bundle.json), and for referral forms also their CSV form (.csv).
// `--check` only compares and exits 1 when a file is out of date (CI runs it).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '../src/paths.js';
import { FORMATS } from '../src/mappings/formats.js';
import type { NativeRecord } from '../src/mappings/fields.js';
import { finish, generate } from './generated.js';

export const FIXTURE_DIRS: Record<string, string> = {
  referrals: 'cjg-referral',
  'youthcare-registrations': 'youthcare-registration',
  'municipal-cases': 'municipal-case',
};

let stale = 0;
let records = 0;
for (const [folder, formatName] of Object.entries(FIXTURE_DIRS)) {
  const format = FORMATS[formatName]!;
  const dir = path.join(FIXTURES_DIR, folder);
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.bundle.json'))
    .sort()) {
    records++;
    const record = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as NativeRecord;
    const outputs: Record<string, string> = {
      [file.replace(/\.json$/, '.bundle.json')]: `${JSON.stringify(format.jsonToFhir(record), null, 2)}\n`,
    };
    if (format.toCsv) outputs[file.replace(/\.json$/, '.csv')] = format.toCsv([record]);
    for (const [name, text] of Object.entries(outputs))
      if (generate(path.join(dir, name), text, `fixtures/${folder}/${name}`, 'npm run fixtures')) stale++;
  }
}
finish(stale, `${records} native records`);

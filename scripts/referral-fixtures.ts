// `npm run fixtures:referrals`: writes, for every referral form in fixtures/referrals/*.json, its CSV form (.csv) and
// the Bundle the mapping makes of it (.bundle.json). `--check` only compares and exits 1 when a file is out of date.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '../src/paths.js';
import { referralJsonToFhir, referralsToCsv } from '../src/mappings/referral-format.js';
import type { NativeReferral } from '../src/mappings/cjg-referral.js';

const dir = path.join(FIXTURES_DIR, 'referrals');
const check = process.argv.includes('--check');
let stale = 0;
const forms = readdirSync(dir).filter((f) => /^\d+-[\w-]+\.json$/.test(f) && !f.endsWith('.bundle.json'));
for (const file of forms.sort()) {
  const form = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as NativeReferral;
  const outputs = {
    [file.replace(/\.json$/, '.csv')]: referralsToCsv([form]),
    [file.replace(/\.json$/, '.bundle.json')]: `${JSON.stringify(referralJsonToFhir(form), null, 2)}\n`,
  };
  for (const [name, text] of Object.entries(outputs)) {
    const target = path.join(dir, name);
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      /* new file */
    }
    if (current === text) continue;
    stale++;
    if (check) console.error(`out of date: fixtures/referrals/${name}`);
    else writeFileSync(target, text);
  }
}
console.log(`${forms.length} referral forms; ${stale} file(s) ${check ? 'out of date' : 'written'}`);
if (check && stale) process.exitCode = 1;

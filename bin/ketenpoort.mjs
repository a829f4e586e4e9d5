#!/usr/bin/env node
// `npx ketenpoort …`: runs the compiled CLI (dist/, from `npm run build`) when present, else the TypeScript source
// through tsx, which only a development checkout has installed.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'src', 'cli.js');
const source = path.join(root, 'src', 'cli.ts');
let cli;
if (existsSync(compiled)) {
  cli = await import(pathToFileURL(compiled).href);
} else if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('ketenpoort: no compiled build (dist/src/cli.js); run `npm run build` first');
    process.exit(1);
  }
  register();
  cli = await import(pathToFileURL(source).href);
} else {
  console.error('ketenpoort: no compiled build (dist/src/cli.js); run `npm run build` first');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));

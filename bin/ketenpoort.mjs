#!/usr/bin/env node
// `npx ketenpoort …`: runs the compiled CLI (dist/, from `npm run build`) when present, else the TypeScript source
// through tsx, which only a development checkout has installed. A checkout whose source is newer than its build runs
// the source, so that a stale dist/ never answers for edited code.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'src', 'cli.js');
const source = path.join(root, 'src', 'cli.ts');
const stale =
  existsSync(compiled) && existsSync(source) && statSync(source).mtimeMs > statSync(compiled).mtimeMs;

async function fromSource() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    return undefined;
  }
  return import(pathToFileURL(source).href);
}

let cli = existsSync(compiled) && !stale ? await import(pathToFileURL(compiled).href) : undefined;
if (!cli && existsSync(source)) cli = await fromSource();
if (!cli && existsSync(compiled)) cli = await import(pathToFileURL(compiled).href);
if (!cli) {
  console.error('ketenpoort: no compiled build (dist/src/cli.js); run `npm run build` first');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));

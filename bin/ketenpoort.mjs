#!/usr/bin/env node
// `npx ketenpoort …`: runs the TypeScript source through tsx in a checkout, the compiled CLI where only dist/ ships.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'src', 'cli.js');
let cli;
const source = path.join(root, 'src', 'cli.ts');
if (existsSync(source) || !existsSync(compiled)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(source).href);
} else {
  cli = await import(pathToFileURL(compiled).href);
}
process.exitCode = await cli.main(process.argv.slice(2));

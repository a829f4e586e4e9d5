// Generated files: the generators write them, and with --check (what CI runs) only say which are out of date.
import { readFileSync, writeFileSync } from 'node:fs';

export const checking = process.argv.includes('--check');

/**
 * Writes `text` to `file` unless the file already holds it; under --check names it as out of date instead. `label` is
 * the file as people know it, `regenerate` the command that rewrites it. Returns whether it was out of date.
 */
export function generate(file: string, text: string, label: string, regenerate: string): boolean {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    /* not there yet */
  }
  if (current === text) return false;
  if (checking) console.error(`out of date: ${label} (run ${regenerate})`);
  else writeFileSync(file, text);
  return true;
}

/** Ends a generator: prints its summary and, under --check, exits 1 when something was out of date. */
export function finish(stale: number, summary: string): void {
  console.log(`${summary}; ${stale} ${checking ? 'out of date' : 'written'}`);
  if (checking && stale) process.exitCode = 1;
}

// Where the project's data folders are, whether running from src/ (tsx) or from the compiled dist/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'profiles'))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the Ketenpoort project root (package.json and profiles/)');
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();
export const PROFILES_DIR = path.join(PROJECT_ROOT, 'profiles');
export const FIXTURES_DIR = path.join(PROJECT_ROOT, 'fixtures');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'src', 'store', 'migrations');

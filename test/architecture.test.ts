// The shape of the source tree, checked: no import cycles (type-only imports count), no import up a layer, no source
// file over 400 lines. docs/architecture.md explains the layers these rules keep.
import fs from 'node:fs';
import path from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/paths.js';

const SRC = path.join(PROJECT_ROOT, 'src');

/**
 * The layers, bottom to top. A module may import from its own layer and the ones below; the composition roots at the
 * top put the rest together. Each entry is a folder or file below src/.
 */
const LAYERS: string[][] = [
  ['fhir', 'time', 'config.ts', 'paths.ts', 'html.ts', 'sign-in-config.ts', 'reference-data.ts'],
  ['store'],
  ['consent', 'mappings', 'audit'],
  ['auth', 'person-index', 'exchange', 'reports', 'cds-hooks', 'context.ts'],
  ['http'],
  ['server.ts', 'main.ts', 'cli.ts', 'sandbox.ts', 'sandbox'],
];

function layerOf(file: string): number {
  const first = file.split('/')[0]!;
  const at = LAYERS.findIndex((names) => names.includes(first));
  if (at < 0) throw new Error(`${file} is in no layer: add its folder to LAYERS and to docs/architecture.md`);
  return at;
}

async function graph(): Promise<{ deps: Record<string, string[]>; circular: string[][] }> {
  const result = await madge(SRC, {
    fileExtensions: ['ts'],
    tsConfig: path.join(PROJECT_ROOT, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
  });
  // Source only: unit tests beside their code may use the test helpers outside src/.
  const source = (f: string) => !f.startsWith('../') && !f.endsWith('.test.ts');
  const deps = Object.fromEntries(
    Object.entries(result.obj())
      .filter(([from]) => source(from))
      .map(([from, tos]) => [from, tos.filter(source)]),
  );
  return { deps, circular: result.circular() };
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('source tree', () => {
  it('has no import cycles, type-only imports included', async () => {
    const { circular } = await graph();
    expect(circular).toEqual([]);
  });

  it('imports only from its own layer or below', async () => {
    const { deps } = await graph();
    const upward: string[] = [];
    for (const [from, tos] of Object.entries(deps)) {
      for (const to of tos) if (layerOf(to) > layerOf(from)) upward.push(`${from} → ${to}`);
    }
    expect(upward).toEqual([]);
  });

  it('puts every source file in a layer (a new folder is a decision, not an accident)', async () => {
    const { deps } = await graph();
    for (const file of Object.keys(deps)) expect(() => layerOf(file)).not.toThrow();
  });

  it('keeps every source file at 400 lines or fewer', () => {
    const long = sourceFiles(SRC)
      .map((f) => ({ file: path.relative(SRC, f), lines: fs.readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > 400);
    expect(long).toEqual([]);
  });

  it('is checked on a graph that sees the whole tree (the rules above cannot pass on an empty graph)', async () => {
    const { deps } = await graph();
    expect(Object.keys(deps).length).toBeGreaterThan(100);
    expect(deps['http/app.ts']?.length).toBeGreaterThan(10);
  });
});

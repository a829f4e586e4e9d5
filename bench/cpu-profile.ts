// Summary of a V8 .cpuprofile (node --cpu-prof): self time by area (a package, a folder of src/, node internals, the
// garbage collector) and the functions with the most self time.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function areaOf(url: string, fn: string): string {
  if (!url) return fn || '(anonymous)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/dist\/((?:src|bench)\/(?:[^/]+\/)?)/.exec(url)?.[1];
  return own ? own.replace(/\/$/, '') : url;
}

/**
 * Summarises the samples taken within [fromUs, toUs] of the monotonic clock (process.hrtime in µs; V8 stamps its
 * samples with the same clock on Linux), so that start-up and shut-down do not count; all samples when none fall in it.
 */
export async function summariseProfile(
  file: string,
  window: { fromUs: number; toUs: number },
  top = 15,
): Promise<string[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const collect = (inWindow: (t: number) => boolean) => {
    const self = new Map<number, number>();
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      t += delta;
      if (inWindow(t)) self.set(id, (self.get(id) ?? 0) + delta);
    });
    return self;
  };
  let selfUs = collect((t) => t >= window.fromUs && t <= window.toUs);
  const windowed = selfUs.size > 0;
  if (!windowed) selfUs = collect(() => true);
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${url ? `${area}:${lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `  self time by area (${(total / 1e6).toFixed(1)} s sampled${windowed ? ' during the load' : ', whole process: start-up included'}):`,
    ...sorted(areas).map(([a, us]) => `    ${pct(us)}  ${a}`),
    '  functions with the most self time:',
    ...sorted(functions).map(([f, us]) => `    ${pct(us)}  ${f}`),
  ];
}

// A small benchmark harness: warm up, time each call, print throughput and latency percentiles.
export interface BenchResult {
  name: string;
  ops: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function bench(
  name: string,
  fn: () => unknown,
  opts: { iterations: number; warmup?: number },
): Promise<BenchResult> {
  for (let i = 0; i < (opts.warmup ?? Math.ceil(opts.iterations / 10)); i++) await fn();
  const times = new Float64Array(opts.iterations);
  const start = performance.now();
  for (let i = 0; i < opts.iterations; i++) {
    const t = performance.now();
    const r = fn();
    if (r instanceof Promise) await r;
    times[i] = performance.now() - t;
  }
  const total = performance.now() - start;
  const sorted = Array.from(times).sort((a, b) => a - b);
  return report({
    name,
    ops: opts.iterations,
    perSecond: (opts.iterations / total) * 1000,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  });
}

export function report(r: BenchResult, target?: string): BenchResult {
  const line = `${r.name.padEnd(58)} ${r.perSecond.toFixed(0).padStart(9)} /s   p50 ${r.p50Ms.toFixed(3).padStart(8)} ms   p99 ${r.p99Ms.toFixed(3).padStart(8)} ms  (n=${r.ops})`;
  console.log(target ? `${line}   target ${target}` : line);
  return r;
}

/** Sequential requests, one at a time, timed from sending to the last byte of the body. */

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  count: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export async function measure(
  request: () => Promise<{ status: number }>,
  options: { warmUp: number; iterations: number; onMeasuring?: () => void },
): Promise<Latency> {
  for (let i = 0; i < options.warmUp; i++) await check(request());
  options.onMeasuring?.();
  const samples: number[] = [];
  for (let i = 0; i < options.iterations; i++) {
    const start = performance.now();
    await check(request());
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    mean: samples.reduce((sum, ms) => sum + ms, 0) / samples.length,
    count: samples.length,
  };
}

async function check(pending: Promise<{ status: number }>): Promise<void> {
  const { status } = await pending;
  if (status !== 200) throw new Error(`a measured request answered ${status}`);
}

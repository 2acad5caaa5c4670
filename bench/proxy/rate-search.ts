import type { LoadResult, Target } from "./load.js";
import { median } from "./report.js";

/** What one paced rate gave a proxy: medians over the tries. */
export interface RateStep {
  rate: number;
  name: string;
  /** p50 over the direct call's in the same try, ms. */
  addedP50: number;
  /** Requests per second the load generator got through. */
  achieved: number;
  failures: number;
  passed: boolean;
}

export interface RateSearch {
  /** How many times each rate was tried. */
  tries: number;
  /** Per proxy, the highest rate it passed at (0 when none). */
  maxRate: Record<string, number>;
  steps: RateStep[];
}

/**
 * The highest paced rate at which each proxy's p50 added latency stays under 1 ms, with
 * at least 90% of the rate got through and no failed request. Each rate is tried `tries`
 * times, the direct call and the proxies interleaved in a rotating order, and judged on
 * the medians: one try per rate made this the noisiest figure of the bench, because a
 * single slow second of the shared 2-core machine decided it. Stops at the first rate no
 * proxy passes.
 */
export async function searchMaxRate(options: {
  rates: number[];
  tries: number;
  direct: Target;
  proxies: Target[];
  runAt: (rate: number, target: Target) => Promise<LoadResult>;
  onStep?: () => void;
}): Promise<RateSearch> {
  const { rates, tries, direct, proxies, runAt } = options;
  const maxRate: Record<string, number> = Object.fromEntries(proxies.map((p) => [p.name, 0]));
  const steps: RateStep[] = [];
  for (const rate of rates) {
    const tried: Record<string, { added: number[]; achieved: number[]; failures: number }> = {};
    for (const proxy of proxies) tried[proxy.name] = { added: [], achieved: [], failures: 0 };
    for (let attempt = 0; attempt < tries; attempt += 1) {
      const all = [direct, ...proxies];
      const order = all.map((_, i) => all[(i + attempt) % all.length] as Target);
      const results = new Map<string, LoadResult>();
      for (const target of order) results.set(target.name, await runAt(rate, target));
      const directP50 = (results.get(direct.name) as LoadResult).p50;
      for (const proxy of proxies) {
        const result = results.get(proxy.name) as LoadResult;
        const entry = tried[proxy.name] as (typeof tried)[string];
        entry.added.push(result.p50 - directP50);
        entry.achieved.push(result.requests / result.seconds);
        entry.failures += result.failures;
      }
      options.onStep?.();
    }
    let anyPassed = false;
    for (const proxy of proxies) {
      const { added, achieved: got, failures } = tried[proxy.name] as (typeof tried)[string];
      const addedP50 = median(added);
      const achieved = Math.round(median(got));
      const passed = addedP50 < 1 && achieved >= rate * 0.9 && failures === 0;
      steps.push({ rate, name: proxy.name, addedP50, achieved, failures, passed });
      if (passed) {
        maxRate[proxy.name] = Math.max(maxRate[proxy.name] ?? 0, achieved);
        anyPassed = true;
      }
    }
    if (!anyPassed) break;
  }
  return { tries, maxRate, steps };
}

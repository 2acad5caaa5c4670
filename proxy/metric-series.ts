import { Counter, type Metric, type Registry } from "prom-client";

/**
 * Metric series counted in plain numbers and handed to prom-client only when it is scraped.
 *
 * Why not prom-client's own `inc`/`observe`: they validate and hash the label set on every
 * call, labelled children included (about half a microsecond and a few hundred bytes of
 * garbage each, and a model call makes six). Here a call adds to a number; the scrape does
 * the label work once per series.
 */

type Labels = Record<string, string>;

/** One counter series. */
export class CounterSeries {
  value = 0;
  /** How much of `value` prom-client has been given. */
  reported = 0;

  constructor(readonly labels: Labels) {}

  inc(amount = 1): void {
    this.value += amount;
  }
}

/** A prom-client counter whose series are counted here between scrapes. */
export class PlainCounter {
  private readonly byKey = new Map<string, CounterSeries>();

  constructor(config: { name: string; help: string; labelNames: string[]; registers: Registry[] }) {
    const series = this.byKey;
    new Counter({
      ...config,
      // Runs at each scrape: hands over what was counted since the last one.
      collect() {
        for (const s of series.values()) {
          if (s.value === s.reported) continue;
          this.inc(s.labels, s.value - s.reported);
          s.reported = s.value;
        }
      },
    });
  }

  /** The series named by `key` (its label values, joined), if counted yet. */
  find(key: string): CounterSeries | undefined {
    return this.byKey.get(key);
  }

  add(key: string, labels: Labels): CounterSeries {
    const series = new CounterSeries(labels);
    this.byKey.set(key, series);
    return series;
  }
}

/** One histogram series: per-bucket counts (not cumulative; the last is +Inf), sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A histogram registered on prom-client's registry as a metric of its own: the registry
 * reads a metric through `get()` (name, help, type and values named `_bucket`, `_sum` and
 * `_count`, as prom-client's Histogram exports them), so the series can stay plain numbers.
 */
export class PlainHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly byKey = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registers: Registry[],
  ) {
    // The registry's parameter type is prom-client's Metric class; it only ever calls
    // get() and reset() and reads name, help, type and aggregator, all of which this has.
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series named by `key` (its label values, joined), if observed yet. */
  find(key: string): HistogramSeries | undefined {
    return this.byKey.get(key);
  }

  add(key: string, labels: Labels): HistogramSeries {
    const series = new HistogramSeries(labels, this.buckets);
    this.byKey.set(key, series);
    return series;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: ExportedValue[];
  }> {
    const values: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.byKey.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { ...s.labels, le: "+Inf" }, value: s.count, metricName: bucketName },
        { labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` },
        { labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    this.byKey.clear();
  }
}

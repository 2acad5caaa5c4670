import { type Dispatcher, Pool } from "undici";

/**
 * One undici Pool per upstream origin, kept alive between calls. undici's Agent does the
 * same but parses the origin into a URL on every dispatch; the deployments' origins are
 * known strings, so a plain map lookup is all a call needs.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  for(origin: string): Dispatcher {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: { timeout: 10_000 },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}

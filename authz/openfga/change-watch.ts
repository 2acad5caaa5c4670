import type { OpenFgaClient } from "@openfga/sdk";

/**
 * Whether the store's tuples changed since the last look, read from OpenFGA's changelog
 * (ReadChanges): how one Switchboard process learns of writes made by another, or by hand
 * with the `fga` CLI, without waiting for its cached answers to expire.
 */
export class StoreChangeWatch {
  private token: string | undefined;
  /** Used until the changelog gives a token; early, so a server clock behind ours misses nothing. */
  private since: string;
  private lastLook = Number.NEGATIVE_INFINITY;
  private looking: Promise<boolean> | undefined;

  constructor(
    private readonly client: OpenFgaClient,
    /** Looks at most this often; in between, `changed` answers false at once. */
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.since = new Date(now() - CLOCK_SKEW_MS).toISOString();
  }

  /**
   * True when a tuple was written or deleted since the previous look, or when the changelog
   * could not be read (then nothing cached can be trusted either).
   */
  changed(): Promise<boolean> {
    if (this.looking) return this.looking;
    if (this.now() - this.lastLook < this.everyMs) return Promise.resolve(false);
    this.lastLook = this.now();
    this.looking = this.look().finally(() => {
      this.looking = undefined;
    });
    return this.looking;
  }

  private async look(): Promise<boolean> {
    try {
      let changed = false;
      for (let page = 0; page < MAX_PAGES; page++) {
        const response = await this.client.readChanges(
          { type: "", ...(this.token ? {} : { startTime: this.since }) },
          { pageSize: PAGE_SIZE, ...(this.token ? { continuationToken: this.token } : {}) },
        );
        if (response.continuation_token) this.token = response.continuation_token;
        if (response.changes.length === 0) return changed;
        changed = true;
        if (response.changes.length < PAGE_SIZE) return true;
      }
      // A burst of writes (an import): skip to now rather than read it all.
      this.token = undefined;
      this.since = new Date(this.now() - CLOCK_SKEW_MS).toISOString();
      return true;
    } catch {
      return true;
    }
  }
}

const PAGE_SIZE = 100;
const MAX_PAGES = 5;
const CLOCK_SKEW_MS = 5_000;

/**
 * List-objects answers from an OpenFGA server, kept for a short while per question (user,
 * relation, type): the directory asks "which agents may this person view?" on every page,
 * search keystroke and facet count, and the answer changes only when tuples do.
 *
 * Never staler than this: a write made through this process empties the cache at once (and
 * an answer asked for before the write, arriving after it, is not kept); a write made
 * anywhere else (another Switchboard process, the `fga` CLI) is seen when the caller's
 * `changedElsewhere` says so, and in any case once the entry is `ttlMs` old.
 *
 * Bounded twice: by entries, and by objects held across entries (a platform admin's list is
 * the whole catalog). The least recently used go first.
 */

export interface ListCacheOptions {
  /** How long an answer may be served, from the moment it was asked for. */
  ttlMs: number;
  maxEntries?: number;
  /** Objects held across all entries. */
  maxObjects?: number;
  now?: () => number;
}

interface Entry {
  objects: readonly string[];
  /** When the question was asked (not answered): the answer is at least this fresh. */
  askedAt: number;
}

const DEFAULT_MAX_ENTRIES = 1_000;
const DEFAULT_MAX_OBJECTS = 200_000;

export class ListObjectsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, { generation: number; answer: Promise<string[]> }>();
  /** Bumped by every invalidation: answers asked for under an older one are not kept. */
  private generation = 0;
  private objectsHeld = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxObjects: number;
  private readonly now: () => number;

  constructor(options: ListCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxObjects = options.maxObjects ?? DEFAULT_MAX_OBJECTS;
    this.now = options.now ?? Date.now;
  }

  /**
   * The kept answer while it is fresh, else `ask()`'s (one question in flight per key). An
   * answer past half its life is asked for again in the background, so a person who keeps
   * browsing is not the one who waits for it.
   */
  async get(key: string, ask: () => Promise<string[]>): Promise<string[]> {
    const entry = this.entries.get(key);
    const age = entry ? this.now() - entry.askedAt : Number.POSITIVE_INFINITY;
    if (entry && age < this.ttlMs) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, entry);
      if (age > this.ttlMs / 2) this.load(key, ask).catch(() => undefined);
      return [...entry.objects];
    }
    return [...(await this.load(key, ask))];
  }

  /** Forgets every answer, and any answer still on its way. */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
    this.pending.clear();
    this.objectsHeld = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  private load(key: string, ask: () => Promise<string[]>): Promise<string[]> {
    const inFlight = this.pending.get(key);
    if (inFlight && inFlight.generation === this.generation) return inFlight.answer;
    const generation = this.generation;
    const askedAt = this.now();
    const answer = ask().then((objects) => {
      if (generation === this.generation) this.keep(key, { objects, askedAt });
      return objects;
    });
    const forget = () => {
      if (this.pending.get(key)?.answer === answer) this.pending.delete(key);
    };
    answer.then(forget, forget);
    this.pending.set(key, { generation, answer });
    return answer;
  }

  private keep(key: string, entry: Entry): void {
    if (entry.objects.length > this.maxObjects) return;
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.objectsHeld -= previous.objects.length;
    }
    while (
      this.entries.size > 0 &&
      (this.entries.size >= this.maxEntries ||
        this.objectsHeld + entry.objects.length > this.maxObjects)
    ) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      this.objectsHeld -= oldest.objects.length;
    }
    this.entries.set(key, entry);
    this.objectsHeld += entry.objects.length;
  }
}

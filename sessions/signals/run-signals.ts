import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { OutageLog } from "../../core/index.js";

/**
 * Wake-ups between processes: "run R has new events" (so an SSE stream reads them now,
 * not at its next poll) and "run R was asked to stop" (so the worker running it aborts it
 * now, not at its next lease renewal). Signals are hints: the database stays the truth,
 * and every reader also polls, so a lost signal only costs latency.
 */
export interface RunSignals {
  eventsAdded(runId: string): void;
  cancelRequested(runId: string): void;
  onEvents(runId: string, listener: () => void): () => void;
  onCancel(listener: (runId: string) => void): () => void;
  close(): Promise<void>;
}

type Message = { kind: "events" | "cancel"; runId: string };

/** Within one process (the embedded default). */
export class LocalRunSignals implements RunSignals {
  protected readonly emitter = new EventEmitter().setMaxListeners(0);

  eventsAdded(runId: string): void {
    this.deliver({ kind: "events", runId });
  }

  cancelRequested(runId: string): void {
    this.deliver({ kind: "cancel", runId });
  }

  protected deliver(message: Message): void {
    if (message.kind === "events") this.emitter.emit(`events:${message.runId}`);
    else this.emitter.emit("cancel", message.runId);
  }

  onEvents(runId: string, listener: () => void): () => void {
    this.emitter.on(`events:${runId}`, listener);
    return () => this.emitter.off(`events:${runId}`, listener);
  }

  onCancel(listener: (runId: string) => void): () => void {
    this.emitter.on("cancel", listener);
    return () => this.emitter.off("cancel", listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** Across processes through Redis pub/sub (web processes and workers apart). */
export class RedisRunSignals extends LocalRunSignals {
  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly channel: string,
  ) {
    super();
  }

  /**
   * `prefix` keeps deployments sharing one Redis apart (REDIS_KEY_PREFIX). The subscriber
   * reconnects as the app's client does and subscribes again by itself (ioredis's
   * autoResubscribe); hints published meanwhile are lost, which costs readers latency only.
   */
  static async connect(redis: Redis, prefix: string, logger: Logger): Promise<RedisRunSignals> {
    // The app's client is lazy and has no offline queue: a copy of it would refuse to
    // subscribe before it has connected. This one connects now and waits for Redis.
    const subscriber = new OutageLog(logger, "run signals (redis)").watch(
      redis.duplicate({
        lazyConnect: false,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
      }),
    );
    const channel = `${prefix}:runs`;
    const signals = new RedisRunSignals(redis, subscriber, channel);
    subscriber.on("message", (_channel, payload: string) => {
      try {
        const message = JSON.parse(payload) as Message;
        signals.deliverLocally(message);
      } catch {
        // Not ours; ignore.
      }
    });
    await subscriber.subscribe(channel);
    return signals;
  }

  private deliverLocally(message: Message): void {
    super.deliver(message);
  }

  protected override deliver(message: Message): void {
    // Published only: this process's own subscriber delivers it back, once.
    this.publisher.publish(this.channel, JSON.stringify(message)).catch(() => {
      // A lost hint costs latency only (readers poll); deliver here at least.
      super.deliver(message);
    });
  }

  override async close(): Promise<void> {
    await super.close();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

import type { Logger } from "pino";

/**
 * The surfaces (Slack, Teams…) told of something, added as each starts. Every one is told;
 * one that fails is logged and does not stop the others, since the site and the API list
 * what they would have said anyway.
 */
export class FanOut<Listener> {
  private readonly listeners: Listener[] = [];

  constructor(private readonly logger: Logger) {}

  add(listener: Listener): void {
    this.listeners.push(listener);
  }

  async tell(
    what: (listener: Listener) => Promise<void> | undefined,
    context: Record<string, unknown>,
    failure: string,
  ): Promise<void> {
    await Promise.all(
      this.listeners.map(async (listener) => {
        try {
          await what(listener);
        } catch (error) {
          this.logger.warn({ err: error, ...context }, failure);
        }
      }),
    );
  }
}

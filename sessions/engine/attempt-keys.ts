import type { Logger } from "pino";
import { RuntimeError } from "../../runtimes/index.js";
import type { Run } from "../records.js";
import type { RunnableAgent } from "./agent-source.js";
import type { RunKey, RunKeys } from "./run-keys.js";

/** A run's model proxy key outlives its time limit by this, then expires on its own. */
const KEY_GRACE_MS = 5 * 60_000;

/**
 * Model proxy keys as an attempt uses them (when a proxy is configured): one issued per
 * attempt and revoked when it ends, and those of an attempt whose worker died revoked
 * before another attempt starts.
 */
export class AttemptKeys {
  constructor(
    private readonly keys: RunKeys | undefined,
    private readonly logger: Logger,
  ) {}

  /** The attempt's key; a proxy that cannot issue one fails the try as retryable. */
  async issue(
    run: Run,
    agent: RunnableAgent,
    timeoutMs: number,
  ): Promise<Pick<RunKey, "access" | "revoke"> | undefined> {
    if (!this.keys) return undefined;
    let key: RunKey;
    try {
      key = await this.keys.issue(run, agent, new Date(Date.now() + timeoutMs + KEY_GRACE_MS));
    } catch (error) {
      throw new RuntimeError(
        "model_proxy_unavailable",
        "Switchboard could not make this run's model proxy key; it will try again.",
        { retryable: true, cause: error },
      );
    }
    return {
      access: key.access,
      revoke: () =>
        key.revoke().catch((error) => {
          // It expires on its own shortly after the run's time limit.
          this.logger.warn(
            { err: error, run_id: run.id },
            "could not revoke a run's model proxy key",
          );
        }),
    };
  }

  /**
   * Revokes the keys a dead attempt was handed (its own revoke never ran), before this
   * worker takes the run over. A failure here throws: the run is left for a later try
   * rather than run while the old key still works.
   */
  async revokeLeftOver(run: Run): Promise<void> {
    const revoked = await this.keys?.revokeLeftOver(run.id);
    if (revoked) {
      this.logger.info(
        { run_id: run.id, keys: revoked },
        "revoked the model proxy keys of an attempt whose worker stopped",
      );
    }
  }
}

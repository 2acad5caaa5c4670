import { LABELS } from "./labels.js";
import type { SandboxInfo, SandboxProvider } from "./provider.js";

/** What the sweeper needs to know of a session named by a sandbox's label. */
export interface SweptSession {
  closed: boolean;
  lastActivityAt: Date;
  /** The sandbox the session's handle names, when it names one. */
  sandboxId?: string | undefined;
  /** A run of the session is queued, waiting or running: its sandbox is in use. */
  active: boolean;
}

export interface SandboxSweepOptions {
  /** This deployment's label: only sandboxes carrying it are looked at. */
  deployment: string;
  /** One provider per vendor account (credentials deduplicated by the caller). */
  accounts: readonly SandboxProvider[];
  /** The sessions these ids name; an id absent from the answer is a session nobody knows. */
  sessions(ids: readonly string[]): Promise<Map<string, SweptSession>>;
  /** A session idle this long has its sandbox destroyed (the next turn starts a primed one). */
  idleMs: number;
  /**
   * A sandbox younger than this that is not (yet) its session's is left alone: its turn may
   * be storing the handle right now.
   */
  graceMs?: number | undefined;
  now?: () => number;
}

export interface SweptSandbox {
  vendor: string;
  sandboxId: string;
  sessionId: string | undefined;
  reason: "session closed" | "session unknown" | "session idle" | "not the session's sandbox";
}

/**
 * One sweep: lists every account's sandboxes carrying this deployment's label and destroys
 * those whose session is closed, unknown, idle past `idleMs`, or that are not the sandbox
 * the session's handle names (left by a worker killed between creating it and storing its
 * id). Sandboxes of sessions with a run in progress are kept. Vendor-neutral: a vendor plugs
 * in through its SandboxProvider. Returns what it destroyed; failures of one account or one
 * sandbox are reported in `failed` and do not stop the rest.
 */
export async function sweepSandboxes(
  options: SandboxSweepOptions,
): Promise<{ destroyed: SweptSandbox[]; failed: string[] }> {
  const now = (options.now ?? Date.now)();
  const grace = options.graceMs ?? 120_000;
  const destroyed: SweptSandbox[] = [];
  const failed: string[] = [];
  for (const provider of options.accounts) {
    let sandboxes: SandboxInfo[];
    try {
      sandboxes = await provider.list({ [LABELS.deployment]: options.deployment });
    } catch (error) {
      failed.push(`${provider.vendor}: listing sandboxes failed (${messageOf(error)})`);
      continue;
    }
    const ids = [
      ...new Set(
        sandboxes.flatMap((s) => (s.labels[LABELS.session] ? [s.labels[LABELS.session]] : [])),
      ),
    ] as string[];
    const sessions = ids.length > 0 ? await options.sessions(ids) : new Map();
    for (const sandbox of sandboxes) {
      const sessionId = sandbox.labels[LABELS.session];
      const session = sessionId ? sessions.get(sessionId) : undefined;
      const reason = verdict(sandbox, session, now, options.idleMs, grace);
      if (!reason) continue;
      try {
        await provider.destroy(sandbox.id);
        destroyed.push({ vendor: provider.vendor, sandboxId: sandbox.id, sessionId, reason });
      } catch (error) {
        failed.push(`${provider.vendor} sandbox ${sandbox.id}: ${messageOf(error)}`);
      }
    }
  }
  return { destroyed, failed };
}

function verdict(
  sandbox: SandboxInfo,
  session: SweptSession | undefined,
  now: number,
  idleMs: number,
  graceMs: number,
): SweptSandbox["reason"] | undefined {
  const young = sandbox.createdAt ? now - sandbox.createdAt.getTime() < graceMs : false;
  if (!session) return young ? undefined : "session unknown";
  if (session.closed) return "session closed";
  if (session.active) return undefined;
  if (session.sandboxId !== sandbox.id) return young ? undefined : "not the session's sandbox";
  if (now - session.lastActivityAt.getTime() > idleMs) return "session idle";
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}

import type { AgentRuntime } from "../../runtimes/index.js";

/**
 * What each adapter brings to the runtime contract suite (contract.test.ts): the adapter,
 * settings that point it at a local double of its vendor's wire API, and handles on that
 * double.
 *
 * Every double hosts the same agent: it answers each turn with
 *   You said "<the text it received>" (turn <N>)
 * where N counts the turns of the runtime-side session, so a test can see whether the
 * second turn continued the first one's session.
 */
export interface RuntimeFixture {
  /** Shown in test names. */
  name: string;
  runtime: AgentRuntime;
  /** A valid `spec.runtime` object pointing at the double (with `type`). */
  settings: Record<string, unknown>;
  /** An invalid `spec.runtime` object: the adapter must refuse it with a message. */
  invalidSettings: Record<string, unknown>;
  /** Settings that point at a port nobody listens on. */
  unreachableSettings?: Record<string, unknown>;
  /** Environment the fixture's secret references resolve against. */
  env?: Record<string, string>;
  /** The adapter streams deltas before the final message. */
  streams: boolean;
  /** The adapter reports usage (tokens, cost). */
  reportsUsage: boolean;
  double?: AgentDouble;
  close(): Promise<void>;
}

export interface AgentDouble {
  /** Every turn the double's agent answered or is answering, in arrival order. */
  turns(): ReadonlyArray<{ runtimeSession: string; text: string }>;
  /** Drops every runtime-side session: the next turn on an old handle finds it gone. */
  forgetSessions(): void;
  /** The next `count` turn requests fail as a busy server would (HTTP 503 or the like). */
  failNextTurns(count: number): void;
  /** From now on, turns wait (after being received) until `releaseTurns` or a cancel. */
  holdTurns(): void;
  releaseTurns(): void;
  /** Cancel/interrupt requests the runtime received (only for runtimes that can be told). */
  cancellations(): number;
  /** Requests the double did not expect: the suite fails when this is not empty. */
  unexpected(): readonly string[];
  /** Forget recorded turns and cancellations between tests (sessions too). */
  reset(): void;
}

export type FixtureFactory = () => Promise<RuntimeFixture>;

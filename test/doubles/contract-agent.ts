import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { AgentDouble } from "../runtime-contract/fixture.js";

export interface AnsweredTurn {
  runtimeSession: string;
  text: string;
}

/**
 * The agent every runtime double hosts (see test/runtime-contract/fixture.ts): it answers
 * each turn `You said "<text>" (turn <N>)`, N counting the turns of the runtime-side
 * session, and carries the controls a test drives it with (`AgentDouble`). A double extends
 * it and keeps only its vendor's wire protocol: it asks `knowsSession`, `failsThisTurn`,
 * `answerTurn` and `whileHeld` at the points its wire reaches them, and reports what it did
 * not expect in `unexpectedRequests` and the cancellations it received with
 * `countCancellation` (a wire that cannot cancel never does, so `cancellations()` stays 0).
 */
export class ContractAgent implements AgentDouble {
  /** A new array after each `reset()`: what `unexpected()` returned before still holds. */
  protected unexpectedRequests: string[] = [];
  private answered: AnsweredTurn[] = [];
  private readonly sessionTurns = new Map<string, number>();
  private failures = 0;
  private holding = false;
  private readonly waiting = new Set<() => void>();
  private cancelled = 0;

  turns(): ReadonlyArray<AnsweredTurn> {
    return this.answered;
  }

  forgetSessions(): void {
    this.sessionTurns.clear();
  }

  failNextTurns(count: number): void {
    this.failures = count;
  }

  holdTurns(): void {
    this.holding = true;
  }

  releaseTurns(): void {
    this.holding = false;
    for (const release of this.waiting) release();
    this.waiting.clear();
  }

  cancellations(): number {
    return this.cancelled;
  }

  unexpected(): readonly string[] {
    return this.unexpectedRequests;
  }

  /** Releases held turns, then forgets sessions, turns, failures, cancellations. */
  reset(): void {
    this.releaseTurns();
    this.forgetSessions();
    this.answered = [];
    this.unexpectedRequests = [];
    this.failures = 0;
    this.cancelled = 0;
  }

  // --- For the wire code -----------------------------------------------------------------

  /** Whether turns wait now (`holdTurns` without `releaseTurns` since). */
  protected get turnsHeld(): boolean {
    return this.holding;
  }

  /** Whether a runtime-side session had a turn since it was last forgotten. */
  protected knowsSession(runtimeSession: string): boolean {
    return this.sessionTurns.has(runtimeSession);
  }

  /** True (and one failure used up) when this turn must fail as a busy server would. */
  protected failsThisTurn(): boolean {
    if (this.failures <= 0) return false;
    this.failures -= 1;
    return true;
  }

  /** Records a turn of the session and returns its number and the agent's answer to it. */
  protected answerTurn(runtimeSession: string, text: string): { turn: number; answer: string } {
    const turn = (this.sessionTurns.get(runtimeSession) ?? 0) + 1;
    this.sessionTurns.set(runtimeSession, turn);
    this.answered.push({ runtimeSession, text });
    return { turn, answer: `You said "${text}" (turn ${turn})` };
  }

  /**
   * Waits while turns are held: until `releaseTurns` (true), or until the promise `stop`
   * makes settles first (false), e.g. a cancel or the caller hanging up. Not held: true at
   * once, and `stop` is not called. Whether turns are held is decided when this is called.
   */
  protected async whileHeld(stop?: () => Promise<unknown>): Promise<boolean> {
    if (!this.holding) return true;
    let release = () => {};
    const released = new Promise<boolean>((resolve) => {
      release = () => resolve(true);
      this.waiting.add(release);
    });
    const stopped = stop?.().then(() => false) ?? released;
    const outcome = await Promise.race([released, stopped]);
    this.waiting.delete(release);
    return outcome;
  }

  protected countCancellation(): void {
    this.cancelled += 1;
  }
}

/** A request a JSON-body double received, as tests assert on it. */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on what the double received.
  body: any;
}

/** A scripted answer for the next request, replacing the agent's (adapter tests). */
export type ScriptedReply = (res: ServerResponse, received: ReceivedRequest) => void;

/**
 * The contract agent behind a wire of plain JSON requests (the HTTP contract, an n8n
 * webhook), which an adapter's own tests can also read (`received`) and answer by hand
 * (`scriptNext`).
 */
export class ScriptableContractAgent extends ContractAgent {
  readonly received: ReceivedRequest[] = [];
  private readonly scripted: ScriptedReply[] = [];

  /** The next request gets this reply instead of the agent's answer. */
  scriptNext(reply: ScriptedReply): void {
    this.scripted.push(reply);
  }

  override reset(): void {
    super.reset();
    this.received.length = 0;
    this.scripted.length = 0;
  }

  /** Records the request with its JSON body; undefined (and unexpected) when it is not JSON. */
  protected receive(req: IncomingMessage, raw: string): ReceivedRequest | undefined {
    try {
      const received = { headers: req.headers, body: JSON.parse(raw) };
      this.received.push(received);
      return received;
    } catch {
      this.unexpectedRequests.push(`${req.method} ${req.url} with a body that is not JSON`);
      return undefined;
    }
  }

  /** Answers with the reply a test scripted for this request, if it did: true then. */
  protected answeredByScript(res: ServerResponse, received: ReceivedRequest): boolean {
    const scripted = this.scripted.shift();
    scripted?.(res, received);
    return scripted !== undefined;
  }
}

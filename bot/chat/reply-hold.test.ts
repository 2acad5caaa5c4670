import { pino } from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { ChatReplies, type PendingReply, REPLY_ATTEMPTS_MAX } from "./chat-replies.js";
import type { RunReply, RunReplyTarget } from "./chat-surface.js";
import { ChatReplyLoop } from "./reply-loop.js";
import { type ChatFixture, PUBLIC_URL, useChatFixture } from "./testing/chat-fixture.js";
import { RecordingSurface, type Room } from "./testing/recording-surface.js";

/**
 * Holding a reply (CHAT_REPLY_HOLD_MS): a web process that is alive but slow keeps the
 * replies it is sending, and one whose hold lapsed (its database away past the hold) stops
 * editing once another process took the reply over, so a person never sees two processes
 * writing one message. Two reply loops on one database stand for two web processes.
 */
const fixture = useChatFixture();
let chat: ChatFixture;
beforeAll(async () => {
  chat = fixture();
  // Only the two loops below look for replies to take over.
  await chat.core.stop();
});

const HOLD_MS = 900;

/** The records as one web process sees them; `away`: its database cannot be reached. */
class Replies extends ChatReplies {
  away = false;
  private check() {
    if (this.away) throw new Error("Connection terminated unexpectedly");
  }
  override async renew(runIds: readonly string[]): Promise<string[]> {
    this.check();
    return super.renew(runIds);
  }
  override async takeOrphaned(surface: string): Promise<PendingReply[]> {
    this.check();
    return super.takeOrphaned(surface);
  }
}

/** A surface whose edits wait while `slow` is set: Slack answering late. */
class SlowSurface extends RecordingSurface {
  private letGo: (() => void) | undefined;
  private gate: Promise<void> = Promise.resolve();
  /** Edits begun and still waiting. */
  waiting = 0;

  hold(): void {
    surfaces.push(this);
    this.gate = new Promise((resolve) => {
      this.letGo = resolve;
    });
  }

  release(): void {
    this.letGo?.();
  }

  override openReply(
    target: RunReplyTarget<Room>,
    progress: Record<string, unknown>,
    save: () => Promise<void>,
  ): RunReply {
    const inner = super.openReply(target, progress, save);
    const slowly = async <T>(edit: () => Promise<T>) => {
      this.waiting += 1;
      await this.gate;
      this.waiting -= 1;
      return edit();
    };
    return {
      get fresh() {
        return inner.fresh;
      },
      pace: 0,
      begin: () => inner.begin(),
      show: (text) => slowly(() => inner.show(text)),
      waiting: (why) => inner.waiting(why),
      running: () => inner.running(),
      finish: (outcome) => slowly(() => inner.finish(outcome)),
      recost: (outcome) => inner.recost(outcome),
    };
  }
}

const loops: ChatReplyLoop<Room>[] = [];
const surfaces: SlowSurface[] = [];
afterEach(async () => {
  for (const surface of surfaces.splice(0)) surface.release();
  for (const loop of loops.splice(0)) await loop.close();
});

/** A web process: its reply loop, its records and what its log says. */
function webProcess(name: string, surface: RecordingSurface) {
  const logged: string[] = [];
  const replies = new Replies(chat.db.knex, name, HOLD_MS);
  const logger = pino({ level: "info" }, { write: (line: string) => logged.push(line) });
  const loop = new ChatReplyLoop<Room>(
    { runs: chat.runs, replies, publicUrl: PUBLIC_URL, logger, costRechecksMs: [] },
    surface,
  );
  loops.push(loop);
  return { replies, loop, logged };
}

/** Carol asks vpn-helper in `room`; answers the run and where its reply goes. */
async function ask(room: string) {
  const principal = chat.people.get("carol");
  if (!principal) throw new Error("no carol");
  const { run, session } = await chat.runs.start(principal, {
    agentName: "vpn-helper",
    input: `my VPN drops (${room})`,
    conversation: { surface: "teams", conversationKey: `channel-1:${room}` },
  });
  const target = { room, user: "ref-carol", agentName: "vpn-helper", sessionId: session.id };
  return { runId: run.id, target };
}

const replies = (surface: RecordingSurface, room: string, kind: string) =>
  surface.in(room).filter((shown) => "reply" in shown && shown.reply === kind);

describe("a chat reply's hold", () => {
  it("stays with a live process whose edits take several holds, renewed meanwhile", async () => {
    const slow = new SlowSurface();
    const other = new RecordingSurface();
    const a = webProcess("web-a", slow);
    const b = webProcess("web-b", other);
    slow.hold();
    const { runId, target } = await ask("slow-1");
    await a.loop.start(runId, target);
    await eventually(async () => expect(slow.waiting).toBe(1));
    // Three holds long, the other process looking for replies to take all along.
    const until = Date.now() + 3 * HOLD_MS;
    while (Date.now() < until) {
      expect(await b.loop.resume()).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS / 6));
    }
    slow.release();
    await eventually(async () => expect(replies(slow, "slow-1", "finish")).toHaveLength(1));
    expect(other.in("slow-1")).toEqual([]);
    expect(a.logged.join("")).not.toContain("could not renew");
  });

  it("stops a reply here once another process took it over after the hold lapsed", async () => {
    const slow = new SlowSurface();
    const other = new RecordingSurface();
    const a = webProcess("web-c", slow);
    webProcess("web-d", other); // the other web process, looking for replies to take over
    slow.hold();
    const { runId, target } = await ask("lapsed-1");
    await a.loop.start(runId, target);
    await eventually(async () => expect(slow.waiting).toBe(1));
    // web-c's database goes away past the hold while an edit of its is under way.
    a.replies.away = true;
    // web-d, looking every third of the hold, takes it over and finishes it.
    await eventually(async () => expect(replies(other, "lapsed-1", "finish")).toHaveLength(1));
    // It comes back and its edit returns: it learns the reply is someone else's, and stops.
    a.replies.away = false;
    slow.release();
    await eventually(async () =>
      expect(a.logged.join("")).toContain("another web process took this chat reply over"),
    );
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    expect(replies(slow, "lapsed-1", "finish")).toEqual([]);
    expect(slow.waiting).toBe(0);
    expect(a.logged.join("")).toContain("could not renew the hold on chat replies in hand");
    // The new holder's work stands: the reply is done, and not by web-c.
    const [row] = await chat.db.knex("chat_replies").where({ run_id: runId });
    expect(row).toMatchObject({ owner: "web-d", state: "done" });
  });

  it("tries a reply the chat keeps refusing again after each hold, then gives it up", async () => {
    /** A chat that refuses every message (a deleted channel, the app uninstalled). */
    class RefusingSurface extends RecordingSurface {
      attempts = 0;
      override openReply(
        target: RunReplyTarget<Room>,
        progress: Record<string, unknown>,
        save: () => Promise<void>,
      ): RunReply {
        const inner = super.openReply(target, progress, save);
        return {
          ...inner,
          fresh: true,
          begin: async () => {
            this.attempts += 1;
            throw new Error("channel_not_found");
          },
        };
      }
    }
    const refusing = new RefusingSurface();
    const a = webProcess("web-e", refusing);
    const { runId, target } = await ask("gone-1");
    await a.loop.start(runId, target);
    await eventually(async () => expect(refusing.attempts).toBe(1));
    await eventually(async () => {
      const [first] = await chat.db.knex("chat_replies").where({ run_id: runId });
      expect(first).toMatchObject({ state: "pending", failures: 1 });
      expect(a.logged.join("")).toContain("another attempt follows");
    });
    // Taken over again once its hold lapsed: tried again, up to the last attempt allowed.
    await chat.db
      .knex("chat_replies")
      .where({ run_id: runId })
      .update({ failures: REPLY_ATTEMPTS_MAX - 2 });
    await eventually(async () => expect(refusing.attempts).toBe(3), 10_000);
    await eventually(async () =>
      expect(a.logged.join("")).toContain(
        "gave up replying in the chat; the answer is on the site",
      ),
    );
    const [last] = await chat.db.knex("chat_replies").where({ run_id: runId });
    expect(last).toMatchObject({ state: "failed", failures: REPLY_ATTEMPTS_MAX });
    // Nobody takes it over any more.
    await new Promise((resolve) => setTimeout(resolve, 3 * HOLD_MS));
    expect(refusing.attempts).toBe(3);
    expect(a.logged.join("")).not.toContain('channel_not_found"}"');
  });
});

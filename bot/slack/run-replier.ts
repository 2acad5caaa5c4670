import type { webApi } from "@slack/bolt";

type WebClient = webApi.WebClient;

import type { Logger } from "pino";
import { isClosingEvent, type RunsService } from "../../sessions/index.js";
import type { ChatReplies } from "../chat/index.js";
import { agentMarkdown, settledAgentMarkdown } from "./mrkdwn.js";
import { answerBlocks, failureText, waitingText, workingText } from "./reply-blocks.js";

/** Where a run's answer goes in Slack. */
export interface SlackTarget {
  team: string;
  channel: string;
  /** The thread; unset for a top-level direct message. */
  threadTs?: string | undefined;
  /** The person who asked (streams are addressed to them). */
  user: string;
  agentName: string;
  sessionId: string;
}

/** What has been posted so far, saved so a restarted process finishes the same messages. */
interface Progress {
  /** The "working…" message, later updated with the answer. */
  messageTs?: string;
  /** The streamed message, when the workspace supports chat.startStream. */
  streamTs?: string;
  /** assistant.threads.setStatus worked: clear it at the end. */
  status?: boolean;
}

/** chat.update stays well inside Slack's rate limits (about one per second per message). */
const UPDATE_EVERY_MS = 1_200;
/** How long a workspace that refused streaming gets message updates before it is asked again. */
const RETRY_STREAMING_AFTER_MS = 15 * 60_000;
/** How often the replies in hand are renewed (their hold lasts a minute). */
const KEEP_EVERY_MS = 20_000;
/** chat.appendStream is cheaper, so the stream may move faster. */
const APPEND_EVERY_MS = 400;

/**
 * Posts a run's progress and answer into its Slack thread: a sign of life at once, the
 * answer as it streams, then the whole answer with its cost and a link to the run on the
 * site. Replies are recorded (ChatReplies) before the first post and held by this process;
 * one whose process stops mid-run is taken over (here at start, or by any web process), so
 * the answer still reaches the thread.
 */
export class SlackRunReplier {
  /**
   * Workspaces where chat.startStream was refused, until when: they get message updates
   * instead, and are asked again later (a workspace may gain the feature).
   */
  private readonly noStreaming = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly keeper: NodeJS.Timeout;

  constructor(
    private readonly deps: {
      client: WebClient;
      runs: RunsService;
      replies: ChatReplies;
      publicUrl: string;
      logger: Logger;
    },
  ) {
    // Renews the hold on replies in hand, and takes over those whose process died.
    this.keeper = setInterval(() => void this.keep(), KEEP_EVERY_MS);
    this.keeper.unref();
  }

  /** Starts replying for a run just started; a run already being replied to is left alone. */
  async start(runId: string, target: SlackTarget): Promise<void> {
    if (!(await this.deps.replies.add("slack", runId, { ...target }))) return;
    this.track(runId, this.reply(runId, target, {}));
  }

  /** Takes over the replies no process holds (one that stopped mid-reply), and finishes them. */
  async resume(): Promise<number> {
    const orphaned = await this.deps.replies.takeOrphaned("slack");
    for (const reply of orphaned) {
      if (this.inFlight.has(reply.runId)) continue;
      const target = reply.target as unknown as SlackTarget;
      this.track(reply.runId, this.reply(reply.runId, target, reply.progress as Progress));
    }
    return orphaned.length;
  }

  private async keep(): Promise<void> {
    try {
      await this.deps.replies.renew([...this.inFlight.keys()]);
      await this.resume();
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not renew or resume Slack replies");
    }
  }

  private track(runId: string, work: Promise<void>): void {
    this.inFlight.set(runId, work);
    void work.finally(() => this.inFlight.delete(runId));
  }

  /** Stops following runs; the replies in hand are taken over once their hold lapses. */
  async close(): Promise<void> {
    clearInterval(this.keeper);
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight.values()]);
    // The next process (or another one now) takes them over at once.
    await this.deps.replies.release().catch(() => undefined);
  }

  private async reply(runId: string, target: SlackTarget, saved: Progress): Promise<void> {
    const { replies, logger } = this.deps;
    const log = logger.child({ run_id: runId, channel: target.channel });
    const progress: Progress = { ...saved };
    const save = () => replies.saveProgress(runId, { ...progress });
    try {
      if (!progress.messageTs && !progress.streamTs && !progress.status) {
        await this.signOfLife(target, progress);
        await save();
      }
      let text = "";
      let shown = "";
      let lastPush = 0;
      let waiting = false;
      for await (const event of this.deps.runs.follow(runId, 0, this.stopping.signal)) {
        if (event.type === "message.delta") {
          text += String(event.data.text ?? "");
          if (Date.now() - lastPush >= (progress.streamTs ? APPEND_EVERY_MS : UPDATE_EVERY_MS)) {
            shown = await this.push(target, progress, text, shown, save);
            lastPush = Date.now();
          }
        } else if (event.type === "message") {
          text = String(event.data.text ?? text);
        } else if (isClosingEvent(event)) {
          await this.finish(runId, target, progress, text, shown);
          await replies.done(runId);
          return;
        } else if (event.type === "run.status" && !text) {
          waiting = await this.showWaiting(target, progress, event.data, waiting, save);
        }
      }
    } catch (error) {
      // The reply stays pending: the next start (or the run's next event here) resumes it.
      log.warn({ err: error }, "could not reply in Slack; will resume after a restart");
    }
  }

  /** assistant.threads.setStatus where the thread is an assistant thread, else a short message. */
  private async signOfLife(target: SlackTarget, progress: Progress): Promise<void> {
    const { client } = this.deps;
    if (target.threadTs) {
      const status = await client.assistant.threads
        .setStatus({
          channel_id: target.channel,
          thread_ts: target.threadTs,
          status: "is working on it…",
        })
        .then(() => true)
        .catch(() => false);
      if (status) {
        progress.status = true;
        return;
      }
    }
    const posted = await client.chat.postMessage({
      channel: target.channel,
      thread_ts: target.threadTs,
      text: workingText(target.agentName),
    });
    progress.messageTs = posted.ts;
  }

  /**
   * A run waiting for a place (its person or agent has as many runs in progress as
   * allowed): the thread says why and when it starts, in the message the answer will
   * replace; once it runs, the message says it is working again. Answers whether the
   * thread now shows the run waiting.
   */
  private async showWaiting(
    target: SlackTarget,
    progress: Progress,
    data: Record<string, unknown>,
    shownWaiting: boolean,
    save: () => Promise<void>,
  ): Promise<boolean> {
    const { client } = this.deps;
    if (data.status === "waiting") {
      const text = waitingText(target.agentName, String(data.message ?? ""));
      await this.showInMessage(target, progress, text, save);
      return true;
    }
    if (data.status === "running" && shownWaiting && progress.messageTs) {
      await client.chat.update({
        channel: target.channel,
        ts: progress.messageTs,
        text: workingText(target.agentName),
      });
    }
    return shownWaiting && data.status !== "running";
  }

  /**
   * Shows the answer so far: appended to a stream, or the working message updated. A stream
   * gets the answer rendered for Slack (mrkdwn.ts) as far as it is settled, and `shown` is
   * that rendering: what is appended never has to change as the answer goes on.
   */
  private async push(
    target: SlackTarget,
    progress: Progress,
    text: string,
    shown: string,
    save: () => Promise<void>,
  ): Promise<string> {
    const { client } = this.deps;
    const streamingRefused = (this.noStreaming.get(target.team) ?? 0) > Date.now();
    const settled = settledAgentMarkdown(text);
    if (!progress.streamTs && !streamingRefused && target.threadTs) {
      if (!settled) return shown; // nothing to start a stream with yet
      const started = await client.chat
        .startStream({
          channel: target.channel,
          thread_ts: target.threadTs,
          recipient_team_id: target.team,
          recipient_user_id: target.user,
          markdown_text: settled,
        })
        .catch(() => undefined);
      if (started?.ts) {
        progress.streamTs = started.ts;
        if (progress.messageTs) {
          await client.chat
            .delete({ channel: target.channel, ts: progress.messageTs })
            .catch(() => undefined);
          progress.messageTs = undefined;
        }
        await save();
        return settled;
      }
      this.noStreaming.set(target.team, Date.now() + RETRY_STREAMING_AFTER_MS);
    }
    if (progress.streamTs) {
      // Not a continuation (the answer was replaced): the closing message sorts it out.
      if (!settled.startsWith(shown)) return shown;
      const more = settled.slice(shown.length);
      if (more)
        await client.chat.appendStream({
          channel: target.channel,
          ts: progress.streamTs,
          markdown_text: more,
        });
      return settled;
    }
    // A whole new text each time: rendered afresh, nothing to keep settled.
    await this.showInMessage(target, progress, agentMarkdown(text), save);
    return shown;
  }

  /** Shows `text` in the run's message in the thread: posted the first time, then updated. */
  private async showInMessage(
    target: SlackTarget,
    progress: Progress,
    text: string,
    save: () => Promise<void>,
  ): Promise<void> {
    const { client } = this.deps;
    if (progress.messageTs) {
      await client.chat.update({ channel: target.channel, ts: progress.messageTs, text });
      return;
    }
    const posted = await client.chat.postMessage({
      channel: target.channel,
      thread_ts: target.threadTs,
      text,
    });
    progress.messageTs = posted.ts;
    await save();
  }

  /** The closing message: the whole answer with cost and link, or the failure in plain words. */
  private async finish(
    runId: string,
    target: SlackTarget,
    progress: Progress,
    text: string,
    shown: string,
  ): Promise<void> {
    const { client, runs } = this.deps;
    const run = await runs.runById(runId);
    if (!run) return;
    const link = `${this.deps.publicUrl}/sessions/${run.sessionId}`;
    const answer = run.status === "succeeded" ? (run.output ?? text) : undefined;
    const body =
      answer !== undefined
        ? answerBlocks(answer, { agentName: target.agentName, costUsd: run.costUsd, link })
        : {
            text: failureText(run, target.agentName, link),
            blocks: undefined,
          };
    if (progress.streamTs) {
      // Close the stream with the rest of the answer and its footer; a stream that cannot be
      // closed (it expired while this process was down) gets the answer as a new message.
      const rendered = answer === undefined ? undefined : agentMarkdown(answer);
      const continues = rendered?.startsWith(shown) ?? false;
      const rest = continues && rendered ? rendered.slice(shown.length) : "";
      const closed = await client.chat
        .stopStream({
          channel: target.channel,
          ts: progress.streamTs,
          ...(rest ? { markdown_text: rest } : {}),
          ...(continues ? { blocks: body.blocks?.slice(-1) } : {}),
        })
        .then(() => true)
        .catch(() => false);
      if (!closed || !continues) {
        await client.chat.postMessage({
          channel: target.channel,
          thread_ts: target.threadTs,
          ...body,
        });
      }
    } else if (progress.messageTs) {
      await client.chat.update({ channel: target.channel, ts: progress.messageTs, ...body });
    } else {
      await client.chat.postMessage({
        channel: target.channel,
        thread_ts: target.threadTs,
        ...body,
      });
    }
    await this.clearStatus(target, progress);
  }

  private async clearStatus(target: SlackTarget, progress: Progress): Promise<void> {
    if (!progress.status || !target.threadTs) return;
    await this.deps.client.assistant.threads
      .setStatus({ channel_id: target.channel, thread_ts: target.threadTs, status: "" })
      .catch(() => undefined);
  }
}

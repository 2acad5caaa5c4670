import type { webApi } from "@slack/bolt";
import type { RunOutcome, RunReply, RunReplyTarget } from "../chat/index.js";
import { agentMarkdown, settledAgentMarkdown } from "./mrkdwn.js";
import { answerBlocks, failureText, waitingText, workingText } from "./reply-blocks.js";
import type { SlackConversation } from "./slack-deps.js";

/** Where a run's answer goes in Slack. */
export type SlackTarget = RunReplyTarget<SlackConversation>;

/** What has been posted so far, saved so a restarted process finishes the same messages. */
export interface SlackProgress {
  /** The "working…" message, later updated with the answer. */
  messageTs?: string | undefined;
  /** The streamed message, when the workspace supports chat.startStream. */
  streamTs?: string | undefined;
  /** assistant.threads.setStatus worked: clear it at the end. */
  status?: boolean;
  /** The message holding the answer and its footer, once finished: edited when the cost changes. */
  answerTs?: string | undefined;
}

/** chat.update stays well inside Slack's rate limits (about one per second per message). */
const UPDATE_EVERY_MS = 1_200;
/** chat.appendStream is cheaper, so the stream may move faster. */
const APPEND_EVERY_MS = 400;

/** Workspaces where chat.startStream was refused, and until when (shared by every reply). */
export interface StreamingRefusals {
  refused(team: string): boolean;
  refuse(team: string): void;
}

/**
 * A run's reply in its Slack thread: a sign of life at once (the assistant thread's status,
 * else a "working…" message), the answer streamed (chat.startStream) or, where streaming is
 * refused, the working message updated; then the answer with its cost and link.
 */
export class SlackRunReply implements RunReply {
  /** What the stream shows: the settled rendering, so what is appended never changes. */
  private shown = "";

  constructor(
    private readonly client: webApi.WebClient,
    private readonly target: SlackTarget,
    private readonly progress: SlackProgress,
    private readonly save: () => Promise<void>,
    private readonly streaming: StreamingRefusals,
  ) {}

  get fresh(): boolean {
    const { messageTs, streamTs, status } = this.progress;
    return !messageTs && !streamTs && !status;
  }

  get pace(): number {
    return this.progress.streamTs ? APPEND_EVERY_MS : UPDATE_EVERY_MS;
  }

  /** assistant.threads.setStatus where the thread is an assistant thread, else a short message. */
  async begin(): Promise<void> {
    const { client, target, progress } = this;
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

  /** In the message the answer will replace: why the run waits, and when it starts. */
  async waiting(why: string): Promise<void> {
    await this.showInMessage(waitingText(this.target.agentName, why));
  }

  async running(): Promise<void> {
    const { client, target, progress } = this;
    if (!progress.messageTs) return;
    await client.chat.update({
      channel: target.channel,
      ts: progress.messageTs,
      text: workingText(target.agentName),
    });
  }

  /**
   * Shows the answer so far: appended to a stream, or the working message updated. A stream
   * gets the answer rendered for Slack (mrkdwn.ts) as far as it is settled.
   */
  async show(text: string): Promise<void> {
    const { client, target, progress } = this;
    const settled = settledAgentMarkdown(text);
    if (!progress.streamTs && !this.streaming.refused(target.team) && target.threadTs) {
      if (!settled) return; // nothing to start a stream with yet
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
        await this.save();
        this.shown = settled;
        return;
      }
      this.streaming.refuse(target.team);
    }
    if (progress.streamTs) {
      // Not a continuation (the answer was replaced): the closing message sorts it out.
      if (!settled.startsWith(this.shown)) return;
      const more = settled.slice(this.shown.length);
      if (more) {
        await client.chat.appendStream({
          channel: target.channel,
          ts: progress.streamTs,
          markdown_text: more,
        });
      }
      this.shown = settled;
      return;
    }
    // A whole new text each time: rendered afresh, nothing to keep settled.
    await this.showInMessage(agentMarkdown(text));
  }

  /** Shows `text` in the run's message in the thread: posted the first time, then updated. */
  private async showInMessage(text: string): Promise<void> {
    const { client, target, progress } = this;
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
    await this.save();
  }

  async finish({ run, answer, link }: RunOutcome): Promise<void> {
    const { client, target, progress, shown } = this;
    const body = this.closing({ run, answer, link });
    const postNew = async () => {
      const posted = await client.chat.postMessage({
        channel: target.channel,
        thread_ts: target.threadTs,
        ...body,
      });
      progress.answerTs = posted.ts;
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
      if (!closed || !continues) await postNew();
      else progress.answerTs = progress.streamTs;
    } else if (progress.messageTs) {
      await client.chat.update({ channel: target.channel, ts: progress.messageTs, ...body });
      progress.answerTs = progress.messageTs;
    } else {
      await postNew();
    }
    if (progress.status && target.threadTs) {
      await client.assistant.threads
        .setStatus({ channel_id: target.channel, thread_ts: target.threadTs, status: "" })
        .catch(() => undefined);
    }
  }

  /**
   * The answer's message again with the cost as it is now (chat.update on its ts, the whole
   * answer and footer, as `finish` showed them). A failure shows no cost: nothing to edit.
   */
  async recost({ run, answer, link }: RunOutcome): Promise<void> {
    const { client, target, progress } = this;
    if (answer === undefined || !progress.answerTs) return;
    await client.chat.update({
      channel: target.channel,
      ts: progress.answerTs,
      ...this.closing({ run, answer, link }),
    });
  }

  /** The closing message: the answer with its footer (cost, link), or the failure in words. */
  private closing({ run, answer, link }: RunOutcome) {
    return answer !== undefined
      ? answerBlocks(answer, { agentName: this.target.agentName, costUsd: run.costUsd, link })
      : { text: failureText(run, this.target.agentName, link), blocks: undefined };
  }
}

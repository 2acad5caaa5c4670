import type { TranscriptMessage } from "./runtime.js";

/**
 * The first message of a new runtime session that replaces a lost one: the earlier turns,
 * then this turn's input. Plain text, because every runtime takes text; the wording tells
 * the agent what the block is so it answers the new input, not the history.
 */
export function primeWithTranscript(
  transcript: readonly TranscriptMessage[],
  input: string,
): string {
  if (transcript.length === 0) return input;
  const history = transcript
    .map((message) => `${message.role === "user" ? "User" : "Agent"}: ${message.content}`)
    .join("\n");
  return [
    "This conversation continues from an earlier session. The conversation so far:",
    history,
    "",
    "The new message to answer:",
    input,
  ].join("\n");
}

/** The status event an adapter yields when it had to open a new session primed with the transcript. */
export function sessionRestarted(reason: string) {
  return {
    type: "status" as const,
    status: "session_restarted",
    message: `The runtime's earlier session was gone (${reason}); a new one was opened with the conversation so far.`,
  };
}

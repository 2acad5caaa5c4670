import type { types } from "@slack/bolt";

/**
 * Buttons that do something carry a ChatActions id and nothing else. Their action_id starts
 * with this prefix, followed by part of the id: Slack wants action_ids unique within a
 * block, and one dispatcher (chat-action-kinds.ts) takes every click whatever its suffix.
 */
export const CHAT_ACTION_PREFIX = "chat_action";
export const CHAT_ACTION_PATTERN = /^chat_action(?::.*)?$/;
/** Link buttons open a page; Slack still sends a click for them, which is only acknowledged. */
export const LINK_ACTION_PATTERN = /^open_link(?::.*)?$/;

export function chatButton(
  label: string,
  actionId: string,
  options: { primary?: boolean; danger?: boolean } = {},
): types.Button {
  return {
    type: "button",
    action_id: `${CHAT_ACTION_PREFIX}:${actionId.slice(0, 8)}`,
    text: { type: "plain_text", text: label },
    value: actionId,
    ...(options.primary ? { style: "primary" as const } : {}),
    ...(options.danger ? { style: "danger" as const } : {}),
  };
}

let linkCounter = 0;

export function linkButton(label: string, url: string): types.Button {
  linkCounter = (linkCounter + 1) % 1_000_000;
  return {
    type: "button",
    action_id: `open_link:${linkCounter}`,
    text: { type: "plain_text", text: label },
    url,
  };
}

/**
 * The chat surfaces: `slack/`, `teams/`, and the chat core they share (parse a mention,
 * render a run). Each switches itself on only when its configuration is present.
 *
 * Its public API is exported from here as it is built.
 */
export {};

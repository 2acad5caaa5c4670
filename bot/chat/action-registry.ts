import type { UserPrincipal } from "../../authz/index.js";
import type { ChatActions } from "./chat-actions.js";
import type { ChatConversation, ChatPerson, SurfaceName } from "./chat-message.js";
import type { ChatButton, ChatPrompt, ChatQuote } from "./chat-surface.js";

/**
 * Why a person may not do what a button does: plain words, or words with buttons of their
 * own (a run refused with "Request access"), `plain` being what to say where the surface
 * cannot show them only to the clicking person.
 */
export type ChatRefusal = string | { words: string; offers: readonly ChatOffer[]; plain: string };

/**
 * What one kind of button does (`run_agent`, later `approve_budget`), whichever surface
 * shows it. A button is seen by everyone in the conversation, so who posted it grants
 * nothing: `authorize` checks the clicking person's rights on every click, before `handle`.
 */
export interface ChatActionKind {
  /** ChatActions.kind of the records this kind's buttons carry. */
  kind: string;
  /**
   * Applies once: the first click allowed claims the record, later clicks (a double click,
   * a second person) do nothing. Claimed after `authorize`, so a refused click leaves the
   * button to someone allowed.
   */
  singleUse: boolean;
  /** Why this person may not do what the button does (see ChatRefusal), or undefined. */
  authorize(
    principal: UserPrincipal,
    payload: Record<string, unknown>,
  ): Promise<ChatRefusal | undefined>;
  handle(click: ChatActionClick, payload: Record<string, unknown>): Promise<void>;
}

/** A click a kind handles: by a known person who may do what the button does. */
export interface ChatActionClick {
  /** The ChatActions id the button carried. */
  actionId: string;
  /** The person who clicked (not who the button was posted for). */
  principal: UserPrincipal;
  /** The surface's id of the person who clicked. */
  clickerRef: string;
  /** Where the button was clicked (the surface's target); unset outside a conversation. */
  replyTarget: object | undefined;
  /** Tells the clicking person something only they see (plain words). */
  tell(words: string): Promise<void>;
  /**
   * Replaces the message the button is on with words (Markdown), so nobody clicks it
   * again; `byClicker` starts them with the clicking person's name, `quotes` are people's
   * words shown under them as written. Best effort.
   */
  settle(
    words: string,
    options?: { byClicker?: boolean; quotes?: readonly ChatQuote[] | undefined },
  ): Promise<void>;
  /**
   * What the person wrote with this click (a card's field, a form's answer), trimmed; unset
   * when the click carried nothing to write in.
   */
  input?: string | undefined;
  /**
   * Asks the clicking person to write something (Slack: a modal); their answer comes back as
   * this same click again, checked again, with `input` set. Unset where the surface puts the
   * field on the message instead (Teams) or cannot ask.
   */
  ask?: ((prompt: ChatPrompt) => Promise<void>) | undefined;
  /** The clicked surface's chat: runs an agent, posts words or buttons in a conversation. */
  chat: ChatPort;
  /** The surface's own click (Slack: its client and trigger id), for kinds only it has. */
  native: unknown;
}

/** What a handler may do in the chat the click came from, without knowing which it is. */
export interface ChatPort {
  /** Runs an agent for the person in the conversation's session; refusals are said there. */
  run(request: ChatRunRequest): Promise<void>;
  say(target: object, words: string, quotes?: readonly ChatQuote[]): Promise<void>;
  /** Posts words with buttons, each a new ChatActions record of `kind` with its payload. */
  offer(
    target: object,
    words: string,
    buttons: readonly ChatOffer[],
    quotes?: readonly ChatQuote[],
  ): Promise<void>;
}

export interface ChatRunRequest {
  principal: UserPrincipal;
  /** The surface's id of the person asking (replies are addressed to them). */
  askerRef: string;
  agentName: string;
  text: string;
  conversation: ChatConversation;
  /** Names what asked (a message, a click): a repeat of it starts nothing. */
  deliveryId: string;
}

export interface ChatOffer {
  label: string;
  kind: string;
  payload: Record<string, unknown>;
  style?: "primary" | "danger";
  /** The click takes words (see ChatSurface.buttons). */
  prompt?: ChatPrompt | undefined;
}

/** A click as a surface hands it over: the id its button carried and who clicked. */
export interface IncomingChatClick extends Omit<ChatActionClick, "principal" | "chat"> {
  surface: SurfaceName;
  person(): Promise<ChatPerson>;
  /** What to say for a button that no longer works (the surface may name its commands). */
  staleWords?: string;
  /**
   * Shows the clicking person, and only them where the surface can (Slack: ephemeral), words
   * with buttons: a refusal's own buttons (ChatRefusal). Unset: the refusal's plain words.
   */
  tellWithButtons?: ((words: string, buttons: readonly ChatButton[]) => Promise<void>) | undefined;
}

const STALE = "This button no longer works. Mention me again to start over.";

/**
 * The kinds of button chat messages may carry, by ChatActions.kind, and the one path every
 * click takes on every surface: the id looked up (unknown, of another surface or of an
 * unregistered kind: "no longer works"), the clicking person identified, their rights
 * checked, a single-use record claimed, then the kind's handler.
 */
export class ChatActionRegistry {
  private readonly kinds = new Map<string, ChatActionKind>();

  constructor(
    private readonly actions: ChatActions,
    /** The chat of the surface whose clicks come here (its ChatFlow). */
    private readonly chat: ChatPort,
  ) {}

  add(...kinds: readonly ChatActionKind[]): this {
    for (const kind of kinds) this.kinds.set(kind.kind, kind);
    return this;
  }

  has(kind: string): boolean {
    return this.kinds.has(kind);
  }

  async click(click: IncomingChatClick): Promise<void> {
    const stored = await this.actions.find(click.surface, click.actionId);
    const kind = stored ? this.kinds.get(stored.kind) : undefined;
    if (!stored || !kind) return click.tell(click.staleWords ?? STALE);
    const person = await click.person();
    if ("refusal" in person) return click.tell(person.refusal);
    const refusal = await kind.authorize(person.principal, stored.payload);
    if (refusal) return this.refuse(click, refusal);
    if (kind.singleUse && !(await this.actions.use(click.actionId))) return;
    const {
      surface: _surface,
      person: _person,
      staleWords: _stale,
      tellWithButtons: _buttons,
      ...rest
    } = click;
    await kind.handle({ ...rest, principal: person.principal, chat: this.chat }, stored.payload);
  }

  /** A refusal's buttons are new ChatActions records, like every button (ChatFlow.offer). */
  private async refuse(click: IncomingChatClick, refusal: ChatRefusal): Promise<void> {
    if (typeof refusal === "string") return click.tell(refusal);
    if (!click.tellWithButtons) return click.tell(refusal.plain);
    const buttons = await Promise.all(
      refusal.offers.map(async (offer) => ({
        label: offer.label,
        style: offer.style,
        prompt: offer.prompt,
        actionId: await this.actions.create(click.surface, offer.kind, offer.payload),
      })),
    );
    await click.tellWithButtons(refusal.words, buttons);
  }
}

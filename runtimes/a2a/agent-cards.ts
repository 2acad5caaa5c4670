import type { AgentCard, AgentInterface } from "@a2a-js/sdk";
import {
  type Client,
  ClientFactory,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from "@a2a-js/sdk/client";
import { excerpt } from "../excerpt.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { agentName } from "./http.js";

/** The agent as one card describes it: what `turn` talks to. */
export interface ResolvedAgent {
  cardUrl: string;
  card: AgentCard;
  /** The A2A version of the interface the client speaks ("1.0" or "0.3"). */
  protocol: "1.0" | "0.3";
  client: Client;
}

/** How long a fetched card is trusted: long enough not to fetch it per turn, short enough to notice a redeploy. */
export const CARD_TTL_MS = 5 * 60_000;

/** How long a card fetch may take; it is shared by the turns waiting on it, so not tied to one of them. */
const CARD_TIMEOUT_MS = 15_000;

/** Bindings the SDK client speaks without extra peer dependencies (gRPC needs @grpc/grpc-js). */
const BINDINGS = ["JSONRPC", "HTTP+JSON"];

/**
 * `url` may be the agent's base URL or its card's URL. A path ending in `.json` is taken as
 * the card itself; anything else gets the well-known card path appended (under the path,
 * not at the host root, since many servers host several agents under one host).
 */
export function cardUrlFor(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname.endsWith(".json")) return parsed.href;
  if (!parsed.pathname.endsWith("/")) parsed.pathname += "/";
  return new URL(".well-known/agent-card.json", parsed).href;
}

/**
 * Agent cards by URL, each with an SDK client, fetched once and reused until `CARD_TTL_MS`
 * passes: a card says which protocol version, transport and endpoint to use, so reading it
 * per turn would double every turn's round trips.
 */
export class AgentCards {
  private readonly cache = new Map<string, { at: number; agent: Promise<ResolvedAgent> }>();
  private readonly resolver: DefaultAgentCardResolver;
  private readonly factory: ClientFactory;

  constructor(
    private readonly fetchImpl: typeof fetch,
    private readonly now: () => number = () => Date.now(),
  ) {
    const legacyCompat = { enabled: true };
    this.resolver = new DefaultAgentCardResolver({ fetchImpl, legacyCompat });
    this.factory = new ClientFactory({
      transports: [
        new JsonRpcTransportFactory({ fetchImpl, legacyCompat }),
        new RestTransportFactory({ fetchImpl, legacyCompat }),
      ],
      cardResolver: this.resolver,
      // Plain sends return at once and are polled, so a running task has an id to cancel.
      clientConfig: { polling: true },
    });
  }

  async resolve(
    url: string,
    protocol: "1.0" | "0.3" | undefined,
    headers: Record<string, string>,
  ): Promise<ResolvedAgent> {
    const cardUrl = cardUrlFor(url);
    const key = `${protocol ?? "card"} ${cardUrl}`;
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.at < CARD_TTL_MS) return cached.agent;
    const agent = this.load(cardUrl, protocol, headers);
    this.cache.set(key, { at: this.now(), agent });
    // A failed fetch is not remembered: the next turn tries again.
    agent.catch(() => {
      if (this.cache.get(key)?.agent === agent) this.cache.delete(key);
    });
    return agent;
  }

  clear(): void {
    this.cache.clear();
  }

  private async load(
    cardUrl: string,
    protocol: "1.0" | "0.3" | undefined,
    headers: Record<string, string>,
  ): Promise<ResolvedAgent> {
    const response = await this.fetchImpl(cardUrl, {
      headers: { ...headers, Accept: "application/json", "A2A-Version": "1.0" },
      signal: AbortSignal.timeout(CARD_TIMEOUT_MS),
    }).catch((error: unknown) => {
      if (error instanceof RuntimeError && error.code === RUNTIME_ERROR_CODES.rejected) {
        throw new RuntimeError(
          error.code,
          `Switchboard could not read the A2A agent card at ${cardUrl}: ${error.message}.`,
          { cause: error },
        );
      }
      throw error;
    });
    const raw = await response.json().catch(() => undefined);
    const card = this.normalize(raw, cardUrl);
    const interfaces = pickInterfaces(card, protocol, cardUrl);
    const chosen = { ...card, supportedInterfaces: interfaces };
    const client = await this.factory.createFromAgentCard(chosen);
    return {
      cardUrl,
      card: chosen,
      protocol: versionOf(client.protocolVersion),
      client,
    };
  }

  private normalize(raw: unknown, cardUrl: string): AgentCard {
    const notACard = (why: string) =>
      new RuntimeError(
        RUNTIME_ERROR_CODES.badResponse,
        `The document at ${cardUrl} is not an A2A agent card (${why}); check the url setting.`,
      );
    if (!raw || typeof raw !== "object") throw notACard("it is not a JSON object");
    let card: AgentCard;
    try {
      card = this.resolver.normalizeAgentCard(raw);
    } catch (error) {
      throw notACard(excerpt(error instanceof Error ? error.message : String(error)));
    }
    if (!Array.isArray(card.supportedInterfaces) || card.supportedInterfaces.length === 0) {
      throw notACard("it names no endpoint to call");
    }
    return card;
  }
}

/** "0.3.0" → "0.3"; a 1.0 card may leave the version out. */
function versionOf(version: string | undefined): "1.0" | "0.3" {
  return version?.trim().startsWith("0.") ? "0.3" : "1.0";
}

function pickInterfaces(
  card: AgentCard,
  protocol: "1.0" | "0.3" | undefined,
  cardUrl: string,
): AgentInterface[] {
  const who = agentName(cardUrl);
  const usable = card.supportedInterfaces.filter((candidate) =>
    BINDINGS.includes(candidate.protocolBinding?.toUpperCase()),
  );
  if (usable.length === 0) {
    const offered = excerpt(card.supportedInterfaces.map((i) => i.protocolBinding).join(", "));
    throw new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${who} offers A2A only over ${offered}; Switchboard speaks A2A over JSON-RPC or HTTP+JSON.`,
    );
  }
  if (!protocol) return usable;
  const matching = usable.filter((candidate) => versionOf(candidate.protocolVersion) === protocol);
  if (matching.length === 0) {
    const offered = [...new Set(usable.map((i) => versionOf(i.protocolVersion)))].join(" and ");
    throw new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${who} speaks A2A ${offered}, not ${protocol} as its runtime settings ask; change or remove the protocol setting.`,
    );
  }
  return matching;
}

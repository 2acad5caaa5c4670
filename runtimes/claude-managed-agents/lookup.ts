import type Anthropic from "@anthropic-ai/sdk";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { RUNTIME_NAME, toRuntimeError } from "./errors.js";

type Kind = "agent" | "environment";

/** Ids the API hands out start with these; anything else in the settings is a name. */
const ID_PREFIX: Record<Kind, string> = { agent: "agent_", environment: "env_" };

interface Named {
  id: string;
  name: string;
  archived_at: string | null;
}

/**
 * Turns the agent and environment names in a manifest into ids, once per adapter: a name
 * costs a listing of the account's agents, which must not happen on every turn. Failed
 * lookups are not kept, so a name created after a failure is found on the next turn.
 * It only reads: Switchboard never creates an agent or an environment.
 */
export class NameLookup {
  private readonly cache = new Map<string, Promise<string>>();

  /** `account` tells accounts apart (API address and a digest of the key), never the key. */
  resolve(client: Anthropic, account: string, kind: Kind, value: string): Promise<string> {
    if (value.startsWith(ID_PREFIX[kind])) return Promise.resolve(value);
    const key = `${account}\n${kind}\n${value}`;
    let found = this.cache.get(key);
    if (!found) {
      found = this.find(client, kind, value);
      this.cache.set(key, found);
      found.catch(() => this.cache.delete(key));
    }
    return found;
  }

  private async find(client: Anthropic, kind: Kind, name: string): Promise<string> {
    const matches: Named[] = [];
    try {
      const pages =
        kind === "agent"
          ? client.beta.agents.list({ limit: 100 })
          : client.beta.environments.list({ limit: 100 });
      for await (const item of pages as AsyncIterable<Named>) {
        if (item.name === name && !item.archived_at) matches.push(item);
      }
    } catch (error) {
      throw toRuntimeError(error, { what: "lookup", kind });
    }
    const [first, second] = matches;
    if (!first) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        `${RUNTIME_NAME} has no ${kind} named "${name}" for this API key. Create it in the Claude Console (Switchboard never creates one) or put its id (${ID_PREFIX[kind]}…) in spec.runtime.${kind}.`,
      );
    }
    if (second) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        `${RUNTIME_NAME} has several ${kind}s named "${name}" (${matches.map((m) => m.id).join(", ")}); put the one to use, by id, in spec.runtime.${kind}.`,
      );
    }
    return first.id;
  }
}

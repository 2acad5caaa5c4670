import { randomUUID } from "node:crypto";
import { type Message, Role, type StreamResponse, type Task, TaskState } from "@a2a-js/sdk";
import {
  Client as A2aClient,
  type Client,
  ClientFactory,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from "@a2a-js/sdk/client";
import { LegacyJsonRpcTransport, parseLegacyAgentCard } from "@a2a-js/sdk/compat/v0_3/client";

/** fetch with a person's API key as the bearer token, as an A2A client is configured with. */
export function fetchWithKey(key: string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
}

/** The official SDK's protocol 1.0 client, made from the agent's card (discovery). */
export function client10(cardUrl: string, key: string): Promise<Client> {
  const fetchImpl = fetchWithKey(key);
  const factory = new ClientFactory({
    transports: [new JsonRpcTransportFactory({ fetchImpl })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
  });
  return factory.createFromUrl(cardUrl, cardUrl);
}

/**
 * The official SDK's protocol 0.3 client: the card read as a 0.3 client reads it (no
 * A2A-Version header), and the SDK's 0.3 JSON-RPC transport (message/send, tasks/get…).
 */
export async function client03(
  cardUrl: string,
  key: string,
): Promise<{ client: Client; raw: Record<string, unknown> }> {
  const fetchImpl = fetchWithKey(key);
  const response = await fetchImpl(cardUrl);
  if (!response.ok) throw new Error(`card: ${response.status}`);
  const raw = (await response.json()) as Record<string, unknown>;
  const card = parseLegacyAgentCard(raw);
  const transport = new LegacyJsonRpcTransport({ endpoint: String(raw.url), fetchImpl });
  return { client: new A2aClient(transport, card), raw };
}

/** A person's text message, in a context or (none) a new one. */
export function userMessage(text: string, contextId = ""): Message {
  return {
    messageId: randomUUID(),
    contextId,
    taskId: "",
    role: Role.ROLE_USER,
    parts: [
      { content: { $case: "text", value: text }, metadata: undefined, filename: "", mediaType: "" },
    ],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

export function sendRequest(text: string, contextId = "") {
  return {
    tenant: "",
    message: userMessage(text, contextId),
    configuration: undefined,
    metadata: undefined,
  };
}

export async function collect(stream: AsyncIterable<StreamResponse>): Promise<StreamResponse[]> {
  const all: StreamResponse[] = [];
  for await (const update of stream) all.push(update);
  return all;
}

/** The answer a stream carried, from its artifact updates in order. */
export function streamedAnswer(updates: readonly StreamResponse[]): string {
  return updates
    .map((update) =>
      update.payload?.$case === "artifactUpdate"
        ? (update.payload.value.artifact?.parts ?? [])
            .map((part) => (part.content?.$case === "text" ? part.content.value : ""))
            .join("")
        : "",
    )
    .join("");
}

/** The last state a stream reported. */
export function finalState(updates: readonly StreamResponse[]): TaskState | undefined {
  const states = updates.map((update) =>
    update.payload?.$case === "statusUpdate"
      ? update.payload.value.status?.state
      : update.payload?.$case === "task"
        ? update.payload.value.status?.state
        : undefined,
  );
  return states.filter((state) => state !== undefined).at(-1);
}

/** A task's answer: the text of its artifacts. */
export function taskAnswer(task: Task): string {
  return task.artifacts
    .flatMap((artifact) => artifact.parts)
    .map((part) => (part.content?.$case === "text" ? part.content.value : ""))
    .join("");
}

export { TaskState };

import type { VirtualKey } from "../keys/virtual-keys.js";

/** GET /v1/models in the shape of whichever SDK asks (Anthropic's sends anthropic-version). */
export function modelListBody(names: string[], key: VirtualKey, anthropic: boolean): string {
  const visible = key.allowedModels ? names.filter((n) => key.allowedModels?.includes(n)) : names;
  if (anthropic) {
    const data = visible.map((id) => ({
      type: "model",
      id,
      display_name: id,
      created_at: "1970-01-01T00:00:00Z",
    }));
    return JSON.stringify({
      data,
      has_more: false,
      first_id: visible[0] ?? null,
      last_id: visible.at(-1) ?? null,
    });
  }
  return JSON.stringify({
    object: "list",
    data: visible.map((id) => ({ id, object: "model", created: 0, owned_by: "switchboard" })),
  });
}

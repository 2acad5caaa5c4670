/** A JSON body as tests read it: any shape, asserted on by the test. */
// biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape themselves.
export type JsonBody = Record<string, any>;

export async function readJson(response: Response): Promise<JsonBody> {
  return (await response.json()) as JsonBody;
}

/** A call to Switchboard's REST API (`{base}/api/v1{path}`) with an API key, JSON in. */
export function apiRequest(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

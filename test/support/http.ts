/** A JSON body as tests read it: any shape, asserted on by the test. */
// biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape themselves.
export type JsonBody = Record<string, any>;

export async function readJson(response: Response): Promise<JsonBody> {
  return (await response.json()) as JsonBody;
}

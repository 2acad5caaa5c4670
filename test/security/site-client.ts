import { Agent, request } from "undici";

/**
 * Requests to the directory site the way an attacker sends them: any Host, Origin or Referer,
 * from any loopback address (127.0.0.2 is another peer than 127.0.0.1 on Linux), with no
 * redirects followed. `fetch` cannot do this: it drops a Host header and binds no address.
 */

export interface SiteAnswer {
  status: number;
  text: string;
  location: string;
  headers: Record<string, string | string[] | undefined>;
  /** The `name=value` of the session cookie this answer set, or "" when it set none. */
  cookie: string;
}

const agents = new Map<string, Agent>();

function agentFor(from: string): Agent {
  let agent = agents.get(from);
  if (!agent) {
    agent = new Agent({ localAddress: from });
    agents.set(from, agent);
  }
  return agent;
}

export async function siteRequest(
  url: string,
  options: {
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    /** A form, sent as application/x-www-form-urlencoded. */
    form?: Record<string, string>;
    /** The address the request comes from. */
    from?: string;
  } = {},
): Promise<SiteAnswer> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const response = await request(url, {
    method: options.method ?? "GET",
    dispatcher: agentFor(options.from ?? "127.0.0.1"),
    headers: {
      ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      ...options.headers,
    },
    body,
  });
  const setCookie = response.headers["set-cookie"];
  const cookies = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const session = cookies.find((line) => line.startsWith("switchboard_session="));
  return {
    status: response.statusCode,
    text: await response.body.text(),
    location: String(response.headers.location ?? ""),
    headers: response.headers,
    cookie: session?.split(";")[0] ?? "",
  };
}

/** The page's CSRF token, from its `<meta name="csrf-token">`. */
export function csrfTokenIn(page: string): string {
  return /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? "";
}

/** Signs in with the development form as a person at `base` would, from its own page. */
export async function developmentSignIn(base: string, email: string): Promise<string> {
  const page = await siteRequest(`${base}/sign-in`);
  if (page.status !== 200) throw new Error(`GET /sign-in answered ${page.status}`);
  const posted = await siteRequest(`${base}/sign-in`, {
    method: "POST",
    headers: { cookie: page.cookie, origin: base },
    form: { _csrf: csrfTokenIn(page.text), email, next: "/" },
  });
  if (posted.status !== 303 || !posted.cookie) {
    throw new Error(`signing in answered ${posted.status}: ${posted.text.slice(0, 300)}`);
  }
  return posted.cookie;
}

export async function closeSiteClients(): Promise<void> {
  const closing = [...agents.values()].map((agent) => agent.close());
  agents.clear();
  await Promise.all(closing);
}

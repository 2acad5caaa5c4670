import type { Request } from "express";

/**
 * Where a request came from and how: the peer's address, whether it crossed TLS (itself or
 * at a proxy we believe), and whether it was addressed to, and sent from, this machine.
 */

/** The peer's address as the socket saw it, without the IPv4-mapped IPv6 prefix. */
export function peerAddress(req: Request): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

/** The first value of a header that may be repeated or comma-separated. */
function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(",")[0]?.trim().toLowerCase();
}

/**
 * Whether the browser reached us over TLS: this server's own TLS, or a proxy in `proxies`
 * (and only such a proxy: anyone else could say anything) saying `X-Forwarded-Proto: https`.
 */
export function arrivedOverTls(req: Request, proxies: readonly string[]): boolean {
  if (req.secure) return true;
  return (
    proxies.includes(peerAddress(req)) && firstValue(req.headers["x-forwarded-proto"]) === "https"
  );
}

/**
 * The browser's address for the admin's list of sessions: the peer, or behind a proxy in
 * `proxies` the address that proxy appended to X-Forwarded-For (the last one: earlier ones
 * are whatever the browser sent). Shown to people, never used to decide anything.
 */
export function clientAddress(req: Request, proxies: readonly string[]): string {
  const peer = peerAddress(req);
  if (!proxies.includes(peer)) return peer;
  const forwarded = String(req.headers["x-forwarded-for"] ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  return forwarded.at(-1) ?? peer;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isLoopbackAddress(address: string): boolean {
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** `host[:port]` (a Host header, or a URL's host) names this machine at `port`. */
function isLoopbackHost(url: URL, port: number): boolean {
  const given = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return LOOPBACK_NAMES.has(url.hostname) && given === port;
}

/** A Host header that names this machine at `port`: 127.0.0.1, [::1] or localhost. */
export function isLoopbackHostHeader(host: string | undefined, port: number): boolean {
  if (!host || /[/?#@\\\s]/.test(host)) return false;
  try {
    return isLoopbackHost(new URL(`http://${host}`), port);
  } catch {
    return false;
  }
}

/** An Origin or Referer on this machine at `port`, over http. */
export function isLoopbackOrigin(value: string | undefined, port: number): boolean {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" && isLoopbackHost(url, port);
  } catch {
    return false;
  }
}

/** When the site's cookies are Secure: always (PUBLIC_URL is https), or when their request came over TLS. */
export interface CookieSecurity {
  always: boolean;
  /** Proxies whose X-Forwarded-Proto is believed (AUTH_TRUSTED_PROXIES). */
  tlsProxies: readonly string[];
}

export function isSecureCookie(security: CookieSecurity, req: Request | undefined): boolean {
  return security.always || (req !== undefined && arrivedOverTls(req, security.tlsProxies));
}

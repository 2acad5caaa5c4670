import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { type AddressInfo, connect, isIP, type Socket } from "node:net";
import type { EgressPolicy } from "./egress-policy.js";
import { EgressRefusedError } from "./egress-refused.js";

/** How long connecting through the tunnel may take, as for the checked dialer. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * For SDKs that take no fetch or dispatcher but do take a proxy URL (the `e2b` SDK builds
 * its own undici Agent and only lets a caller name an HTTP proxy): a CONNECT proxy on
 * 127.0.0.1, inside this process, that opens each tunnel only to an address the policy
 * permits, checked at connect time after DNS resolution, exactly as the checked dialer
 * does. It answers nothing but CONNECT, and only with its own random credentials, so no
 * other local process can use it as a way out.
 *
 * One tunnel per policy for the life of the process (`checkedTunnel`): SDKs cache a client
 * per proxy URL, so a new URL per call would grow their caches without end.
 */
export interface CheckedTunnel {
  /** `http://switchboard:<token>@127.0.0.1:<port>`: what to give the SDK as its proxy. */
  readonly url: string;
  /** The refusal of the last tunnel asked for `host`, so an SDK's bare "403" can be explained. */
  refusalFor(host: string): EgressRefusedError | undefined;
}

const tunnels = new WeakMap<EgressPolicy, Promise<CheckedTunnel>>();

/** The tunnel for `policy`, started on first use; its socket does not keep the process up. */
export function checkedTunnel(policy: EgressPolicy): Promise<CheckedTunnel> {
  let tunnel = tunnels.get(policy);
  if (!tunnel) {
    tunnel = startTunnel(policy);
    tunnel.catch(() => tunnels.delete(policy));
    tunnels.set(policy, tunnel);
  }
  return tunnel;
}

async function startTunnel(policy: EgressPolicy): Promise<CheckedTunnel> {
  const token = randomBytes(18).toString("base64url");
  const expected = Buffer.from(`Basic ${Buffer.from(`switchboard:${token}`).toString("base64")}`);
  const refusals = new Map<string, EgressRefusedError>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(405, { Allow: "CONNECT" }).end();
  });
  server.on("connect", (req: IncomingMessage, client: Socket) => {
    client.on("error", () => client.destroy());
    const given = Buffer.from(String(req.headers["proxy-authorization"] ?? ""));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
      return;
    }
    const target = parseTarget(req.url ?? "");
    if (!target) {
      client.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return;
    }
    permittedAddress(policy, target.host).then(
      (address) => {
        refusals.delete(target.host);
        const upstream = connect({ host: address, port: target.port });
        let established = false;
        upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy());
        upstream.once("connect", () => {
          established = true;
          upstream.setTimeout(0);
          client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on("error", () => {
          if (!established) client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
          else client.destroy();
        });
        upstream.on("close", () => client.destroy());
        client.on("close", () => upstream.destroy());
      },
      (error: unknown) => {
        if (error instanceof EgressRefusedError) refusals.set(target.host, error);
        client.end(`HTTP/1.1 ${error instanceof EgressRefusedError ? 403 : 502} Refused\r\n\r\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://switchboard:${token}@127.0.0.1:${port}`,
    refusalFor: (host) => refusals.get(host.replace(/^\[(.*)\]$/, "$1").toLowerCase()),
  };
}

function parseTarget(authority: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(authority);
  if (!match?.[1] || !match[2]) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[(.*)\]$/, "$1").toLowerCase(), port };
}

/** The address to connect to: the literal itself, or the first resolved one the policy permits. */
async function permittedAddress(policy: EgressPolicy, host: string): Promise<string> {
  if (isIP(host) !== 0) {
    if (!policy.permits(host)) throw new EgressRefusedError(host, "address");
    return host;
  }
  const found = await policy.resolve(host);
  const allowed = found.find((entry) => policy.permits(entry.address, host));
  if (allowed) return allowed.address;
  if (found.length > 0) throw new EgressRefusedError(host, "name");
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
}

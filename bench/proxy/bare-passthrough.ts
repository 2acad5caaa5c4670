import { createServer } from "node:http";
import { Pool } from "undici";

/**
 * The floor: the least a Node pass-through can do. Buffers the request body, sends it
 * upstream with undici's `stream` (which writes the upstream's body straight into the
 * client's response, with backpressure), and nothing else: no auth, routing or accounting.
 */

const [portArg, upstream] = process.argv.slice(2);
const pool = new Pool(upstream as string, { connections: 256, keepAliveTimeout: 30_000 });

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    pool
      .stream(
        {
          path: req.url ?? "/",
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer upstream" },
          body: Buffer.concat(chunks),
        },
        ({ statusCode, headers }) => {
          res.writeHead(statusCode, { "content-type": String(headers["content-type"] ?? "") });
          return res;
        },
      )
      .catch(() => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
  });
  res.on("close", () => req.destroy());
}).listen(Number(portArg), "127.0.0.1", () =>
  process.stdout.write(`READY http://127.0.0.1:${portArg}\n`),
);
process.on("SIGTERM", () => process.exit(0));

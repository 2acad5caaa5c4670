import { createServer } from "node:http";

/**
 * The bench's model provider: answers chat completions at once, as JSON or as a short SSE
 * stream (the first event immediately). A body naming the model "hold" gets a stream held
 * open for two seconds, for the memory-at-1,000-streams figure.
 */

const COMPLETION = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-4o",
  choices: [
    { index: 0, message: { role: "assistant", content: "Hello there!" }, finish_reason: "stop" },
  ],
  usage: { prompt_tokens: 14, completion_tokens: 4, total_tokens: 18 },
});

const chunk = (delta: object, finish: string | null = null, usage?: object) =>
  `data: ${JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "gpt-4o",
    choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }],
    ...(usage ? { usage } : {}),
  })}\n\n`;

const FIRST = chunk({ role: "assistant", content: "" });
const REST = [chunk({ content: "Hello" }), chunk({ content: " there!" }), chunk({}, "stop")];
const USAGE = chunk({}, null, { prompt_tokens: 14, completion_tokens: 4, total_tokens: 18 });

const port = Number(process.argv[2]);
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString();
    if (!body.includes('"stream":true')) {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(COMPLETION),
      });
      res.end(COMPLETION);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(FIRST);
    const withUsage = body.includes('"include_usage":true');
    const finish = () => res.end(`${REST.join("")}${withUsage ? USAGE : ""}data: [DONE]\n\n`);
    if (!body.includes('"hold"')) {
      setImmediate(finish);
      return;
    }
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
      if (ticks < 8) res.write(REST[0]);
      else {
        clearInterval(timer);
        finish();
      }
    }, 250);
    res.on("close", () => clearInterval(timer));
  });
}).listen(port, "127.0.0.1", () => process.stdout.write(`READY http://127.0.0.1:${port}\n`));

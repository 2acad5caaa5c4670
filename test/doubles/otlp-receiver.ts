import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local double of an OpenTelemetry collector's OTLP/HTTP receiver, for traces in the JSON
 * encoding (https://opentelemetry.io/docs/specs/otlp/#otlphttp): `POST /v1/traces` with
 * `Content-Type: application/json` and an `ExportTraceServiceRequest` body, answered 200
 * with an empty `ExportTraceServiceResponse`. Anything else is recorded as unexpected and
 * answered 404, so a test can fail on it; `refuseNext` makes the receiver answer 503.
 */

export interface ReceivedSpan {
  /** The resource's `service.name`. */
  service: string | undefined;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** The attributes as plain values: `intValue` as a number, the others as they are. */
  attributes: Record<string, string | number | boolean>;
  status: { code?: number; message?: string };
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

function plain(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  throw new Error(`an attribute value OTLP does not define: ${JSON.stringify(value)}`);
}

const attributesOf = (list: { key: string; value: AnyValue }[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));

export class OtlpReceiverDouble {
  readonly spans: ReceivedSpan[] = [];
  readonly unexpected: string[] = [];
  /** Raw bodies received, to look for what must never be sent. */
  readonly bodies: string[] = [];
  requests = 0;
  private refusals = 0;

  private constructor(private readonly server: LoopbackServer) {}

  get url(): string {
    return this.server.url;
  }

  static async start(): Promise<OtlpReceiverDouble> {
    let double: OtlpReceiverDouble | undefined;
    const server = await startLoopbackServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        const self = double as OtlpReceiverDouble;
        const type = req.headers["content-type"] ?? "";
        if (
          req.method !== "POST" ||
          req.url !== "/v1/traces" ||
          !type.startsWith("application/json")
        ) {
          self.unexpected.push(`${req.method} ${req.url} (${type})`);
          res.writeHead(404).end();
          return;
        }
        self.requests += 1;
        if (self.refusals > 0) {
          self.refusals -= 1;
          res.writeHead(503, { "content-type": "application/json" }).end('{"code":14}');
          return;
        }
        self.bodies.push(body);
        const request = JSON.parse(body) as {
          resourceSpans: {
            resource?: { attributes?: { key: string; value: AnyValue }[] };
            scopeSpans: {
              spans: (Omit<ReceivedSpan, "attributes" | "service"> & {
                attributes?: { key: string; value: AnyValue }[];
              })[];
            }[];
          }[];
        };
        for (const resourceSpans of request.resourceSpans) {
          const service = attributesOf(resourceSpans.resource?.attributes)["service.name"];
          for (const scope of resourceSpans.scopeSpans) {
            for (const span of scope.spans) {
              self.spans.push({
                ...span,
                service: typeof service === "string" ? service : undefined,
                attributes: attributesOf(span.attributes),
                status: span.status ?? {},
              });
            }
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      })();
    });
    double = new OtlpReceiverDouble(server);
    return double;
  }

  /** The next `count` exports are answered 503, as by a collector that is overloaded. */
  refuseNext(count: number): void {
    this.refusals = count;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

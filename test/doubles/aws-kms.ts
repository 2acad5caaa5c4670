import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * AWS KMS's JSON 1.1 wire API on 127.0.0.1, as its API reference describes it: `POST /` with
 * `X-Amz-Target: TrentService.Encrypt` or `.Decrypt`, `Content-Type:
 * application/x-amz-json-1.1`, signed with SigV4 for the `kms` service (the double signs the
 * request again with the known secret and compares). Encrypt answers `{ CiphertextBlob,
 * KeyId, EncryptionAlgorithm }`; Decrypt needs the same EncryptionContext and answers `{
 * Plaintext, KeyId, EncryptionAlgorithm }`. Errors are 400 `{ __type, message }`:
 * NotFoundException for an unknown key, DisabledException, IncorrectKeyException when
 * Decrypt names another key than the blob's, InvalidCiphertextException for a blob or context
 * that does not match, InvalidSignatureException for a bad signature. Anything else is
 * recorded in `unexpected`.
 */
export class AwsKmsDouble {
  readonly unexpected: string[] = [];
  readonly calls: string[] = [];
  /** Keys by id (also answering to their `alias/…`); a disabled key refuses everything. */
  private readonly keys = new Map<string, { material: Buffer; disabled: boolean }>();

  private constructor(
    private readonly server: LoopbackServer,
    private readonly credentials: { accessKeyId: string; secretAccessKey: string },
    private readonly region: string,
  ) {}

  static async start(options: {
    keys: string[];
    credentials: { accessKeyId: string; secretAccessKey: string };
    region: string;
  }): Promise<AwsKmsDouble> {
    let kms: AwsKmsDouble | undefined;
    const server = await startLoopbackServer((req, res) => {
      void readBody(req).then(async (body) => {
        const answer = await (kms as AwsKmsDouble).handle(
          req.method ?? "",
          req.url ?? "",
          req.headers,
          body,
        );
        res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(answer.body));
      });
    });
    kms = new AwsKmsDouble(server, options.credentials, options.region);
    for (const id of options.keys) kms.keys.set(id, { material: randomBytes(32), disabled: false });
    return kms;
  }

  get url(): string {
    return `${this.server.url}/`;
  }

  disable(keyId: string): void {
    const key = this.keys.get(keyId);
    if (key) key.disabled = true;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(method: string, url: string, headers: IncomingHttpHeaders, body: string) {
    const target = String(headers["x-amz-target"] ?? "");
    this.calls.push(target);
    if (
      method !== "POST" ||
      url !== "/" ||
      headers["content-type"] !== "application/x-amz-json-1.1"
    ) {
      this.unexpected.push(`${method} ${url} ${headers["content-type"]}`);
      return error("UnknownOperationException", "Not a KMS JSON 1.1 request");
    }
    if (!(await this.signatureMatches(headers, body))) {
      return error(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided.",
      );
    }
    const input = JSON.parse(body) as Record<string, unknown>;
    if (target === "TrentService.Encrypt") return this.encrypt(input);
    if (target === "TrentService.Decrypt") return this.decrypt(input);
    this.unexpected.push(target);
    return error("UnknownOperationException", `No operation ${target}`);
  }

  private encrypt(input: Record<string, unknown>) {
    const id = String(input.KeyId ?? "");
    const key = this.keys.get(id);
    if (!key) return error("NotFoundException", `Key '${id}' does not exist`);
    if (key.disabled) return error("DisabledException", `${id} is disabled.`);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key.material, iv);
    cipher.setAAD(Buffer.from(JSON.stringify(input.EncryptionContext ?? {})));
    const plaintext = Buffer.from(String(input.Plaintext ?? ""), "base64");
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const idBytes = Buffer.from(id);
    const blob = Buffer.concat([Buffer.from([idBytes.length]), idBytes, iv, sealed]);
    return ok({
      CiphertextBlob: blob.toString("base64"),
      KeyId: arn(id),
      EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    });
  }

  private decrypt(input: Record<string, unknown>) {
    const blob = Buffer.from(String(input.CiphertextBlob ?? ""), "base64");
    const length = blob[0] ?? 0;
    const id = blob.subarray(1, 1 + length).toString();
    const key = this.keys.get(id);
    if (!key || blob.length < 1 + length + 12 + 16) {
      return error("InvalidCiphertextException", "The ciphertext is invalid.");
    }
    if (input.KeyId !== undefined && input.KeyId !== id) {
      return error(
        "IncorrectKeyException",
        "The key ID in the request does not identify a KMS key that can perform this operation.",
      );
    }
    if (key.disabled) return error("DisabledException", `${id} is disabled.`);
    const rest = blob.subarray(1 + length);
    const decipher = createDecipheriv("aes-256-gcm", key.material, rest.subarray(0, 12));
    decipher.setAAD(Buffer.from(JSON.stringify(input.EncryptionContext ?? {})));
    decipher.setAuthTag(rest.subarray(rest.length - 16));
    try {
      const plaintext = Buffer.concat([
        decipher.update(rest.subarray(12, rest.length - 16)),
        decipher.final(),
      ]);
      return ok({
        Plaintext: plaintext.toString("base64"),
        KeyId: arn(id),
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      });
    } catch {
      return error("InvalidCiphertextException", "The ciphertext is invalid.");
    }
  }

  /** Signs the request again with the known secret, at its X-Amz-Date, and compares. */
  private async signatureMatches(headers: IncomingHttpHeaders, body: string): Promise<boolean> {
    const authorization = String(headers.authorization ?? "");
    const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
    const date = String(headers["x-amz-date"] ?? "");
    const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!authorization.startsWith("AWS4-HMAC-SHA256 ") || !at || !signed.includes("host"))
      return false;
    const signer = new SignatureV4({
      credentials: this.credentials,
      region: this.region,
      service: "kms",
      sha256: Hash.bind(null, "sha256"),
    });
    const kept = Object.fromEntries(signed.map((name) => [name, String(headers[name] ?? "")]));
    const host = String(headers.host ?? "");
    const again = await signer.sign(
      {
        method: "POST",
        protocol: "http:",
        hostname: host.split(":")[0] ?? "",
        path: "/",
        headers: kept,
        body,
      },
      { signingDate: new Date(`${at[1]}-${at[2]}-${at[3]}T${at[4]}:${at[5]}:${at[6]}Z`) },
    );
    return again.headers.authorization === authorization;
  }
}

const arn = (id: string) => `arn:aws:kms:us-east-1:111122223333:key/${id}`;
const ok = (body: Record<string, unknown>) => ({ status: 200, body });
const error = (type: string, message: string) => ({ status: 400, body: { __type: type, message } });

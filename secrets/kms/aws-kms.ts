import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { Agent, request } from "undici";
import { KeyUnavailableError, type KeyWrapper, type WrappedKey } from "../crypto/key-wrapper.js";

export interface AwsKmsSettings {
  /** The KMS key new data keys are wrapped under: its id, ARN, or an alias (`alias/…`). */
  keyId: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined };
  /** Another endpoint (a VPC endpoint, a test double); default `https://kms.REGION.amazonaws.com`. */
  endpoint?: string | undefined;
  timeoutMs?: number;
}

/** How the store names a data key wrapped by AWS KMS: `aws-kms:` and the key it named. */
const PREFIX = "aws-kms:";

/** KMS's answers that mean this data key will not unwrap, whatever is tried again. */
const REFUSALS = new Set([
  "InvalidCiphertextException",
  "IncorrectKeyException",
  "NotFoundException",
  "DisabledException",
  "KMSInvalidStateException",
  "AccessDeniedException",
  "InvalidKeyUsageException",
  // Credentials KMS does not accept: the operator's to fix, not worth trying again.
  "UnrecognizedClientException",
  "InvalidSignatureException",
]);

/**
 * Data keys wrapped by AWS KMS (Encrypt and Decrypt over its JSON 1.1 API, signed with
 * SigV4), so the key-encryption key never leaves KMS. The secret a data key belongs to is its
 * encryption context. KMS rotates a key's material itself; moving to another KMS key (or from
 * SECRETS_KEYS) is `secrets rotate` with the new one in front.
 */
export class AwsKmsKeyWrapper implements KeyWrapper {
  readonly currentKeyId: string;
  private readonly signer: SignatureV4;
  private readonly endpoint: URL;
  private readonly dispatcher = new Agent({ connect: { timeout: 5_000 } });

  constructor(private readonly settings: AwsKmsSettings) {
    this.currentKeyId = `${PREFIX}${settings.keyId}`;
    this.endpoint = new URL(settings.endpoint ?? `https://kms.${settings.region}.amazonaws.com/`);
    this.signer = new SignatureV4({
      credentials: settings.credentials,
      region: settings.region,
      service: "kms",
      sha256: Hash.bind(null, "sha256"),
    });
  }

  holds(keyId: string): boolean {
    return keyId.startsWith(PREFIX);
  }

  async wrap(dataKey: Buffer, context: string): Promise<WrappedKey> {
    const answer = await this.call("Encrypt", {
      KeyId: this.settings.keyId,
      Plaintext: dataKey.toString("base64"),
      EncryptionContext: { switchboard: context },
    });
    if (typeof answer.CiphertextBlob !== "string")
      throw new Error("KMS Encrypt answered no CiphertextBlob");
    return { keyId: this.currentKeyId, wrapped: Buffer.from(answer.CiphertextBlob, "base64") };
  }

  async unwrap(key: WrappedKey, context: string): Promise<Buffer> {
    const keyId = key.keyId.slice(PREFIX.length);
    const answer = await this.call("Decrypt", {
      KeyId: keyId,
      // The database may hand back a Uint8Array, whose toString ignores the encoding.
      CiphertextBlob: Buffer.from(key.wrapped).toString("base64"),
      EncryptionContext: { switchboard: context },
    });
    const plaintext =
      typeof answer.Plaintext === "string" ? Buffer.from(answer.Plaintext, "base64") : undefined;
    if (plaintext?.length !== 32) throw new Error("KMS Decrypt answered no 32-byte data key");
    return plaintext;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async call(
    action: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const text = JSON.stringify(body);
    const { endpoint } = this;
    const signed = await this.signer.sign({
      method: "POST",
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: endpoint.pathname,
      headers: {
        host: endpoint.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `TrentService.${action}`,
      },
      body: text,
    });
    const response = await request(endpoint, {
      method: "POST",
      headers: signed.headers,
      body: text,
      dispatcher: this.dispatcher,
      signal: AbortSignal.timeout(this.settings.timeoutMs ?? 5_000),
    });
    const answer = (await response.body.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.statusCode === 200) return answer;
    const type =
      String(answer.__type ?? "")
        .split("#")
        .at(-1) ?? "";
    const message = String(answer.message ?? answer.Message ?? `HTTP ${response.statusCode}`);
    if (REFUSALS.has(type)) {
      throw new KeyUnavailableError(
        `AWS KMS refused to ${action === "Encrypt" ? "wrap" : "unwrap"} its data key under "${String(body.KeyId)}" (${type}: ${message}).`,
      );
    }
    // Throttling, KMS's own faults, no answer: not this secret's fault, and may pass.
    throw new Error(
      `AWS KMS ${action} failed: ${type || `HTTP ${response.statusCode}`}: ${message}`,
    );
  }
}

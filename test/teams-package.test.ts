import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, inflateRawSync, inflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { runSwitchboard } from "./support/switchboard-process.js";

/**
 * `switchboard teams package`: the zip Teams admins upload. Read back here with a reader
 * written from the ZIP and PNG specifications (and `unzip -t` where the machine has it).
 */

const APP_ID = "0b8a3c54-6c1e-4f0e-9b3a-5d1f2e7c9a11";
const root = mkdtempSync(join(tmpdir(), "switchboard-teams-package-"));

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The files of a ZIP archive, by the central directory, each inflated and CRC-checked. */
function readZip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end).toBeGreaterThan(0);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString("utf8");
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const stored = zip.subarray(start, start + size);
    const data = method === 8 ? inflateRawSync(stored) : stored;
    expect(crc32(data) >>> 0, `CRC of ${name}`).toBe(crc >>> 0);
    files.set(name, data);
    at += 46 + nameLength + extra;
  }
  return files;
}

/** A PNG's size, after checking its signature, every chunk's CRC and its pixel data's length. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString("ascii");
    const body = png.subarray(at + 4, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length), `CRC of ${type}`).toBe(crc32(body) >>> 0);
    if (type === "IHDR") {
      width = png.readUInt32BE(at + 8);
      height = png.readUInt32BE(at + 12);
      expect([png[at + 16], png[at + 17]]).toEqual([8, 6]);
    }
    if (type === "IDAT") idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  expect(inflateSync(Buffer.concat(idat)).length).toBe(height * (width * 4 + 1));
  return { width, height };
}

function hasUnzip(): boolean {
  try {
    execFileSync("unzip", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("switchboard teams package", () => {
  it("writes a zip with a valid 1.17 manifest for this bot and site, and both icons", async () => {
    const out = join(root, "switchboard-teams.zip");
    const ran = await runSwitchboard(["teams", "package", "--out", out], {
      TEAMS_APP_ID: APP_ID,
      PUBLIC_URL: "https://switchboard.example.com",
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(out);
    const zip = readFileSync(out);
    if (hasUnzip()) execFileSync("unzip", ["-tq", out]);
    const files = readZip(zip);
    expect([...files.keys()].sort()).toEqual(["color.png", "manifest.json", "outline.png"]);

    const manifest = JSON.parse((files.get("manifest.json") as Buffer).toString("utf8"));
    expect(manifest.manifestVersion).toBe("1.17");
    expect(manifest.$schema).toContain("/v1.17/MicrosoftTeams.schema.json");
    expect(manifest.id).toBe(APP_ID);
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.name.short.length).toBeLessThanOrEqual(30);
    expect(manifest.description.short.length).toBeLessThanOrEqual(80);
    expect(manifest.description.full.length).toBeLessThanOrEqual(4000);
    expect(manifest.bots).toEqual([
      expect.objectContaining({ botId: APP_ID, scopes: ["personal", "team", "groupChat"] }),
    ]);
    const extension = manifest.composeExtensions[0];
    expect(extension.botId).toBe(APP_ID);
    expect(extension.commands).toEqual([
      expect.objectContaining({ id: "searchAgents", type: "query" }),
      expect.objectContaining({
        id: "askAgent",
        type: "action",
        context: ["message"],
        fetchTask: true,
      }),
    ]);
    expect(extension.messageHandlers).toEqual([
      { type: "link", value: { domains: ["switchboard.example.com"] } },
    ]);
    expect(manifest.validDomains).toEqual(["switchboard.example.com"]);
    expect(manifest.authorization.permissions.resourceSpecific).toContainEqual({
      name: "ChannelMessage.Read.Group",
      type: "Application",
    });
    expect(manifest.webApplicationInfo.id).toBe(APP_ID);
    expect(manifest.icons).toEqual({ color: "color.png", outline: "outline.png" });
    expect(pngSize(files.get("color.png") as Buffer)).toEqual({ width: 192, height: 192 });
    expect(pngSize(files.get("outline.png") as Buffer)).toEqual({ width: 32, height: 32 });
  });

  it("names what it lacks without TEAMS_APP_ID or PUBLIC_URL, and writes nothing", async () => {
    const out = join(root, "nothing.zip");
    const ran = await runSwitchboard(["teams", "package", "--out", out], {});
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toContain("TEAMS_APP_ID: is required");
    expect(ran.stderr).toContain("PUBLIC_URL: is required");
    expect(() => readFileSync(out)).toThrow();
  });
});

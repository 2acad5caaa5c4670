import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

/**
 * Debian's Chromium driven by playwright-core. Where it is missing the browser tests skip
 * with a printed reason, except in CI, where a missing browser is a failure.
 */
export function findChromium(): string | undefined {
  try {
    return (
      execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-dev-shm-usage",
    ],
  });
}

export const SCREENSHOTS = fileURLToPath(new URL("../../test-output/screenshots", import.meta.url));
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/**
 * Saves the page at desktop and phone width (full page), fails if it is wider than a phone
 * at phone width, then restores the desktop size.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  // Nothing may stick out sideways at phone width (wide tables scroll inside their own box).
  const width = await page.evaluate<number>("document.documentElement.scrollWidth");
  if (width > PHONE.width) throw new Error(`${name} is ${width}px wide at ${PHONE.width}px`);
  await page.setViewportSize(DESKTOP);
}

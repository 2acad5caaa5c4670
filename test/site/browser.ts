import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

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

/**
 * What Chromium reports on the console of any page in `context` about the Content-Security-
 * Policy: a script, style or connection the site's policy blocked. A test of a page that works
 * under the policy expects none.
 */
export function cspViolations(context: BrowserContext, seen: string[] = []): string[] {
  const watch = (page: Page) =>
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) seen.push(message.text());
    });
  for (const page of context.pages()) watch(page);
  context.on("page", watch);
  return seen;
}

/**
 * Waits until `expression`, evaluated in the page, is true, across the page reloading.
 * Playwright's waitForFunction runs a string through eval inside the page, which the site's
 * Content-Security-Policy (no 'unsafe-eval') refuses; page.evaluate comes from the browser's
 * debugging protocol, which the policy does not govern.
 */
export async function waitUntil(page: Page, expression: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const holds = () =>
    page.evaluate<boolean>(`Boolean(${expression})`).catch((error: Error) => {
      // A navigation (the page reloading itself) mid-evaluation: ask the new page.
      if (/context was destroyed|navigat/i.test(error.message)) return false;
      throw error;
    });
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`Waited ${timeoutMs} ms for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

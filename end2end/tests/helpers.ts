import { expect, Page } from "@playwright/test";

export const ADMIN = { username: "e2e-admin", password: process.env.E2E_ADMIN_PASSWORD ?? "e2e admin password" };

/** Fails the test on any console error or uncaught exception in the page. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** The WASM ran: an effect set this marker. SSR alone never sets it. */
export async function expectHydrated(page: Page) {
  await expect(page.locator('#app[data-hydrated="true"]')).toBeAttached();
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `artifacts/${name}.png`, fullPage: true });
}

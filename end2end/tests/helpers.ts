import { test as base, expect, BrowserContext, Page } from "@playwright/test";

export { expect };

/**
 * Playwright's `test`, failing any test during which a page it opened
 * (in the default context or any `browser.newContext()`) reported a
 * Content-Security-Policy violation.
 */
export const test = base.extend<{ cspViolations: string[]; cspGuard: void }>({
  // What the guard collected; a test that causes a violation on purpose
  // reads it and empties it.
  // eslint-disable-next-line no-empty-pattern
  cspViolations: async ({}, use) => {
    await use([]);
  },
  cspGuard: [
    async ({ browser, context, cspViolations: violations }, use) => {
      const guard = async (ctx: BrowserContext) => {
        await ctx.exposeFunction("__reportCspViolation", (v: string) => violations.push(v));
        await ctx.addInitScript(() => {
          document.addEventListener("securitypolicyviolation", (e) => {
            (window as unknown as { __reportCspViolation: (v: string) => void }).__reportCspViolation(
              `${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${document.location.pathname}`,
            );
          });
        });
      };
      await guard(context);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const ctx = await newContext(options);
        await guard(ctx);
        return ctx;
      };
      await use();
      browser.newContext = newContext;
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

export const ADMIN = { username: "e2e-admin", password: process.env.E2E_ADMIN_PASSWORD ?? "e2e admin password" };

/** Fails the test on any console error or uncaught exception in the page. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on("pageerror", (e) => errors.push(`${String(e)} @ ${page.url()}`));
  return errors;
}

/** The WASM ran: an effect set this marker. SSR alone never sets it. */
export async function expectHydrated(page: Page) {
  await expect(page.locator('#app[data-hydrated="true"]')).toBeAttached();
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `artifacts/${name}.png`, fullPage: true });
}

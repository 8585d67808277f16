import { expect, expectHydrated, test } from "./helpers";

// The Content-Security-Policy lets the page hydrate and blocks anything
// else inline; the suite's guard (helpers.ts) fails a test on any
// violation. This test checks both: the injected script must not run, and
// the guard must have caught it (then it is cleared, so this test passes).
test("an injected inline script is blocked and the guard reports it", async ({ page, cspViolations }) => {
  await page.goto("/login");
  await expectHydrated(page);
  const { ran, reported } = await page.evaluate(
    () =>
      new Promise<{ ran: boolean; reported: boolean }>((resolve) => {
        const done = (reported: boolean) =>
          resolve({ ran: (window as unknown as { __injected?: boolean }).__injected === true, reported });
        document.addEventListener("securitypolicyviolation", () => done(true), { once: true });
        setTimeout(() => done(false), 5_000);
        const script = document.createElement("script");
        script.textContent = "window.__injected = true;";
        document.body.appendChild(script);
      }),
  );
  expect(ran, "an inline script without the nonce must not run").toBe(false);
  expect(reported, "the browser reported the violation").toBe(true);
  await expect.poll(() => cspViolations.length).toBeGreaterThan(0);
  expect(cspViolations.join("\n")).toContain("script-src");
  cspViolations.length = 0;
});

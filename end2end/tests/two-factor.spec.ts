import { Browser, Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { ADMIN, expect, expectHydrated, screenshot, test } from "./helpers";

// A person with a password sets up two-factor authentication from the QR
// page, then logs in with a code from the app and with a recovery code,
// with JavaScript on and with it off.

/** RFC 6238: the code of `secret` (base32) for the current 30-second step plus `ahead`. */
function totp(secret: string, ahead = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + ahead));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

async function createLocalUser(browser: Browser, username: string, password: string) {
  const admin = await (await browser.newContext({ javaScriptEnabled: true })).newPage();
  await admin.goto("/login");
  await expectHydrated(admin);
  await admin.getByLabel("Username").fill(ADMIN.username);
  await admin.getByLabel("Password").fill(ADMIN.password);
  await admin.getByRole("button", { name: "Log in" }).click();
  await expect(admin.getByRole("link", { name: "Admin", exact: true })).toBeVisible();
  await admin.goto("/admin/users/new");
  await expectHydrated(admin);
  await admin.getByLabel("Username").fill(username);
  await admin.getByLabel("Full name").fill(`Two Factor ${username}`);
  await admin.getByLabel("Email").fill(`${username}@example.net`);
  await admin.getByLabel(/Initial password/).fill(password);
  await admin.getByRole("button", { name: "Create user" }).click();
  await expect(admin.getByRole("heading", { name: new RegExp(`\\(${username}\\)`) })).toBeVisible();
  await admin.context().close();
}

async function passwordStep(page: Page, username: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** Sets up two-factor on the QR page; returns the secret and the recovery codes. */
async function enrol(page: Page): Promise<{ secret: string; codes: string[] }> {
  await page.goto("/account/2fa");
  await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
  await expect(page.locator(".qr svg")).toBeVisible();
  const secret = (await page.locator("#totp-secret").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await screenshot(page, "two-factor-qr");
  await page.getByLabel("The 6-digit code the app shows now").fill(totp(secret));
  await page.getByRole("button", { name: "Switch two-factor on" }).click();
  const list = page.locator("#recovery-codes li");
  await expect(list).toHaveCount(10);
  const codes = (await list.allTextContents()).map((c) => c.trim());
  await expect(page.locator("#tfa-status")).toHaveText("On. 10 recovery code(s) left.");
  return { secret, codes };
}

async function story(page: Page, browser: Browser, username: string, js: boolean) {
  const password = "a long enough password";
  await createLocalUser(browser, username, password);
  await passwordStep(page, username, password);
  await expect(page.getByRole("heading", { name: /^Welcome/ })).toBeVisible();
  const { secret, codes } = await enrol(page);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);

  // The password alone is not enough any more.
  await passwordStep(page, username, password);
  await expect(page).toHaveURL(/\/login\/2fa$/);
  await page.getByLabel(/The code from your authenticator app/).fill("000000");
  if (js) {
    // What the form keeper stored as the post left (see password-login.spec.ts).
    await expectHydrated(page);
    await page.evaluate(() => window.addEventListener("submit", () => (window.name = JSON.stringify(Object.entries(sessionStorage)))));
  }
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("That code is not right");
  if (js) {
    // A one-time code is a secret: never stored in the browser, never put back.
    await expectHydrated(page);
    expect(await page.evaluate(() => window.name)).not.toContain("000000");
    await expect(page.getByLabel(/The code from your authenticator app/)).toHaveValue("");
  }
  // The code of the step after the one enrolment used.
  await page.getByLabel(/The code from your authenticator app/).fill(totp(secret, 1));
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: /^Welcome/ })).toBeVisible();
  await page.getByRole("button", { name: "Log out" }).click();

  // A recovery code, once.
  await passwordStep(page, username, password);
  await expect(page).toHaveURL(/\/login\/2fa$/);
  await page.getByLabel(/The code from your authenticator app/).fill(codes[0]);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: /^Welcome/ })).toBeVisible();
  await page.goto("/account/2fa");
  await expect(page.locator("#tfa-status")).toHaveText("On. 9 recovery code(s) left.");
}

test("with JavaScript: set up two-factor from the QR page, log in with a code and with a recovery code", async ({ page, browser }) => {
  await story(page, browser, "twofa-js", true);
  await expectHydrated(page);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("set up two-factor from the QR page, log in with a code and with a recovery code", async ({ page, browser }) => {
    await story(page, browser, "twofa-nojs", false);
  });
});

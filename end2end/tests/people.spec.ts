import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN, expect, expectHydrated, screenshot, test, watchConsole } from "./helpers";

// A customer's admin invites a person by mail; the mail goes through a real
// SMTP server (scripts/mailsink.py, started by scripts/e2e.sh), the story
// reads the link from it, and the person accepts and lands on the
// customer's dashboard. Then the console's charts, without JavaScript.

type Mail = { rcpt_tos: string[]; subject: string; text: string };

/** The first mail to `to` the SMTP server received (waits up to 10 s). */
async function mailTo(to: string): Promise<Mail> {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error("E2E_MAIL_DIR is not set: run the stories with scripts/e2e.sh");
  for (let i = 0; i < 100; i++) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
      const mail: Mail = JSON.parse(readFileSync(join(dir, file), "utf8"));
      if (mail.rcpt_tos.includes(to)) return mail;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to}`);
}

test("a customer admin invites a person, who accepts from the mail and lands on the customer", async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const errors = watchConsole(alice);
  await alice.goto("/login");
  await alice.getByRole("button", { name: "Login with PeeringDB" }).click();
  await alice.getByLabel(/alice/).check();
  await alice.getByRole("button", { name: "Authorize" }).click();
  await alice.getByRole("button", { name: /Alpha Net/ }).click();
  await expect(alice.getByRole("heading", { name: "Who has access" })).toBeVisible();
  await expectHydrated(alice);

  await alice.getByLabel("Email address").fill("nina@new.example");
  await alice.getByLabel("Role", { exact: true }).selectOption("member");
  await alice.getByRole("button", { name: "Send the invitation" }).click();
  await expect(alice.getByRole("status").filter({ hasText: "Invitation sent." })).toBeVisible();
  await expect(alice.locator("#open-invitations")).toContainText("nina@new.example as member");
  await screenshot(alice, "invitation-sent");

  const mail = await mailTo("nina@new.example");
  expect(mail.subject).toBe("Invitation to Alpha Net");
  const link = mail.text.split(/\s+/).find((w) => w.includes("/invitation/"))!;
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invitation\/[A-Za-z0-9_-]{43}$/);

  const nina = await (await browser.newContext()).newPage();
  await nina.goto(link);
  await expectHydrated(nina);
  await expect(nina.locator("#invitation-offer")).toContainText("Alice Anders invites you to Alpha Net, as member.");
  await screenshot(nina, "invitation-page");
  await nina.getByLabel("Username").fill("nina");
  await nina.getByLabel("Your name").fill("Nina New");
  await nina.getByLabel(/^Password/).fill("nina's long password");
  await nina.getByLabel("The password again").fill("nina's long password");
  await nina.getByRole("button", { name: "Make my account and accept" }).click();
  await expect(nina).toHaveURL(/\/$/);
  await expect(nina.getByRole("heading", { name: "Alpha Net", level: 2 })).toBeVisible();
  await expect(nina.getByRole("heading", { name: "Welcome, Nina New" })).toBeVisible();
  await screenshot(nina, "invitation-accepted");

  // Alice sees Nina, and why she has access.
  await alice.reload();
  await expect(alice.locator("#who-has-access").getByRole("row", { name: /nina/ })).toContainText("Invited by Alice Anders");
  expect(errors).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the console's charts and their tables render", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.goto("/admin");
    const chart = page.locator("#logins-chart");
    await expect(chart.locator("svg")).toBeVisible();
    await expect(chart.getByRole("img", { name: /Logins per day for the last 30 days/ })).toBeVisible();
    await expect(chart.getByRole("table")).toContainText("PeeringDB");
    await expect(page.locator("#refusals-chart svg")).toBeVisible();
    await expect(page.locator("#activity-summary")).toContainText(/\d+ with PeeringDB, \d+ with a password, \d+ refused\./);
    await screenshot(page, "console-activity-no-js");
  });
});

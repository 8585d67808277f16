import { ADMIN, expect, expectHydrated, screenshot, test, watchConsole } from "./helpers";

test.describe("with JavaScript", () => {
  test("an admin logs in and sees the dashboard without a page reload", async ({ page }) => {
    const errors = watchConsole(page);
    await page.goto("/login");
    await expectHydrated(page);
    // A full reload would drop this marker; a client-side navigation keeps it.
    await page.evaluate(() => ((window as any).__noReload = true));
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { name: `Welcome, ${ADMIN.username}` })).toBeVisible();
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();
    await screenshot(page, "dashboard");
    expect(errors).toEqual([]);
  });

  test("after logging in, the page that was asked for opens", async ({ page }) => {
    await page.goto("/account");
    await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
    await expectHydrated(page);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  });

  test("a wrong password shows the same message as an unknown user", async ({ page }) => {
    await page.goto("/login");
    await expectHydrated(page);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("certainly not it");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert")).toContainText("That username and password do not match an active account.");
    await expect(page).toHaveURL(/\/login$/);
    await screenshot(page, "login-error");
  });

  test("logging out returns to the login page", async ({ page }) => {
    await page.goto("/login");
    await expectHydrated(page);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("heading", { name: `Welcome, ${ADMIN.username}` })).toBeVisible();
    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("an admin logs in with a plain form post", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { name: `Welcome, ${ADMIN.username}` })).toBeVisible();
    await screenshot(page, "dashboard-nojs");
  });

  test("after logging in with a plain form post, the page that was asked for opens", async ({ page }) => {
    await page.goto("/account");
    await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    await screenshot(page, "account-nojs");
  });

  test("a wrong password comes back as a readable error", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Username").fill("nobody-here");
    await page.getByLabel("Password").fill("certainly not it");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/login\?error=bad_credentials$/);
    await expect(page.getByRole("alert")).toContainText("That username and password do not match an active account.");
  });
});

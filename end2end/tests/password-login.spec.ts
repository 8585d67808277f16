import { ADMIN, expect, expectHydrated, screenshot, test, watchConsole } from "./helpers";

test.describe("with JavaScript", () => {
  test("an admin logs in and sees the dashboard, with no error in the console", async ({ page }) => {
    const errors = watchConsole(page);
    await page.goto("/login");
    await expectHydrated(page);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { name: `Welcome, ${ADMIN.username}` })).toBeVisible();
    await expectHydrated(page);
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
    // What the form keeper stored as the post left, carried to the next page
    // in window.name (window listeners run after the document's).
    await page.evaluate(() => window.addEventListener("submit", () => (window.name = JSON.stringify(Object.entries(sessionStorage)))));
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert")).toContainText("That username and password do not match an active account.");
    await expect(page).toHaveURL(/\/login\?error=bad_credentials$/);
    // The username is kept for another try; the password never is, and it is
    // never stored in the browser.
    await expectHydrated(page);
    await expect(page.getByLabel("Username")).toHaveValue(ADMIN.username);
    await expect(page.getByLabel("Password")).toHaveValue("");
    const stored = await page.evaluate(() => window.name);
    expect(stored).toContain(ADMIN.username);
    expect(stored).not.toContain("certainly not it");
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

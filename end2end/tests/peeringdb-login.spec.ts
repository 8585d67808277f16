import { expect, expectHydrated, screenshot, test, watchConsole } from "./helpers";

// Demo mode: the portal serves its PeeringDB simulator under /peeringdb-sim
// and talks to it over HTTP exactly as it would to PeeringDB.

test("alice logs in with PeeringDB, picks Alpha Net and sees its dashboard", async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto("/login");
  await expectHydrated(page);
  await expect(page.getByRole("note")).toContainText("Demo mode");
  await page.getByRole("button", { name: "Login with PeeringDB" }).click();

  await expect(page.getByRole("heading", { name: "Authorize PeerPortal" })).toBeVisible();
  await page.getByLabel(/alice/).check();
  await screenshot(page, "peeringdb-simulator");
  await page.getByRole("button", { name: "Authorize" }).click();

  await expect(page).toHaveURL(/\/choose$/);
  await expectHydrated(page);
  await expect(page.getByRole("status")).toContainText("Access added: Alpha Net, Beta Net.");
  const alpha = page.getByRole("button", { name: /Alpha Net/ });
  const beta = page.getByRole("button", { name: /Beta Net/ });
  await expect(alpha).toContainText("admin");
  await expect(beta).toContainText("member");
  await screenshot(page, "picker");

  // The filter box narrows the list.
  await page.getByLabel("Filter by name or ASN").fill("64501");
  await expect(alpha).toBeHidden();
  await expect(beta).toBeVisible();
  await page.getByLabel("Filter by name or ASN").fill("");

  await alpha.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Alpha Net", level: 2 })).toBeVisible();
  await expect(page.getByRole("link", { name: /Alpha Net · switch/ })).toBeVisible();
  await screenshot(page, "dashboard-alpha");
  expect(errors).toEqual([]);
});

test("cancelling at PeeringDB shows a friendly message", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("button", { name: "Login with PeeringDB" }).click();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(/\/login\?error=pdb_cancelled$/);
  await expect(page.getByRole("alert")).toHaveText("You cancelled the login at PeeringDB.");
  await screenshot(page, "peeringdb-cancelled");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("bob, with no member network, is told which ASNs PeeringDB listed", async ({ page }) => {
    await page.goto("/login");
    await page.getByRole("button", { name: "Login with PeeringDB" }).click();
    await page.getByLabel(/bob/).check();
    await page.getByRole("button", { name: "Authorize" }).click();
    await expect(page).toHaveURL(/error=pdb_no_customer/);
    await expect(page.getByRole("alert")).toContainText("None of your PeeringDB networks is a member of this exchange.");
  });

  test("the picker works with plain form posts", async ({ page }) => {
    await page.goto("/login");
    await page.getByRole("button", { name: "Login with PeeringDB" }).click();
    await page.getByLabel(/alice/).check();
    await page.getByRole("button", { name: "Authorize" }).click();
    await expect(page).toHaveURL(/\/choose$/);
    await page.getByRole("button", { name: /Beta Net/ }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { name: "Beta Net", level: 2 })).toBeVisible();
  });
});

test.describe("on a 360 px wide phone", () => {
  test.use({ viewport: { width: 360, height: 740 } });

  test("erin filters her 60 networks and picks one with the keyboard", async ({ page }) => {
    await page.goto("/login");
    await expectHydrated(page);
    await page.getByRole("button", { name: "Login with PeeringDB" }).click();
    await page.getByLabel(/erin/).check();
    await page.getByRole("button", { name: "Authorize" }).click();
    await expect(page).toHaveURL(/\/choose$/);
    await expectHydrated(page);
    const buttons = page.locator(".picker button");
    const total = await buttons.count();
    expect(total).toBeGreaterThan(10);
    expect(total).toBeLessThan(60); // suspended/left/associate customers are not granted
    await screenshot(page, "picker-erin-360px");

    // No sideways scrolling at 360 px.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);

    const filter = page.getByLabel("Filter by name or ASN");
    await filter.focus();
    await page.keyboard.type("Erin Transit 00");
    await expect(page.locator(".picker li:not(.hidden)")).toHaveCount(1);
    await page.keyboard.press("Tab");
    await expect(page.getByRole("button", { name: /Erin Transit 00/ })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { name: "Erin Transit 00", level: 2 })).toBeVisible();
    await screenshot(page, "dashboard-360px");
  });
});

import { Page, Browser } from "@playwright/test";
import { ADMIN, expect, expectHydrated, screenshot, test, watchConsole } from "./helpers";

// The console's story: a superadmin creates a customer with two ASNs,
// alice gets it through PeeringDB, the superadmin sees where the grant came
// from, switches the customer's PeeringDB login off, and alice loses it at
// once, without logging in again.

async function adminPage(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto("/login");
  await expectHydrated(page);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("link", { name: "Admin", exact: true })).toBeVisible();
  return page;
}

async function peeringdbLogin(page: Page, user: RegExp) {
  await page.goto("/login");
  await page.getByRole("button", { name: "Login with PeeringDB" }).click();
  await page.getByLabel(user).check();
  await page.getByRole("button", { name: "Authorize" }).click();
  // Back on the portal, past the callback's redirect.
  await page.waitForURL((u) => !u.pathname.startsWith("/peeringdb-sim") && !u.pathname.startsWith("/auth/"));
  await expectHydrated(page);
}

test("a customer switched off for PeeringDB loses alice at once", async ({ browser }) => {
  const admin = await adminPage(browser);
  const errors = watchConsole(admin);

  // 1. The superadmin creates Acme with two ASNs.
  await admin.getByRole("link", { name: "Admin", exact: true }).click();
  await expect(admin.getByRole("heading", { name: "Customers" })).toBeVisible();
  await admin.getByRole("link", { name: "New customer" }).click();
  await expectHydrated(admin);
  await admin.getByLabel("Name", { exact: true }).fill("Acme Networks");
  await admin.getByLabel("Shortname", { exact: true }).fill("acme");
  await admin.getByLabel("ASNs", { exact: true }).fill("64501 64999");
  await admin.getByRole("button", { name: "Create customer" }).click();
  // Demo ASNs are documentation/private numbers: refused until forced.
  await expect(admin.getByRole("alert")).toContainText("documentation");
  // The refused post came back with what was typed (never a password).
  await expect(admin.getByLabel("Shortname", { exact: true })).toHaveValue("acme");
  await expect(admin.getByLabel("ASNs", { exact: true })).toHaveValue("64501 64999");
  await admin.getByLabel(/Allow reserved ASNs/).check();
  await admin.getByRole("button", { name: "Create customer" }).click();
  await expect(admin).toHaveURL(/\/admin\/customers\/\d+\?__ok=/);
  await expect(admin.getByRole("status")).toHaveText("Saved.");
  await expect(admin.getByRole("heading", { name: "Acme Networks" })).toBeVisible();
  const acmeUrl = admin.url().replace(/\?.*$/, "");
  await screenshot(admin, "admin-customer");

  await admin.goto("/admin/customers?q=acme");
  await expect(admin.getByRole("row", { name: /Acme Networks/ })).toContainText("AS64501, AS64999");
  await screenshot(admin, "admin-customers");

  // 2. Alice logs in with PeeringDB and gets Acme (she is a member of AS64501).
  const alice = await (await browser.newContext()).newPage();
  await peeringdbLogin(alice, /alice/);
  await expect(alice.getByRole("status")).toContainText("Access added: Acme Networks.");
  await expect(alice.getByRole("button", { name: /Acme Networks/ })).toContainText("member");

  // 3. The superadmin sees the grant, with source PeeringDB, in alice's detail and the audit log.
  await admin.goto("/admin/users?q=alice");
  await admin.getByRole("link", { name: "alice.anders" }).click();
  const acmeRow = admin.locator("#affiliations").getByRole("row", { name: /Acme Networks/ });
  await expect(acmeRow).toContainText("PeeringDB");
  await expect(acmeRow).toContainText("member");
  await screenshot(admin, "admin-user");
  await admin.goto("/admin/audit?customer=acme");
  await expect(admin.getByRole("row", { name: /grant\.added/ })).toContainText("alice.anders");
  await expect(admin.getByRole("row", { name: /grant\.added/ })).toContainText("Access to Acme Networks added as member, via PeeringDB");
  await expect(admin.getByRole("row", { name: /customer\.created/ })).toBeVisible();
  await screenshot(admin, "admin-audit");

  // 4. The customer asks: no access through PeeringDB. The superadmin switches it off.
  await admin.goto(acmeUrl);
  await expectHydrated(admin);
  await admin.getByLabel("Allow login with PeeringDB").uncheck();
  await admin.getByLabel(/Allow reserved ASNs/).check();
  await admin.getByRole("button", { name: "Save changes" }).click();
  await expect(admin.getByRole("status")).toHaveText("Saved.");
  await expect(admin.getByLabel("Allow login with PeeringDB")).not.toBeChecked();

  // 5. Acme is gone from alice's picker at once: nobody logged in again.
  await alice.goto("/choose");
  await expectHydrated(alice);
  await expect(alice.getByRole("button", { name: /Alpha Net/ })).toBeVisible();
  await expect(alice.getByRole("button", { name: /Acme Networks/ })).toHaveCount(0);

  await admin.goto("/admin/audit?customer=acme&event=grant.removed");
  await expect(admin.getByRole("row", { name: /grant\.removed/ })).toContainText("alice.anders");
  expect(errors).toEqual([]);
});

test("a superadmin creates a local user, then deletes them with a confirmation", async ({ browser }) => {
  const admin = await adminPage(browser);
  const errors = watchConsole(admin);
  await admin.goto("/admin/users/new");
  await expectHydrated(admin);
  await admin.getByLabel("Username").fill("leaver");
  await admin.getByLabel("Full name").fill("Lee Leaver");
  await admin.getByLabel("Email").fill("leaver@example.net");
  await admin.getByLabel(/Initial password/).fill("a long enough password");
  await admin.getByRole("button", { name: "Create user" }).click();
  await expect(admin.getByRole("heading", { name: "Lee Leaver (leaver)" })).toBeVisible();
  await expectHydrated(admin);

  // The button does nothing until the box is ticked (the browser asks for it).
  await admin.getByRole("button", { name: "Delete user" }).click();
  await expect(admin.getByRole("heading", { name: "Lee Leaver (leaver)" })).toBeVisible();
  await admin.getByLabel("Yes, delete this user").check();
  await admin.getByRole("button", { name: "Delete user" }).click();
  await expect(admin).toHaveURL(/\/admin\/users$/);
  await admin.goto("/admin/users?q=leaver");
  await expect(admin.getByRole("link", { name: "leaver", exact: true })).toHaveCount(0);
  await admin.goto("/admin/audit?event=user.deleted");
  await expect(admin.getByRole("row", { name: /user\.deleted/ })).toContainText("Account leaver deleted");
  expect(errors).toEqual([]);
});

test("the import preview lists every bad row before anything is written", async ({ browser }) => {
  const admin = await adminPage(browser);
  await admin.goto("/admin/customers/import");
  await expectHydrated(admin);
  await admin.getByLabel("CSV").fill(
    "name,shortname,asns,type,status,peeringdb_login\nImport Co,importco,13335,full,active,true\nBroken,broken,0,full,active,true\nOdd,odd,15169,gold,active,true\n",
  );
  await admin.getByRole("button", { name: "Preview" }).click();
  const alert = admin.getByRole("alert");
  await expect(alert).toContainText("Nothing was imported");
  await expect(alert).toContainText("Line 3: AS0 is reserved");
  await expect(alert).toContainText("Line 4: type");
  await screenshot(admin, "admin-import-errors");

  await admin.getByLabel("CSV").fill("name,shortname,asns,type,status,peeringdb_login\nImport Co,importco,13335,full,active,true\n");
  await admin.getByRole("button", { name: "Preview" }).click();
  await expect(admin.getByRole("status")).toContainText("1 to create, 0 to update");
  await admin.getByRole("button", { name: "Import 1 customer" }).click();
  await expect(admin.getByRole("status")).toContainText("Imported: 1 created, 0 updated.");
  await screenshot(admin, "admin-import");
  await admin.goto("/admin/customers?q=AS13335");
  await expect(admin.getByRole("row", { name: /Import Co/ })).toBeVisible();
});

test("the IX-F import previews an export, names the customers it lacks, then imports it", async ({ browser }) => {
  const admin = await adminPage(browser);
  const errors = watchConsole(admin);
  await admin.goto("/admin/customers");
  await admin.getByRole("link", { name: "Import IX-F export" }).click();
  await expect(admin.getByRole("heading", { name: "Import from an IX-F export" })).toBeVisible();
  await expectHydrated(admin);
  // Two members of the exchange, one of them no longer connected.
  const exportJson = JSON.stringify({
    version: "1.0",
    timestamp: "2026-12-01T00:00:00Z",
    ixp_list: [{ ixp_id: 7, ixf_id: 907, shortname: "STORY-IX" }],
    member_list: [
      { asnum: 20940, member_type: "peering", name: "Story Transit", connection_list: [{ ixp_id: 7, state: "active" }] },
      { asnum: 16509, member_type: "other", name: "Story Cloud", connection_list: [{ ixp_id: 7, state: "inactive" }] },
    ],
  });
  await admin.getByLabel("Or the export itself (JSON)").fill(exportJson);
  await admin.getByRole("button", { name: "Preview" }).click();
  await expect(admin.getByRole("status")).toContainText("STORY-IX (ixp_id 7): every member is valid: 2 to create, 0 to update.");
  // The demo's customers are not in this export: listed, kept.
  const missing = admin.getByRole("note").filter({ hasText: "not in the export" });
  await expect(missing).toContainText("are not in the export at STORY-IX (ixp_id 7). They are kept");
  await expect(missing.getByRole("link", { name: "alpha", exact: true })).toBeVisible();
  await expect(admin.getByRole("row", { name: /create story-cloud Story Cloud AS16509 associate suspended/ })).toBeVisible();
  await screenshot(admin, "admin-import-ixf");

  await admin.getByRole("button", { name: "Import 2 customers" }).click();
  await expect(admin.getByRole("status")).toContainText("Imported from the IX-F export: 2 created, 0 updated.");
  await admin.goto("/admin/customers?q=AS16509");
  await expect(admin.getByRole("row", { name: /Story Cloud/ })).toContainText("suspended");
  expect(errors).toEqual([]);
});

test("the PeeringDB status page shows the redirect URI and never the secret", async ({ browser }) => {
  const admin = await adminPage(browser);
  await admin.goto("/admin/peeringdb");
  await expect(admin.getByText("enabled", { exact: true })).toBeVisible();
  await expect(admin.locator("dd", { hasText: "/auth/peeringdb/callback" })).toBeVisible();
  await expect(admin.locator("body")).not.toContainText("peerportal-demo-secret");
  await screenshot(admin, "admin-peeringdb");
});

test("erin, who is no superadmin, has an account page but no console", async ({ page }) => {
  await peeringdbLogin(page, /erin/);
  await page.goto("/account");
  await expectHydrated(page);
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect(page.getByText(/linked \(PeeringDB user/)).toBeVisible();
  await expect(page.getByRole("row", { name: /login\.success/ }).first()).toBeVisible();
  await expect(page.locator("#sessions").getByRole("row", { name: /this browser/ })).toContainText("127.0.0.1");
  await screenshot(page, "account");
  await page.getByRole("button", { name: "Switch PeeringDB login off" }).click();
  await expect(page.getByRole("button", { name: "Switch PeeringDB login on" })).toBeVisible();
  await page.getByRole("button", { name: "Switch PeeringDB login on" }).click();
  await expect(page.getByRole("button", { name: "Switch PeeringDB login off" })).toBeVisible();

  await page.goto("/admin/customers");
  await expect(page.getByRole("alert")).toContainText("for the exchange's administrators");
  await expect(page.getByRole("link", { name: "Admin", exact: true })).toHaveCount(0);
});

test("a customer admin sees who has access, on a phone, with the keyboard", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 780 });
  await peeringdbLogin(page, /alice/);
  // Alice administers Alpha Net (AS64500, update perms at PeeringDB).
  await page.goto("/choose");
  await expectHydrated(page);
  await page.getByLabel("Filter by name or ASN").fill("Alpha");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Who has access" })).toBeVisible();
  const table = page.locator("#who-has-access");
  await expect(table.getByRole("row", { name: /alice\.anders/ })).toContainText("PeeringDB");
  // Nothing wider than the phone: wide tables scroll inside their own box.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > 361 && !e.closest(".table-wrap"))
      .map((e) => `${e.tagName}.${e.className}`),
  );
  expect(wide).toEqual([]);
  await screenshot(page, "dashboard-access-360");
});

import { defineConfig } from "@playwright/test";

// Debian's chromium: `npx playwright install` would download a browser,
// which this network does not allow.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:3100";

const LAUNCH = {
  executablePath: CHROMIUM,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
  ],
};

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  use: {
    baseURL: BASE_URL,
    trace: "off",
  },
  projects: [
    // The console story changes alice's access, so it runs after the login
    // stories, which expect the demo exchange as it starts.
    { name: "login", testIgnore: /admin-console/, use: { browserName: "chromium", launchOptions: LAUNCH } },
    { name: "console", testMatch: /admin-console/, dependencies: ["login"], use: { browserName: "chromium", launchOptions: LAUNCH } },
  ],
});

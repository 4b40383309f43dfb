import { defineConfig, devices } from '@playwright/test';

// End-to-end tests for Latchkey.
//
// Run them through `scripts/test.sh` (it builds the app first), or by hand after
// `cargo leptos build`:  cd end2end && npx playwright test
//
// The browser is Debian's Chromium (`apt-get install chromium`); Playwright's own
// browser download is never used (install with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).

const BASE_URL = 'http://localhost:3000';

// Every run starts the already built debug server on a fresh SQLite database.
// The clean-up lives in the webServer command because Playwright starts the
// webServer *before* globalSetup runs.
// LATCHKEY_E2E_BIN=./target/release/latchkey runs them against a release build
// (after `scripts/build-release.sh`; target/site then holds the release wasm).
const SERVER_BIN = process.env.LATCHKEY_E2E_BIN ?? './target/debug/latchkey';
const SERVER_COMMAND = [
  `test -x ${SERVER_BIN} || { echo "${SERVER_BIN} is missing: run cargo leptos build first (scripts/test.sh does)" >&2; exit 1; }`,
  'rm -rf target/e2e',
  'mkdir -p target/e2e/data',
  `echo "server: ${SERVER_BIN}, log: target/e2e/server.log" >&2`,
  `exec ${SERVER_BIN} >target/e2e/server.log 2>&1`,
].join(' && ');

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1, // 2-core machines: the server, Chromium and the runner share them
  reporter: 'list', // never 'html': it starts a server on failure and blocks
  timeout: 30_000,
  expect: { timeout: 10_000 },
  outputDir: './test-results',

  use: {
    baseURL: BASE_URL,
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },

  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-quic',
          ],
        },
      },
    },
  ],

  webServer: {
    command: SERVER_COMMAND,
    cwd: '..', // repo root: target/, Leptos.toml
    url: `${BASE_URL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      LATCHKEY_DATA_DIR: 'target/e2e/data',
      LATCHKEY_DATABASE_URL: 'sqlite://target/e2e/data/latchkey.db',
      LATCHKEY_PUBLIC_ORIGIN: BASE_URL,
      RUST_LOG: 'info,latchkey=debug',
      NO_COLOR: '1', // plain text in target/e2e/server.log
      LEPTOS_OUTPUT_NAME: 'latchkey',
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_SITE_ADDR: '127.0.0.1:3000',
    },
  },
});

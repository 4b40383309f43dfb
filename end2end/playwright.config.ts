import { defineConfig, devices } from '@playwright/test';

// End-to-end tests for Latchkey.
//
// Run them through `scripts/test.sh` (it builds the app first), or by hand after
// `cargo leptos build`:  cd end2end && npx playwright test
//
// The browser is Debian's Chromium (`apt-get install chromium`); Playwright's own
// browser download is never used (install with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).

const BASE_URL = 'http://localhost:3000';
// The same app with an external OpenID provider (a real `oidc-provider` on loopback,
// end2end/oidc/provider.mjs); its tests run in the `oidc` project.
const OIDC_BASE_URL = 'http://localhost:3200';
// The operator console's own app and fresh database: its tests change settings that every
// page of that app sees (the kill switch), so no other suite shares it.
const CONSOLE_BASE_URL = 'http://localhost:3300';
const CONSOLE_OPERATOR = 'operator@console.example.com';
// Passkey intelligence and the authenticator policy, on an app whose policy keeps only
// synced passkeys (pages attach a synced authenticator unless a test says otherwise).
const INTELLIGENCE_BASE_URL = 'http://localhost:3400';
const INTELLIGENCE_OPERATOR = 'operator@intelligence.example.com';
const RELATED_ORIGIN = 'https://shop.example.co.uk';
const IDP_ISSUER = 'http://127.0.0.1:4400';
const IDP_CONTROL = 'http://127.0.0.1:4401';
const IDP_CLIENT_SECRET = 'e2e-client-secret-0123456789abcdef';

// Every run starts the already built debug server on a fresh SQLite database.
// The clean-up lives in the webServer command because Playwright starts the
// webServer *before* globalSetup runs.
// LATCHKEY_E2E_BIN=./target/release/latchkey runs them against a release build
// (after `scripts/build-release.sh`; target/site then holds the release wasm).
const SERVER_BIN = process.env.LATCHKEY_E2E_BIN ?? './target/debug/latchkey';
const serverCommand = (dir: string) =>
  [
    `test -x ${SERVER_BIN} || { echo "${SERVER_BIN} is missing: run cargo leptos build first (scripts/test.sh does)" >&2; exit 1; }`,
    `rm -rf ${dir}`,
    `mkdir -p ${dir}/data`,
    `echo "server: ${SERVER_BIN}, log: ${dir}/server.log" >&2`,
    `exec ${SERVER_BIN} >${dir}/server.log 2>&1`,
  ].join(' && ');

const serverEnv = (dir: string, origin: string) => ({
  LATCHKEY_DATA_DIR: `${dir}/data`,
  LATCHKEY_DATABASE_URL: `sqlite://${dir}/data/latchkey.db`,
  LATCHKEY_PUBLIC_ORIGIN: origin,
  RUST_LOG: 'info,latchkey=debug',
  NO_COLOR: '1', // plain text in the server log
  LEPTOS_OUTPUT_NAME: 'latchkey',
  LEPTOS_SITE_ROOT: 'target/site',
  LEPTOS_SITE_PKG_DIR: 'pkg',
  LEPTOS_SITE_ADDR: `127.0.0.1:${new URL(origin).port}`,
  // Every test comes from 127.0.0.1: the per-IP limits are raised so the suite as a whole
  // is not throttled. The per-account limits keep their defaults (each test uses fresh
  // accounts), and the rate-limit tests rely on them.
  LATCHKEY_RATE_LIMIT_SIGN_IN_IP: '100000/1h',
  LATCHKEY_RATE_LIMIT_SIGN_UP_IP: '100000/1h',
  LATCHKEY_RATE_LIMIT_PASSKEY_LOGIN_IP: '100000/1h',
  LATCHKEY_RATE_LIMIT_FRONTEND_API_IP: '100000/1h',
  LATCHKEY_RATE_LIMIT_OIDC_IP: '100000/1h',
});

const serverOptions = {
  cwd: '..', // repo root: target/, Leptos.toml
  reuseExistingServer: false,
  timeout: 60_000,
  gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 5_000 },
  stdout: 'pipe' as const,
  stderr: 'pipe' as const,
};

const chromium = {
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
};

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
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },

  // The journey tests run against both kinds of IdP (`metadata.idp`, read by helpers.ts);
  // the passkey suite against the builtin one, the OIDC suite against the provider.
  projects: [
    {
      name: 'builtin',
      testMatch: ['journey.spec.ts', 'passkeys.spec.ts', 'experience.spec.ts'],
      metadata: { idp: 'builtin' },
      use: { ...chromium, baseURL: BASE_URL },
    },
    {
      name: 'console',
      testMatch: ['console.spec.ts'],
      metadata: { idp: 'builtin', operator: CONSOLE_OPERATOR },
      use: { ...chromium, baseURL: CONSOLE_BASE_URL },
    },
    {
      name: 'intelligence',
      testMatch: ['intelligence.spec.ts'],
      metadata: {
        idp: 'builtin',
        operator: INTELLIGENCE_OPERATOR,
        relatedOrigin: RELATED_ORIGIN,
        syncedAuthenticator: true,
      },
      use: { ...chromium, baseURL: INTELLIGENCE_BASE_URL },
    },
    {
      name: 'oidc',
      testMatch: ['journey.spec.ts', 'oidc.spec.ts'],
      metadata: { idp: 'oidc', idpIssuer: IDP_ISSUER, idpControl: IDP_CONTROL },
      use: { ...chromium, baseURL: OIDC_BASE_URL },
    },
  ],

  // Started in this order, each once the previous answers.
  webServer: [
    {
      ...serverOptions,
      command: serverCommand('target/e2e'),
      url: `${BASE_URL}/healthz`,
      env: serverEnv('target/e2e', BASE_URL),
    },
    {
      ...serverOptions,
      command: serverCommand('target/e2e-console'),
      url: `${CONSOLE_BASE_URL}/healthz`,
      env: {
        ...serverEnv('target/e2e-console', CONSOLE_BASE_URL),
        LATCHKEY_ADMIN_EMAILS: CONSOLE_OPERATOR,
      },
    },
    {
      ...serverOptions,
      command: serverCommand('target/e2e-intelligence'),
      url: `${INTELLIGENCE_BASE_URL}/healthz`,
      env: {
        ...serverEnv('target/e2e-intelligence', INTELLIGENCE_BASE_URL),
        LATCHKEY_ADMIN_EMAILS: INTELLIGENCE_OPERATOR,
        LATCHKEY_PASSKEY_STORAGE: 'synced',
        // Names Chromium's virtual authenticator (AAGUID 01020304-0506-0708-0102-030405060708)
        // "Test Authenticator", with its own light and dark icons.
        LATCHKEY_PASSKEY_PROVIDERS_FILE: 'end2end/fixtures/passkey-providers.json',
        LATCHKEY_RELATED_ORIGINS: RELATED_ORIGIN,
      },
    },
    {
      ...serverOptions,
      command:
        'mkdir -p target/e2e-oidc && exec node end2end/oidc/provider.mjs >target/e2e-oidc/idp.log 2>&1',
      url: `${IDP_CONTROL}/healthz`,
      env: {
        OIDC_PORT: new URL(IDP_ISSUER).port,
        OIDC_CONTROL_PORT: new URL(IDP_CONTROL).port,
        OIDC_CLIENT_SECRET: IDP_CLIENT_SECRET,
        OIDC_REDIRECT_URIS: `${OIDC_BASE_URL}/auth/callback`,
        OIDC_POST_LOGOUT_REDIRECT_URIS: `${OIDC_BASE_URL}/login`,
        // 127.0.0.1, not localhost: Node's fetch tries ::1 first, where the app is not listening.
        OIDC_BACKCHANNEL_LOGOUT_URI: `http://127.0.0.1:${new URL(OIDC_BASE_URL).port}/auth/backchannel-logout`,
      },
    },
    {
      ...serverOptions,
      command: serverCommand('target/e2e-oidc/app'),
      url: `${OIDC_BASE_URL}/healthz`,
      env: {
        ...serverEnv('target/e2e-oidc/app', OIDC_BASE_URL),
        LATCHKEY_IDP: 'oidc',
        LATCHKEY_IDP_ISSUER: IDP_ISSUER,
        LATCHKEY_IDP_CLIENT_ID: 'latchkey-e2e',
        LATCHKEY_IDP_CLIENT_SECRET: IDP_CLIENT_SECRET,
        LATCHKEY_IDP_NAME: 'Test IdP',
        LATCHKEY_IDP_REGISTRATION_URL: `${IDP_ISSUER}/register?return_to=${encodeURIComponent(`${OIDC_BASE_URL}/login`)}`,
      },
    },
  ],
});

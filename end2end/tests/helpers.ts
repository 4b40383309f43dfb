import { execFileSync } from 'node:child_process';

import AxeBuilder from '@axe-core/playwright';

import {
  test as base,
  expect,
  type Browser,
  type BrowserContext,
  type CDPSession,
  type Page,
} from '@playwright/test';

// Helpers for the journey tests. They use only the accessible names of the UI contract
// (docs/ui-contract.md) and the journey rules (docs/journey.md): headings, labelled
// fields, buttons, links and role="alert".
//
// The same journey runs against both kinds of IdP (playwright.config.ts projects): with
// `builtin` the password is typed on our page; with `oidc` sign-up and the password are
// the OpenID provider's own pages (end2end/oidc/provider.mjs), reached by redirects.

export const PASSWORD = 'correct horse battery';

/** A CDP virtual authenticator: a platform authenticator with resident keys and user
 * verification, like a laptop's fingerprint reader. */
export class VirtualAuthenticator {
  constructor(
    private readonly cdp: CDPSession,
    readonly id: string,
  ) {}

  /** `synced`: its passkeys are backed up (like a password manager's). */
  static async attach(page: Page, { synced = false } = {}): Promise<VirtualAuthenticator> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
        defaultBackupEligibility: synced,
        defaultBackupState: synced,
      },
    });
    return new VirtualAuthenticator(cdp, authenticatorId);
  }

  /** false: the next ceremony fails the way a person cancelling (or failing the
   * fingerprint) does. */
  async setUserVerified(isUserVerified: boolean) {
    await this.cdp.send('WebAuthn.setUserVerified', {
      authenticatorId: this.id,
      isUserVerified,
    });
  }

  async credentials() {
    const { credentials } = await this.cdp.send('WebAuthn.getCredentials', {
      authenticatorId: this.id,
    });
    return credentials;
  }

  /** Takes the authenticator away (another one may be attached after). */
  async remove() {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: this.id });
  }
}

/** CDP reports credential ids in standard base64; pages and the Signal API use base64url. */
export function base64url(standard: string): string {
  return standard.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A page hook: the Signal API calls the page makes (`signalUnknownCredential`,
 * `signalAllAcceptedCredentials`, `signalCurrentUserDetails`) are recorded in the tab's
 * sessionStorage (so they outlive page loads), then passed on to the browser's own functions
 * where it has them. Call before the page loads. */
export async function recordSignalCalls(page: Page) {
  await page.addInitScript(() => {
    const pkc = window.PublicKeyCredential as unknown as Record<string, unknown> | undefined;
    if (!pkc) return;
    for (const name of ['signalUnknownCredential', 'signalAllAcceptedCredentials', 'signalCurrentUserDetails']) {
      const original = pkc[name] as ((options: unknown) => Promise<void>) | undefined;
      pkc[name] = async (options: unknown) => {
        const calls = JSON.parse(sessionStorage.getItem('signalCalls') ?? '[]');
        calls.push({ name, options });
        sessionStorage.setItem('signalCalls', JSON.stringify(calls));
        if (original) await original.call(pkc, options);
      };
    }
  });
}

/** The Signal API calls recorded so far in this tab (see recordSignalCalls). */
export async function signalCalls(page: Page): Promise<{ name: string; options: Record<string, unknown> }[]> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('signalCalls') ?? '[]'));
}

/** Forgets the Signal API calls recorded so far. */
export async function clearSignalCalls(page: Page) {
  await page.evaluate(() => sessionStorage.removeItem('signalCalls'));
}

/** What a page asked `navigator.credentials.create` for (see recordCreateCalls). */
export type CreateCall = {
  mediation: string | null;
  userName: string | null;
  userVerification: string | null;
  residentKey: string | null;
  attestation: string | null;
  challenge: string;
};

/** A page hook: each `navigator.credentials.create` call's mediation and main options are
 * recorded in the tab's sessionStorage, then passed on to the browser. Call before the page
 * loads. */
export async function recordCreateCalls(page: Page) {
  await page.addInitScript(() => {
    const container = navigator.credentials;
    const original = container.create.bind(container);
    container.create = async (options?: CredentialCreationOptions) => {
      const key = options?.publicKey;
      const challenge = key ? new Uint8Array(key.challenge as ArrayBuffer) : new Uint8Array();
      const calls = JSON.parse(sessionStorage.getItem('createCalls') ?? '[]');
      calls.push({
        mediation: (options as { mediation?: string } | undefined)?.mediation ?? null,
        userName: key?.user?.name ?? null,
        userVerification: key?.authenticatorSelection?.userVerification ?? null,
        residentKey: key?.authenticatorSelection?.residentKey ?? null,
        attestation: key?.attestation ?? null,
        challenge: btoa(String.fromCharCode(...challenge)),
      });
      sessionStorage.setItem('createCalls', JSON.stringify(calls));
      return original(options);
    };
  });
}

/** The create calls recorded so far in this tab (see recordCreateCalls). */
export async function createCalls(page: Page): Promise<CreateCall[]> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('createCalls') ?? '[]'));
}

type Fixtures = {
  pageErrors: string[];
  /** Whether pages get a virtual authenticator (default true). */
  withAuthenticator: boolean;
  /** Whether the browser reports conditional mediation (default false, see below). */
  conditionalMediation: boolean;
  authenticator: VirtualAuthenticator | null;
};

/** The virtual authenticator answers a conditional (autofill) request at once, with no
 * person choosing, so any /login visit would sign straight back in. Tests therefore run
 * as a browser without conditional mediation unless they opt in. */
const HIDE_CONDITIONAL_MEDIATION = `
  if (window.PublicKeyCredential) {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    const original = PublicKeyCredential.getClientCapabilities;
    if (original) {
      PublicKeyCredential.getClientCapabilities = async () =>
        ({ ...(await original.call(PublicKeyCredential)), conditionalGet: false });
    }
  }
`;

/** `test` that also fails when the page throws an uncaught error (a wasm panic, a
 * hydration error), and gives every page a virtual authenticator unless
 * `test.use({ withAuthenticator: false })`. Console messages are attached on failure. */
export const test = base.extend<Fixtures>({
  withAuthenticator: [true, { option: true }],
  conditionalMediation: [false, { option: true }],
  authenticator: [
    async ({ page, withAuthenticator, conditionalMediation }, use, testInfo) => {
      if (!conditionalMediation) {
        await page.addInitScript(HIDE_CONDITIONAL_MEDIATION);
      }
      // A project may ask for synced passkeys (a password manager's) by default.
      const synced = testInfo.project.metadata.syncedAuthenticator === true;
      await use(withAuthenticator ? await VirtualAuthenticator.attach(page, { synced }) : null);
    },
    { auto: true },
  ],
  pageErrors: [
    async ({ page }, use, testInfo) => {
      const errors: string[] = [];
      const consoleLines: string[] = [];
      page.on('pageerror', (err) => errors.push(`${err.name}: ${err.message}`));
      page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
      await use(errors);
      if (testInfo.status !== testInfo.expectedStatus && consoleLines.length > 0) {
        await testInfo.attach('browser-console', {
          body: consoleLines.join('\n'),
          contentType: 'text/plain',
        });
      }
      expect(errors, 'uncaught errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** A fresh email for every call, so tests never share accounts. */
export function uniqueEmail(prefix = 'user'): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${Date.now()}-${random}@example.com`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Records every URL the page's main frame goes to from now on (full loads and
 * client-side navigations alike), as path + query. */
export function recordNavigations(page: Page): string[] {
  const visited: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) {
      const url = new URL(frame.url());
      visited.push(url.pathname + url.search);
    }
  });
  return visited;
}

/** Leaves the append step with `leave` (a click) and expects the dashboard of `email`
 * reached by exactly one navigation, and kept on a full reload (the server agrees the step
 * is over). */
export async function expectAppendLeftOnce(page: Page, email: string, leave: () => Promise<void>) {
  const visited = recordNavigations(page);
  await leave();
  await expectDashboard(page, email);
  await page.reload();
  await expectDashboard(page, email);
  expect(visited).toEqual(['/dashboard', '/dashboard']);
}

/** Matches an absolute URL whose path is exactly `path` (any query string or hash). */
export function pathIs(path: string): RegExp {
  return new RegExp(`^https?://[^/]+${escapeRegExp(path)}(?:[?#].*)?$`);
}

/** The `next` query parameter of the page's current URL (decoded), or null. */
export function nextParam(page: Page): string | null {
  return new URL(page.url()).searchParams.get('next');
}

/** The alert (role="alert") whose text matches `text`. */
export function alertWith(page: Page, text: RegExp) {
  return page.getByRole('alert').filter({ hasText: text });
}

/** Moves the logins of `email`'s sessions an hour into the past, beyond the
 * re-authentication window, as if the person had been away (the test's clock cannot wait). */
export function ageLogins(email: string) {
  const db = usesProvider() ? '../target/e2e-oidc/app/data/latchkey.db' : '../target/e2e/data/latchkey.db';
  const quoted = email.replace(/'/g, "''");
  execFileSync('sqlite3', [
    '-cmd',
    '.timeout 5000',
    db,
    `UPDATE sessions SET authenticated_at = authenticated_at - 3600 WHERE account_id IN (SELECT id FROM accounts WHERE email = '${quoted}')`,
  ]);
}

/** Runs `latchkey account disable|enable EMAIL` with the builtin project's server settings,
 * as an operator would; returns what it printed. */
export function accountCommand(action: 'disable' | 'enable', email: string): string {
  const bin = process.env.LATCHKEY_E2E_BIN ?? './target/debug/latchkey';
  return execFileSync(bin, ['account', action, email], {
    cwd: '..', // the repository: Leptos.toml
    env: {
      ...process.env,
      LATCHKEY_DATA_DIR: 'target/e2e/data',
      LATCHKEY_DATABASE_URL: 'sqlite://target/e2e/data/latchkey.db',
      LATCHKEY_PUBLIC_ORIGIN: 'http://localhost:3000',
      RUST_LOG: 'warn',
    },
  }).toString();
}

// ---------------------------------------------------------------- the identity provider

/** What the `oidc` project's app calls its provider (LATCHKEY_IDP_NAME). */
export const IDP_NAME = 'Test IdP';

type ProjectMetadata = { idp?: string; idpIssuer?: string; idpControl?: string };

function metadata(): ProjectMetadata {
  return test.info().project.metadata as ProjectMetadata;
}

/** Whether this project's app signs in through an external OpenID provider. */
export function usesProvider(): boolean {
  return metadata().idp === 'oidc';
}

/** The provider's issuer URL (`oidc` project only). */
export function idpIssuer(): string {
  const issuer = metadata().idpIssuer;
  if (!issuer) throw new Error('this project has no OpenID provider');
  return issuer;
}

/** Calls the test provider's control port (see end2end/oidc/README.md). */
export async function idpControl(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Response> {
  const control = metadata().idpControl;
  if (!control) throw new Error('this project has no OpenID provider');
  return fetch(`${control}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Whether the page is one of the provider's own. */
export function atProvider(page: Page): boolean {
  return usesProvider() && page.url().startsWith(idpIssuer());
}

// ---------------------------------------------------------------- sign up

/** Opens the sign-up form: /signup, or with a provider the provider's own page that
 * /signup links to. */
export async function openSignUp(page: Page) {
  await page.goto('/signup');
  await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
  if (usesProvider()) {
    await page.getByRole('link', { name: `Create an account at ${IDP_NAME}` }).click();
    await expect(page.getByRole('heading', { name: `Create your ${IDP_NAME} account` })).toBeVisible();
  }
}

/** Fills and submits the open sign-up form (the names are the same on both). */
export async function submitSignUp(page: Page, email: string, password = PASSWORD) {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
}

/** Expects the sign-up form again (a refused sign-up stays there). */
export async function expectSignUpForm(page: Page) {
  if (usesProvider()) {
    await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(idpIssuer())}/register`));
  } else {
    await expect(page).toHaveURL(pathIs('/signup'));
  }
}

/** Creates an account and signs in with it, landing on the append step. With a provider,
 * registering there sends the browser back to /login, where the person signs in. Does not
 * wait for the landing page. */
export async function signUp(page: Page, email: string, password = PASSWORD) {
  await openSignUp(page);
  await submitSignUp(page, email, password);
  if (usesProvider()) {
    await expect(page).toHaveURL(pathIs('/login'));
    await submitSignIn(page, email, password);
  }
}

/** Creates an account without touching the caller's browser context: through the UI in a
 * throw-away context, or (provider) at the provider, as its own sign-up would. */
export async function createAccount(browser: Browser, email: string, password = PASSWORD) {
  if (usesProvider()) {
    const created = await idpControl('POST', '/accounts', { email, password });
    expect(created.status, 'account created at the provider').toBe(201);
    return;
  }
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signUp(page, email, password);
    // That context has no authenticator, so the append step may forward by itself.
    await expect(page).toHaveURL(/\/(append|dashboard)(?:[?#].*)?$/);
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------- sign in

/** Signs in with the password on the current page (must be /login, possibly with
 * ?next=): Email → Continue → (no passkey) password step → Sign in. A one-tap offer for
 * another account is dismissed first. */
export async function submitSignIn(page: Page, email: string, password = PASSWORD) {
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  const otherAccount = page.getByRole('button', { name: 'Use another account' });
  if (await otherAccount.isVisible()) {
    await otherAccount.click();
  }
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await submitPassword(page, email, password);
}

/** The password step of /login (after Continue or a passkey fallback): expects the email
 * carried over, fills the password and clicks "Sign in". With a provider, "Sign in" goes
 * there (the email as login hint) and the password is typed on its page; without
 * JavaScript, Continue already went there. */
export async function submitPassword(page: Page, email: string, password = PASSWORD) {
  if (usesProvider()) {
    const providerLogin = page.getByRole('heading', { name: `Sign in to ${IDP_NAME}` });
    const ourStep = page.getByText(`You'll enter your password at ${IDP_NAME}.`);
    await expect(providerLogin.or(ourStep)).toBeVisible();
    if (!atProvider(page)) {
      await expect(page.getByLabel('Email', { exact: true })).toHaveValue(email);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(providerLogin).toBeVisible();
    }
  }
  const passwordField = page.getByLabel('Password', { exact: true });
  await expect(passwordField).toBeVisible();
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue(email);
  await passwordField.fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Expects a refused password (wrong password or unknown email: the same answer), on our
 * page or the provider's, and no way forward. */
export async function expectPasswordRefused(page: Page) {
  if (usesProvider()) {
    await expect(alertWith(page, /wrong email or password/i)).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(idpIssuer())}/`));
  } else {
    await expect(alertWith(page, /email or password is wrong/i)).toBeVisible();
    await expect(page).toHaveURL(pathIs('/login'));
  }
}

/** Opens /login and signs in. Does not wait for the landing page. */
export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto('/login');
  await submitSignIn(page, email, password);
}

// ---------------------------------------------------------------- journey steps

/** Expects the passkey append step (every login lands there first), clicks "Skip" and
 * expects to be forwarded to `target`. */
export async function skipAppend(page: Page, target = '/dashboard') {
  await expect(page).toHaveURL(pathIs('/append'));
  await expect(page.getByRole('heading', { name: /passkey/i })).toBeVisible();
  await page.getByRole('button', { name: 'Skip', exact: true }).click();
  await expect(page).toHaveURL(pathIs(target));
}

/** Expects the dashboard of the signed-in `email`. */
export async function expectDashboard(page: Page, email: string) {
  await expect(page).toHaveURL(pathIs('/dashboard'));
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByText(email).first()).toBeVisible();
}

/** Clicks "Sign out" and expects the sign-in page. A session from the provider is ended
 * there too (RP-initiated logout), which asks for confirmation on its own page. */
export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  if (usesProvider()) {
    await expect(page.getByRole('heading', { name: `Sign out of ${IDP_NAME}` })).toBeVisible();
    await page.getByRole('button', { name: 'Yes, sign me out', exact: true }).click();
  }
  await expect(page).toHaveURL(pathIs('/login'));
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
}

/** Expects that the context has no session: /dashboard sends it to /login?next=/dashboard. */
export async function expectSignedOut(page: Page) {
  await page.goto('/dashboard');
  await expect(page).toHaveURL(pathIs('/login'));
  expect(nextParam(page)).toBe('/dashboard');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
}

// ---------------------------------------------------------------- passkeys

/** Signs up and creates a passkey at the append step; ends on the dashboard. */
export async function signUpWithPasskey(page: Page, email: string) {
  await signUp(page, email);
  await expect(page).toHaveURL(pathIs('/append'));
  await createPasskeyAtAppend(page);
  await expectDashboard(page, email);
}

export async function createPasskeyAtAppend(page: Page) {
  await expect(page.getByRole('heading', { name: /passkey/i })).toBeVisible();
  const create = page.getByRole('button', { name: 'Create passkey' });
  await expect(create).toBeEnabled();
  await create.click();
}

/** Ends the session server side without visiting /login (which would show one-tap). */
export async function forgetBrowser(page: Page) {
  await page.context().clearCookies();
}

/** Another person's browser beside the test's page: a fresh context with a platform
 * authenticator, and (like the test's page) no conditional mediation. */
export async function personBrowser(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  await context.addInitScript(HIDE_CONDITIONAL_MEDIATION);
  const page = await context.newPage();
  await VirtualAuthenticator.attach(page);
  return { context, page };
}

// ---------------------------------------------------------------- how pages look and read

/** The status (role="status") whose text matches `text`: information, not an error. */
export function statusWith(page: Page, text: RegExp) {
  return page.getByRole('status').filter({ hasText: text });
}

/** Waits until the app has taken over the server's page (hydration done). */
export async function waitForApp(page: Page) {
  await page.waitForFunction(() => (window as unknown as { __latchkeyHydrated?: boolean }).__latchkeyHydrated === true);
}

/** Holds back the app's WebAssembly until the returned function is called: the page stays
 * the server's plain HTML meanwhile, as on a slow network. */
export async function holdTheApp(page: Page): Promise<() => void> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route('**/pkg/*.wasm', async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const NARROW_PHONE = { width: 320, height: 640 };

/** Full-page screenshots at desktop and phone width, kept as files in the test's folder
 * under test-results/ (and attached to its report). Restores the desktop size. */
export async function keepScreenshots(page: Page, name: string) {
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    const path = test.info().outputPath(`${name}-${size}.png`);
    await page.screenshot({ path, fullPage: true });
    await test.info().attach(`${name}-${size}`, { path, contentType: 'image/png' });
  }
  await page.setViewportSize(DESKTOP);
}

/** Whether the page scrolls sideways at its current width (WCAG 1.4.10 asks it never does
 * at 320 CSS pixels). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
  );
}

/** No serious or critical axe-core violation on the page as it is now, in light and dark
 * mode. */
export async function expectAccessible(page: Page, what: string) {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
    expect(serious, `${what} (${colorScheme})`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** No sideways scrolling at 320 px (tables and charts scroll inside their own boxes). */
export async function expectReflow(page: Page, what: string) {
  await page.setViewportSize(NARROW_PHONE);
  expect(await scrollsSideways(page), `${what} at 320 px`).toBe(false);
  await page.setViewportSize(DESKTOP);
}

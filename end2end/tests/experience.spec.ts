import type { Page } from '@playwright/test';

import {
  PASSWORD,
  createAccount,
  createPasskeyAtAppend,
  expect,
  expectAccessible,
  expectDashboard,
  expectReflow,
  forgetBrowser,
  holdTheApp,
  keepScreenshots,
  pathIs,
  personBrowser,
  recordNavigations,
  signOut,
  signUp,
  signUpWithPasskey,
  statusWith,
  submitPassword,
  test,
  uniqueEmail,
  waitForApp,
} from './helpers';

// The sign-in experience as a person meets it (docs/ui-contract.md): nothing typed or
// clicked is lost while the page is still plain HTML, nothing is shown that then vanishes,
// the app is downloaded once per visit, every state says what it is, the keyboard and
// screen readers are led through it, and every page reads at 320 px and in dark mode.

const emailField = (page: Page) => page.getByLabel('Email', { exact: true });
const passwordField = (page: Page) => page.getByLabel('Password', { exact: true });
const continueButton = (page: Page) => page.getByRole('button', { name: 'Continue', exact: true });
const passkeyButton = (page: Page) => page.getByRole('button', { name: 'Sign in with a passkey' });

test.describe('before the app is interactive', () => {
  test('an email typed while the page is still loading is kept, and Continue goes on with it', async ({
    page,
    browser,
  }) => {
    const email = uniqueEmail('early-typing');
    await createAccount(browser, email);
    const release = await holdTheApp(page);
    await page.goto('/login', { waitUntil: 'domcontentloaded' });
    await emailField(page).fill(email);
    release();
    await waitForApp(page);

    await expect(emailField(page)).toHaveValue(email);
    await continueButton(page).click();
    await expect(passwordField(page)).toBeFocused();
    await expect(emailField(page)).toHaveValue(email);
    await passwordField(page).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(pathIs('/append'));
  });

  test('"Continue as" clicked while the page is still loading signs in once the app is there', async ({
    page,
  }) => {
    const email = uniqueEmail('early-click');
    await signUpWithPasskey(page, email);
    await signOut(page);

    const release = await holdTheApp(page);
    await page.goto('/login', { waitUntil: 'domcontentloaded' });
    const oneTap = page.getByRole('button', { name: `Continue as ${email}` });
    // Rendered enabled by the server: a real form button, not a dead one.
    await expect(oneTap).toBeEnabled();
    await oneTap.click();
    await expect(page).toHaveURL(pathIs('/login'));
    release();
    await expectDashboard(page, email);
  });
});

test.describe('a click right after typing', () => {
  test('an email typed just before "Sign in with a passkey" does not spoil its challenge', async ({
    page,
  }) => {
    const email = uniqueEmail('typed-then-button');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    // Leaving the Email field starts a login for that email (a new challenge); the network
    // is slowed so that start is still on its way when the button's ceremony finishes.
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await page.route('**/v2/connect/login/start', async (route) => {
      if (JSON.parse(route.request().postData() ?? '{}').identifier) await pause(400);
      await route.continue();
    });
    await page.route('**/v2/connect/login/finish', async (route) => {
      await pause(600);
      await route.continue();
    });
    const prepared = page.waitForResponse('**/v2/connect/login/start');
    await page.goto('/login');
    await prepared;
    await emailField(page).fill(email);
    await passkeyButton(page).click();
    await expectDashboard(page, email);
  });
});

test.describe('without JavaScript', () => {
  test('sign-up, the append step, one-tap and the password work; passkey controls are not shown', async ({
    browser,
  }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const email = uniqueEmail('nojs');
      await signUp(page, email);
      await expect(page).toHaveURL(pathIs('/append'));
      await expect(page.getByRole('heading', { name: 'Passkeys need JavaScript' })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Create passkey' })).toBeHidden();
      await keepScreenshots(page, 'append-without-javascript');
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await expectDashboard(page, email);

      await page.goto('/passkeys');
      await expect(page.getByText('Your passkeys can be shown and changed with JavaScript turned on.')).toBeVisible();
      await expect(page.getByText('Loading your passkeys…')).toBeHidden();
      await expect(page.getByRole('button', { name: 'Create passkey' })).toBeHidden();

      await page.goto('/dashboard');
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await expect(page).toHaveURL(pathIs('/login'));
      await expect(passkeyButton(page)).toBeHidden();
      await keepScreenshots(page, 'login-without-javascript');
      // One-tap is a real form: it posts the email and the password step follows.
      await page.getByRole('button', { name: `Continue as ${email}` }).click();
      await submitPassword(page, email);
      await expect(page).toHaveURL(pathIs('/append'));
    } finally {
      await context.close();
    }
  });
});

test.describe('one download, no flash', () => {
  test('a passkey sign-in downloads each part of the app once and goes straight to the target', async ({
    page,
  }) => {
    const email = uniqueEmail('one-download');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    const wasm: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.endsWith('.wasm')) wasm.push(path);
    });
    const visited = recordNavigations(page);
    await page.goto('/login');
    await waitForApp(page);
    // The sign-in page is the main module alone; other pages' code comes with them.
    expect(wasm).toEqual([expect.stringMatching(/^\/pkg\/latchkey\.[A-Za-z0-9_-]{22}\.wasm$/)]);
    await passkeyButton(page).click();
    await expectDashboard(page, email);
    // This browser's own passkey: the server passed the append step, nothing was offered.
    expect(visited).toEqual(['/login', '/dashboard']);
    expect(new Set(wasm).size).toBe(wasm.length);
    expect(wasm.filter((path) => path.includes('dashboard'))).toHaveLength(1);
    // The console's code is for operators: a person signing in never downloads it.
    expect(wasm.filter((path) => path.includes('admin'))).toEqual([]);
  });

  test('the app is served by content name: cached for good, revalidated by its name, pages never', async ({
    page,
  }) => {
    let wasmUrl = '';
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('.wasm')) wasmUrl = request.url();
    });
    const login = await page.goto('/login');
    expect(login?.headers()['cache-control']).toBe('no-store');
    await waitForApp(page);
    expect(new URL(wasmUrl).pathname).toMatch(/^\/pkg\/latchkey\.[A-Za-z0-9_-]{22}\.wasm$/);

    const first = await page.request.get(wasmUrl);
    expect(first.status()).toBe(200);
    expect(first.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    const etag = first.headers()['etag'];
    expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]{22}"$/);
    const again = await page.request.get(wasmUrl, { headers: { 'If-None-Match': etag } });
    expect(again.status()).toBe(304);
    expect(await again.body()).toHaveLength(0);
    const stylesheet = await page.locator('link[rel="stylesheet"]').getAttribute('href');
    expect(stylesheet).toMatch(/^\/pkg\/latchkey\.[A-Za-z0-9_-]{22}\.css$/);
  });

  test('the append step shows only that it is checking until the service has decided', async ({
    page,
  }) => {
    let release: () => void = () => {};
    const decided = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/v2/connect/append/init', async (route) => {
      await decided;
      await route.continue();
    });
    const email = uniqueEmail('append-neutral');
    await signUp(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
    await expect(statusWith(page, /Checking whether this device can use a passkey/)).toBeVisible();
    await expect(page.getByRole('button', { name: 'Create passkey' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Skip', exact: true })).toHaveCount(0);
    release();
    await expect(page.getByRole('button', { name: 'Create passkey' })).toBeEnabled();
    await keepScreenshots(page, 'append-offer');
  });
});

test.describe('honest states', () => {
  test('the passkey service unreachable: the passkey button says so, the password works', async ({
    page,
    browser,
  }) => {
    const email = uniqueEmail('service-down');
    await createAccount(browser, email);
    await page.route('**/v2/connect/login/init', (route) => route.abort());
    await page.goto('/login');

    await expect(passkeyButton(page)).toBeDisabled();
    await expect(passkeyButton(page)).toHaveAccessibleDescription(
      'Passkeys are unavailable right now — use your password.',
    );
    await keepScreenshots(page, 'login-service-unreachable');
    await emailField(page).fill(email);
    await continueButton(page).click();
    await submitPassword(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
  });

  test('no passkey on this device is told apart from a cancelled prompt', async ({ page, browser }) => {
    const email = uniqueEmail('elsewhere');
    const other = await personBrowser(browser);
    try {
      await signUpWithPasskey(other.page, email);
    } finally {
      await other.context.close();
    }

    await page.goto('/login');
    await emailField(page).fill(email);
    await continueButton(page).click();
    await expect(statusWith(page, /No passkey for this account was found on this device/)).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);
    await expect(emailField(page)).toHaveValue(email);
    await expect(passwordField(page)).toBeVisible();
    await keepScreenshots(page, 'login-no-passkey-here');
  });

  test('a signed-in visitor of /login or /signup goes to the dashboard', async ({ page }) => {
    const email = uniqueEmail('signed-in');
    await signUpWithPasskey(page, email);
    await page.goto('/login');
    await expectDashboard(page, email);
    await page.goto('/signup');
    await expectDashboard(page, email);
    // A page that asks for a fresh sign-in still gets the form.
    await page.goto('/login?next=%2Fpasskeys');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  });
});

test.describe('keyboard and screen readers', () => {
  test('focus follows the sign-in, and errors sit at their field', async ({ page, browser }) => {
    const email = uniqueEmail('focus');
    await createAccount(browser, email);
    await page.goto('/login');
    await waitForApp(page);
    await expect(emailField(page)).toBeFocused();

    await continueButton(page).click();
    await expect(emailField(page)).toHaveAttribute('aria-invalid', 'true');
    await expect(emailField(page)).toHaveAccessibleDescription('Enter your email address.');

    await emailField(page).fill(email);
    await continueButton(page).click();
    await expect(passwordField(page)).toBeFocused();
    await expect(emailField(page)).toHaveAttribute('aria-invalid', 'false');

    await passwordField(page).fill(`${PASSWORD}!`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(passwordField(page)).toHaveAccessibleDescription('The email or password is wrong.');
    await expect(passwordField(page)).toHaveAttribute('aria-invalid', 'true');
    await expect(passwordField(page)).toHaveValue('');
    await expect(passwordField(page)).toBeFocused();
    await keepScreenshots(page, 'login-wrong-password');
  });

  test('deleting a passkey leads the focus through the confirmation to the result', async ({
    page,
  }) => {
    const email = uniqueEmail('focus-delete');
    await signUpWithPasskey(page, email);
    await page.goto('/passkeys');
    const item = page.getByRole('list', { name: 'Your passkeys' }).getByRole('listitem');
    // A passkey of an unknown provider is named after where it was made.
    await expect(item.getByText('Passkey · Chrome on Windows')).toBeVisible();
    await expect(item).toContainText('Never used');

    const remove = item.getByRole('button', { name: 'Delete', exact: true });
    await remove.click();
    await expect(page.getByRole('button', { name: 'Delete passkey' })).toBeFocused();
    await keepScreenshots(page, 'passkeys-confirm-delete');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(remove).toBeFocused();

    await remove.click();
    await page.getByRole('button', { name: 'Delete passkey' }).click();
    await expect(statusWith(page, /Passkey deleted/)).toBeFocused();
  });

  test('the duplicate sign-up says so at the Email field, with a link to sign in', async ({
    page,
    browser,
  }) => {
    const email = uniqueEmail('duplicate');
    await createAccount(browser, email);
    await page.goto('/signup');
    await emailField(page).fill(email);
    await passwordField(page).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await expect(emailField(page)).toHaveAccessibleDescription(/already exists/);
    await page.getByRole('link', { name: 'Sign in instead' }).click();
    await expect(page).toHaveURL(pathIs('/login'));
    await expect(emailField(page)).toHaveValue(email);
    await expect(passwordField(page)).toBeVisible();
  });
});

test.describe('every page', () => {
  test('reads well: axe-core finds nothing serious, light or dark; no sideways scrolling at 320 px', async ({
    page,
  }) => {
    test.setTimeout(120_000);
    // A long address: the one-tap button must wrap it, not overflow.
    const email = uniqueEmail('a-rather-long-name-to-wrap-at-three-hundred-twenty');
    const check = async (what: string) => {
      await expectAccessible(page, what);
      await expectReflow(page, what);
      await keepScreenshots(page, what);
    };

    await page.goto('/signup');
    await check('sign-up');
    await signUp(page, email);
    await expect(page.getByRole('button', { name: 'Create passkey' })).toBeEnabled();
    await check('append');
    await createPasskeyAtAppend(page);
    await expectDashboard(page, email);
    await check('dashboard');
    await page.goto('/passkeys');
    await expect(page.getByRole('list', { name: 'Your passkeys' })).toBeVisible();
    await check('passkeys');
    await page.goto('/dashboard');
    await signOut(page);
    await expect(page.getByRole('button', { name: `Continue as ${email}` })).toBeVisible();
    await check('login-one-tap');
    await page.getByRole('button', { name: 'Use another account' }).click();
    await expect(emailField(page)).toBeVisible();
    await check('login');
    await page.goto(`/login?email=${encodeURIComponent(email)}`);
    await expect(passwordField(page)).toBeVisible();
    await check('login-password');
    await page.goto('/no-such-page');
    await check('not-found');

    // Dark mode is the page's own, not the browser's default colours.
    await page.emulateMedia({ colorScheme: 'dark' });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(15, 20, 32)');
  });
});

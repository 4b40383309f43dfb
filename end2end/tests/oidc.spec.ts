import type { Page } from '@playwright/test';

import {
  IDP_NAME,
  PASSWORD,
  alertWith,
  createAccount,
  expect,
  expectDashboard,
  expectSignedOut,
  idpControl,
  idpIssuer,
  nextParam,
  pathIs,
  signIn,
  signOut,
  skipAppend,
  test,
  uniqueEmail,
} from './helpers';

// Passkeys on top of an external OpenID provider: a real `oidc-provider` on loopback (end2end/oidc/provider.mjs) holds the
// accounts and the passwords; passkeys belong to the provider's (issuer, subject) user.
// Runs in the `oidc` project only.

/** Every request the browser sends to the provider, from now on. */
function providerRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(idpIssuer())) seen.push(`${request.method()} ${request.url()}`);
  });
  return seen;
}

/** Signs in through the provider and creates a passkey at the append step. */
async function signInAndCreatePasskey(page: Page, email: string) {
  await signIn(page, email);
  await expect(page).toHaveURL(pathIs('/append'));
  await expect(page.getByRole('heading', { name: /passkey/i })).toBeVisible();
  const create = page.getByRole('button', { name: 'Create passkey' });
  await expect(create).toBeEnabled();
  await create.click();
  await expectDashboard(page, email);
}

/** Signs in at the provider but stops before the browser follows its redirect back to us
 * (Playwright cannot intercept redirects): the provider's answers are followed by hand
 * with the browser context's cookies, and the fresh, unused callback URL is returned. */
async function signInUntilCallback(page: Page, email: string): Promise<string> {
  await page.goto('/login');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { name: `Sign in to ${IDP_NAME}` })).toBeVisible();
  const action = await page.locator('form').first().getAttribute('action');
  const request = page.context().request;
  let response = await request.post(new URL(action!, page.url()).toString(), {
    form: { email, password: PASSWORD },
    maxRedirects: 0,
  });
  for (let hop = 0; hop < 10; hop++) {
    const location = response.headers()['location'];
    expect(location, `redirect from ${response.url()}`).toBeTruthy();
    const next = new URL(location, response.url());
    if (next.pathname === '/auth/callback') return next.toString();
    response = await request.get(next.toString(), { maxRedirects: 0 });
  }
  throw new Error('the provider never redirected back to /auth/callback');
}

/** The URL of the provider's redirect back to us, captured while `action` runs. */
async function captureCallback(page: Page, action: () => Promise<void>): Promise<string> {
  const callback = page.waitForRequest((request) => new URL(request.url()).pathname === '/auth/callback');
  await action();
  return (await callback).url();
}

test.describe('passkeys on an OpenID provider', () => {
  test('provider login → append → passkey → sign out → passkey login without the provider', async ({
    page,
    authenticator,
  }) => {
    const email = uniqueEmail('oidc-passkey');
    await createAccount(page.context().browser()!, email);

    await signInAndCreatePasskey(page, email);
    expect(await authenticator!.credentials()).toHaveLength(1);

    // Sign out ends the provider's session too (RP-initiated logout) and comes back.
    await signOut(page);

    await idpControl('POST', '/requests/reset');
    const browserToProvider = providerRequests(page);
    await page.getByRole('button', { name: `Continue as ${email}` }).click();
    // The passkey made on this device: the append step forwards by itself.
    await expectDashboard(page, email);

    expect(browserToProvider, 'the browser never went to the provider').toEqual([]);
    const served = await (await idpControl('GET', '/requests')).json();
    expect(served, 'the provider served nothing for the passkey login').toEqual([]);
  });

  test('after sign-out the provider asks for the password again', async ({ page }) => {
    const email = uniqueEmail('oidc-logout');
    await createAccount(page.context().browser()!, email);
    await signIn(page, email);
    await skipAppend(page, '/dashboard');
    await signOut(page);

    // Its own session is gone: going there again shows its login form.
    await page.getByRole('button', { name: 'Use another account' }).click();
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('heading', { name: `Sign in to ${IDP_NAME}` })).toBeVisible();
    await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
  });
});

test.describe('the provider ends its session', () => {
  test('a back-channel logout from the provider ends the session in the browser', async ({
    page,
  }) => {
    const email = uniqueEmail('oidc-backchannel');
    await createAccount(page.context().browser()!, email);
    await signIn(page, email);
    await skipAppend(page, '/dashboard');
    await expectDashboard(page, email);

    // The person signs out at the provider itself (its own page, not ours)...
    await page.goto(`${idpIssuer()}/session/end`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await expect(page.getByRole('heading', { name: `Signed out of ${IDP_NAME}` })).toBeVisible();

    // ...and the provider told us, server to server: the next page is the sign-in.
    await page.goto('/dashboard');
    await expect(page).toHaveURL(pathIs('/login'));
    expect(nextParam(page)).toBe('/dashboard');
  });
});

test.describe('the provider is down', () => {
  test.afterEach(async () => {
    await idpControl('POST', '/start');
  });

  test('the password path says so, and passkey login still works', async ({ page, browser }) => {
    const withPasskey = uniqueEmail('oidc-down-passkey');
    const withoutPasskey = uniqueEmail('oidc-down-password');
    await createAccount(browser, withPasskey);
    await createAccount(browser, withoutPasskey);
    await signInAndCreatePasskey(page, withPasskey);
    await page.context().clearCookies();

    expect((await idpControl('POST', '/stop')).status).toBe(200);

    // The password path: the provider cannot be reached, and the page says what to do.
    await page.goto('/login');
    // Hydrated (a click before that is a plain form post, which goes to the provider
    // directly and gets the same message, but without the passkey attempt first).
    await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toBeEnabled();
    await page.getByLabel('Email', { exact: true }).fill(withoutPasskey);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(alertWith(page, new RegExp(`can't reach ${IDP_NAME}.*passkey`, 'i'))).toBeVisible();
    await expect(page).toHaveURL(pathIs('/login'));

    // Passkey login needs no provider.
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectDashboard(page, withPasskey);
  });
});

test.describe('the callback is checked', () => {
  test('a tampered state is refused without a session', async ({ page, browser }) => {
    const email = uniqueEmail('oidc-state');
    await createAccount(browser, email);
    const callback = new URL(await signInUntilCallback(page, email));
    callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);

    const response = await page.goto(callback.toString());
    expect(response!.status()).toBe(400);
    await expect(page.getByRole('heading', { name: 'Sign-in did not work' })).toBeVisible();
    await expect(alertWith(page, /expired or was already used/i)).toBeVisible();
    await expectSignedOut(page);
  });

  test('a replayed code is refused, in the same browser and in another', async ({
    page,
    browser,
  }) => {
    const email = uniqueEmail('oidc-replay');
    await createAccount(browser, email);
    const callback = await captureCallback(page, async () => {
      await signIn(page, email);
      await skipAppend(page, '/dashboard');
    });
    await signOut(page);

    const again = await page.goto(callback);
    expect(again!.status()).toBe(400);
    await expect(alertWith(page, /expired or was already used/i)).toBeVisible();
    await expectSignedOut(page);

    const elsewhere = await browser.newContext();
    try {
      const other = await elsewhere.newPage();
      const response = await other.goto(callback);
      expect(response!.status()).toBe(400);
      await expect(alertWith(other, /expired or was already used/i)).toBeVisible();
    } finally {
      await elsewhere.close();
    }
  });

  test('a callback carried into another browser is refused there', async ({ page, browser }) => {
    const email = uniqueEmail('oidc-binding');
    await createAccount(browser, email);
    const callback = await signInUntilCallback(page, email);

    const elsewhere = await browser.newContext();
    try {
      const other = await elsewhere.newPage();
      const response = await other.goto(callback);
      expect(response!.status()).toBe(400);
      await expect(alertWith(other, /started in another browser/i)).toBeVisible();
      await other.goto('/dashboard');
      await expect(other).toHaveURL(pathIs('/login'));
    } finally {
      await elsewhere.close();
    }
    // The attempt used the login up: the browser that started it starts over.
    await page.goto(callback);
    await expect(alertWith(page, /expired or was already used/i)).toBeVisible();
    await page.getByRole('link', { name: 'Back to sign in' }).click();
    await expect(page).toHaveURL(pathIs('/login'));
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  });
});

import type { Page } from '@playwright/test';

import {
  PASSWORD,
  alertWith,
  createAccount,
  expect,
  expectAppendLeftOnce,
  expectDashboard,
  expectPasswordRefused,
  expectSignUpForm,
  expectSignedOut,
  nextParam,
  openSignUp,
  pathIs,
  signIn,
  signOut,
  signUp,
  skipAppend,
  submitSignIn,
  submitSignUp,
  test,
  uniqueEmail,
} from './helpers';

// The classic journey (docs/journey.md): sign-up and password login stay with the
// IdP; every successful login lands on /append first; "Skip" forwards to `next`
// (default /dashboard); protected pages send anonymous visitors to /login?next=<path>.
// Runs against the builtin IdP and against an OpenID provider (see helpers.ts).

test.describe('classic journey', () => {
  test('sign up, skip the passkey offer, sign out, sign in again', async ({ page }) => {
    const email = uniqueEmail('journey');

    await signUp(page, email);
    await skipAppend(page, '/dashboard');
    await expectDashboard(page, email);

    await signOut(page);

    await signIn(page, email);
    await skipAppend(page, '/dashboard');
    await expectDashboard(page, email);
  });

  test('leaving the append step goes to the target once, and the server agrees', async ({
    page,
  }) => {
    const email = uniqueEmail('once');
    await signUp(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
    await expect(page.getByRole('heading', { name: /passkey/i })).toBeVisible();

    await expectAppendLeftOnce(page, email, () =>
      page.getByRole('button', { name: 'Skip', exact: true }).click(),
    );
  });

  test('a deep link while anonymous goes through sign-in and append to the target', async ({
    page,
    browser,
  }) => {
    const email = uniqueEmail('deeplink');
    await createAccount(browser, email);

    await page.goto('/dashboard');
    await expect(page).toHaveURL(pathIs('/login'));
    expect(nextParam(page)).toBe('/dashboard');

    await submitSignIn(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
    expect(nextParam(page)).toBe('/dashboard');
    await skipAppend(page, '/dashboard');
    await expectDashboard(page, email);
  });

  test('the sign-in page links to sign-up', async ({ page }) => {
    await page.goto('/login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await expect(page).toHaveURL(pathIs('/signup'));
    await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
  });
});

test.describe('classic login errors', () => {
  test('a wrong password is refused without a session', async ({ page, browser }) => {
    const email = uniqueEmail('wrongpw');
    await createAccount(browser, email);

    await signIn(page, email, `${PASSWORD} but wrong`);
    await expectPasswordRefused(page);

    await expectSignedOut(page);
  });

  test('an unknown email gets the same answer as a wrong password', async ({ page }) => {
    await signIn(page, uniqueEmail('nobody'));
    await expectPasswordRefused(page);

    await expectSignedOut(page);
  });

  test('signing up twice with the same email is refused', async ({ page, browser }) => {
    const email = uniqueEmail('duplicate');
    await createAccount(browser, email);

    await openSignUp(page);
    await submitSignUp(page, email);
    await expect(alertWith(page, /already/i)).toBeVisible();
    await expectSignUpForm(page);

    await expectSignedOut(page);
  });
});

test.describe('without JavaScript', () => {
  // The classic forms must work as plain HTML forms (progressive enhancement).
  test.use({ javaScriptEnabled: false });

  /** The append step without JavaScript: no passkey can be made, the page says so and
   * continues to the target. */
  async function continueWithoutPasskey(page: Page) {
    await expect(page).toHaveURL(pathIs('/append'));
    await expect(page.getByRole('heading', { name: 'Passkeys need JavaScript' })).toBeVisible();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
  }

  test('sign up posts, lands on append, and Continue reaches the dashboard', async ({ page }) => {
    const email = uniqueEmail('nojs-signup');

    await signUp(page, email);
    await continueWithoutPasskey(page);
    await expectDashboard(page, email);
  });

  test('sign in posts, lands on append, and Continue reaches the dashboard', async ({
    page,
    browser,
  }) => {
    const email = uniqueEmail('nojs-signin');
    await createAccount(browser, email);

    await signIn(page, email);
    await continueWithoutPasskey(page);
    await expectDashboard(page, email);
  });
});

test.describe('redirect targets', () => {
  // `next` accepts only a same-origin path: anything else falls back to /dashboard.
  for (const next of ['https://evil.example/steal', '//evil.example/steal']) {
    test(`next=${next} is not followed`, async ({ page, browser }) => {
      const email = uniqueEmail('openredirect');
      await createAccount(browser, email);

      await page.goto(`/login?next=${encodeURIComponent(next)}`);
      await submitSignIn(page, email);
      await skipAppend(page, '/dashboard');
      await expectDashboard(page, email);
    });
  }
});

test.describe('errors', () => {
  test('an unknown route answers 404 without internals', async ({ page }) => {
    const response = await page.goto('/no-such-page-' + Date.now());
    expect(response, 'navigation response').not.toBeNull();
    expect(response!.status()).toBe(404);

    const body = await response!.text();
    for (const leak of [
      /panicked at/i,
      /stack backtrace/i,
      /RUST_BACKTRACE/,
      /\bsrc\/[\w/]+\.rs\b/,
      /\.rs:\d+/,
      /\bsqlx\b/i,
      /ServerFnError/,
    ]) {
      expect(body, `404 page must not contain ${leak}`).not.toMatch(leak);
    }
    await expect(page.locator('body')).toContainText(/not found|404/i);
  });
});

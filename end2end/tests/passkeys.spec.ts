import type { Browser, Page } from '@playwright/test';

import {
  PASSWORD,
  accountCommand,
  ageLogins,
  alertWith,
  createAccount,
  createPasskeyAtAppend,
  expect,
  expectAccessible,
  expectAppendLeftOnce,
  expectDashboard,
  forgetBrowser,
  keepScreenshots,
  nextParam,
  pathIs,
  signIn,
  signOut,
  signUp,
  signUpWithPasskey,
  skipAppend,
  statusWith,
  submitPassword,
  submitSignIn,
  test,
  uniqueEmail,
  VirtualAuthenticator,
  waitForApp,
} from './helpers';

// The passkey journey (docs/journey.md): a CDP virtual authenticator stands for the
// person's device. Every login lands on /append first; with a passkey made on this
// browser the step forwards by itself.

/** The passkey items on /passkeys. */
function passkeyItems(page: Page) {
  return page.getByRole('list', { name: 'Your passkeys' }).getByRole('listitem');
}

/** Signs in with the password in a separate context and deletes the passkey there. */
async function deletePasskeysElsewhere(browser: Browser, email: string) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    // The password step directly: this device has no passkey to try.
    await page.goto(`/login?email=${encodeURIComponent(email)}`);
    await submitPassword(page, email);
    // No platform authenticator in this context: /append forwards by itself.
    await expect(page).toHaveURL(pathIs('/dashboard'));
    await page.goto('/passkeys');
    const items = passkeyItems(page);
    await expect(items).toHaveCount(1);
    await items.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete passkey' }).click();
    await expect(page.getByText('You have no passkeys yet.')).toBeVisible();
  } finally {
    await context.close();
  }
}

test.describe('abuse protection and account state', () => {
  test('too many wrong passwords: the page says how long to wait, and the passkey still works', async ({
    page,
  }) => {
    const email = uniqueEmail('throttled');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    // The password step, the default limit of ten attempts for this account from here.
    await page.goto(`/login?email=${encodeURIComponent(email)}`);
    const password = page.getByLabel('Password', { exact: true });
    for (let i = 0; i < 10; i++) {
      await password.fill(`wrong ${i}`);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      // Each refusal empties the field for the next try.
      await expect(password).toHaveValue('');
      await expect(alertWith(page, /email or password is wrong/i)).toBeVisible();
    }
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(
      alertWith(page, /Too many attempts\. Try again in \d+ minutes?, or sign in with a passkey\./),
    ).toBeVisible();
    await expect(page).toHaveURL(pathIs('/login'));

    // A throttled password never blocks the passkey.
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectDashboard(page, email);
  });

  test('a disabled account signs in neither with its password nor with its passkey', async ({
    page,
  }) => {
    const email = uniqueEmail('disabled');
    await signUpWithPasskey(page, email);
    expect(accountCommand('disable', email)).toContain(`disabled ${email}; ended 1 session(s)`);

    // Its session is gone.
    await page.goto('/dashboard');
    await expect(page).toHaveURL(pathIs('/login'));
    // The passkey: refused before any session, the password offered instead.
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(alertWith(page, /did not work/i)).toBeVisible();
    await expect(page).toHaveURL(pathIs('/login'));
    // The password: the same answer as a wrong one.
    await page.goto(`/login?email=${encodeURIComponent(email)}`);
    await submitPassword(page, email);
    await expect(alertWith(page, /email or password is wrong/i)).toBeVisible();

    expect(accountCommand('enable', email)).toContain(`enabled ${email}`);
    await page.goto(`/login?email=${encodeURIComponent(email)}`);
    await submitPassword(page, email);
    await expectDashboard(page, email);
  });
});

test.describe('confirming it is you', () => {
  test('adding a passkey after a while asks to confirm with the password, then adds it', async ({
    page,
    authenticator,
  }) => {
    const email = uniqueEmail('stepup-add');
    await signUp(page, email);
    await skipAppend(page, '/dashboard');
    ageLogins(email);

    await page.goto('/passkeys');
    await expect(page.getByText('You have no passkeys yet.')).toBeVisible();
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await expect(page.getByRole('heading', { name: "Confirm it's you" })).toBeVisible();
    // A wrong password is refused in place; the right one goes on with the creation.
    await page.getByLabel('Password', { exact: true }).fill(`${PASSWORD}!`);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(alertWith(page, /email or password is wrong/i)).toBeVisible();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Passkey created.' })).toBeVisible();
    await expect(page.getByRole('heading', { name: "Confirm it's you" })).toBeHidden();
    await expect(passkeyItems(page)).toHaveCount(1);
    expect(await authenticator!.credentials()).toHaveLength(1);
  });

  test('deleting after a while asks to confirm with the passkey, then deletes', async ({ page }) => {
    const email = uniqueEmail('stepup-delete');
    await signUpWithPasskey(page, email);
    ageLogins(email);

    await page.goto('/passkeys');
    const item = passkeyItems(page);
    await expect(item).toHaveCount(1);
    await item.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(page.getByRole('heading', { name: "Confirm it's you" })).toBeVisible();
    const usePasskey = page.getByRole('button', { name: 'Use passkey' });
    await expect(usePasskey).toBeEnabled();
    await usePasskey.click();
    // Confirmed: the deletion's own confirmation follows.
    await page.getByRole('button', { name: 'Delete passkey' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Passkey deleted.' })).toBeVisible();
    await expect(page.getByText('You have no passkeys yet.')).toBeVisible();
  });
});

test.describe('creating and listing passkeys', () => {
  test('sign up → create passkey → dashboard → listed with its details', async ({
    page,
    authenticator,
  }) => {
    const email = uniqueEmail('create');
    await signUpWithPasskey(page, email);
    expect(await authenticator!.credentials()).toHaveLength(1);

    await page.getByRole('link', { name: 'Passkeys' }).click();
    await expect(page).toHaveURL(pathIs('/passkeys'));
    await expect(page.getByRole('heading', { name: 'Passkeys' })).toBeVisible();
    const item = passkeyItems(page);
    await expect(item).toHaveCount(1);
    // An unknown provider (the virtual authenticator's AAGUID): named after where it was made.
    await expect(item).toContainText('Passkey · Chrome on Windows');
    await expect(item).toContainText(/Created .*\d{4} with Chrome on Windows/);
    await expect(item).toContainText('This device');
    // Created at the append step, not used for a login yet.
    await expect(item).toContainText('Never used');
    await expect(item).not.toContainText('Synced');
  });

  test.describe('with a synced authenticator', () => {
    // Chromium allows one internal authenticator: this one replaces the default.
    test.use({ withAuthenticator: false });

    test('a backed-up passkey is marked Synced and shows when it was last used', async ({
      page,
    }) => {
      const authenticator = await VirtualAuthenticator.attach(page, { synced: true });
      const email = uniqueEmail('synced');
      await signUpWithPasskey(page, email);
      expect(await authenticator.credentials()).toHaveLength(1);

      await forgetBrowser(page);
      await page.goto('/login');
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expectDashboard(page, email);
      await page.goto('/passkeys');
      const item = passkeyItems(page);
      await expect(item).toContainText('Synced');
      await expect(item).toContainText(/Last used (just now|\d+ minutes? ago)/);
    });
  });

  test('after "Create passkey" the browser goes to the target once', async ({ page }) => {
    const email = uniqueEmail('created-once');
    await signUp(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
    await expectAppendLeftOnce(page, email, () => createPasskeyAtAppend(page));
  });

  test('a second passkey on the same authenticator gets a clear message', async ({
    page,
    authenticator,
  }) => {
    const email = uniqueEmail('duplicate-passkey');
    await signUpWithPasskey(page, email);
    await page.goto('/passkeys');
    await expect(passkeyItems(page)).toHaveCount(1);

    const create = page.getByRole('button', { name: 'Create passkey' });
    await expect(create).toBeEnabled();
    await create.click();
    await expect(alertWith(page, /already has a passkey/i)).toBeVisible();
    await expect(passkeyItems(page)).toHaveCount(1);
    expect(await authenticator!.credentials()).toHaveLength(1);
  });

  test('"Create passkey" on /passkeys after skipping at the append step', async ({ page }) => {
    const email = uniqueEmail('later');
    await signUp(page, email);
    await skipAppend(page, '/dashboard');
    await page.goto('/passkeys');
    await expect(page.getByText('You have no passkeys yet.')).toBeVisible();
    const create = page.getByRole('button', { name: 'Create passkey' });
    await expect(create).toBeEnabled();
    await create.click();
    await expect(page.getByRole('status')).toContainText(/created/i);
    await expect(passkeyItems(page)).toHaveCount(1);
  });

  test('deleting a passkey asks for confirmation', async ({ page }) => {
    const email = uniqueEmail('delete');
    await signUpWithPasskey(page, email);
    await page.goto('/passkeys');
    const item = passkeyItems(page);
    await expect(item).toHaveCount(1);

    await item.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(item).toHaveCount(1);

    await item.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete passkey' }).click();
    await expect(page.getByRole('status')).toContainText(/deleted/i);
    await expect(page.getByText('You have no passkeys yet.')).toBeVisible();
  });
});

test.describe('passkey login', () => {
  test('the passkey button; /append then forwards by itself', async ({ page }) => {
    const email = uniqueEmail('button');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    await page.goto('/login');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectDashboard(page, email);
  });

  test('one-tap: "Continue as <email>" for whoever signed in last', async ({ page }) => {
    const email = uniqueEmail('onetap');
    await signUpWithPasskey(page, email);
    await signOut(page);

    await page.getByRole('button', { name: `Continue as ${email}` }).click();
    await expectDashboard(page, email);
  });

  test('identifier-first: Email → Continue signs in with the passkey', async ({ page }) => {
    const email = uniqueEmail('identifier');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    await page.goto('/login');
    // Passkey actions are enabled once the page has hydrated and asked the service (before
    // that, Continue is the plain form's: the password step).
    await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toBeEnabled();
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expectDashboard(page, email);
  });

  test('"Use another account" opens the email step; the account is still offered next time', async ({ page }) => {
    const email = uniqueEmail('another');
    await signUpWithPasskey(page, email);
    await signOut(page);

    await page.getByRole('button', { name: 'Use another account' }).click();
    await expect(page.getByLabel('Email', { exact: true })).toHaveValue('');
    await page.reload();
    await expect(page.getByRole('button', { name: `Continue as ${email}` })).toBeVisible();
  });

  test('two accounts on one browser: "Continue as …" for each, and "Remove from this device"', async ({ page }) => {
    const first = uniqueEmail('first');
    await signUpWithPasskey(page, first);
    await signOut(page);
    const second = uniqueEmail('second');
    await signUpWithPasskey(page, second);
    await signOut(page);

    // Both are offered, the latest first.
    const accounts = page.getByRole('list', { name: 'Accounts on this device' }).getByRole('listitem');
    await expect(accounts).toHaveCount(2);
    await expect(accounts.nth(0)).toHaveAccessibleName(second);
    await expect(accounts.nth(1)).toHaveAccessibleName(first);
    await expectAccessible(page, 'the one-tap view with two accounts');
    await keepScreenshots(page, 'login-two-accounts');

    // The older account signs in with one tap, and comes first next time.
    await page.getByRole('button', { name: `Continue as ${first}` }).click();
    await expectDashboard(page, first);
    await signOut(page);
    await expect(accounts.nth(0)).toHaveAccessibleName(first);

    // One account is removed from this device; the other stays, also after a reload.
    await page.getByRole('listitem', { name: second }).getByRole('button', { name: 'Remove from this device' }).click();
    await expect(accounts).toHaveCount(1);
    await page.reload();
    await expect(accounts).toHaveCount(1);
    await expect(page.getByRole('button', { name: `Continue as ${second}` })).toHaveCount(0);

    // Without any left, the email step.
    await page.getByRole('listitem', { name: first }).getByRole('button', { name: 'Remove from this device' }).click();
    await expect(page.getByLabel('Email', { exact: true })).toBeVisible();
    await page.reload();
    await expect(page.getByRole('button', { name: /^Continue as/ })).toHaveCount(0);
  });

  test('cancelled (user not verified) is a soft error; the retry works', async ({
    page,
    authenticator,
  }) => {
    const email = uniqueEmail('cancel');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    await page.goto('/login');
    await authenticator!.setUserVerified(false);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    // Information, not an error: nothing went wrong, the person may simply try again.
    await expect(statusWith(page, /cancelled/i)).toBeVisible();
    await expect(page).toHaveURL(pathIs('/login'));

    await authenticator!.setUserVerified(true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectDashboard(page, email);
  });

  test('an account without passkeys goes to the password step, email carried over', async ({
    page,
  }) => {
    const email = uniqueEmail('nopasskey');
    await signUp(page, email);
    await skipAppend(page, '/dashboard');
    await forgetBrowser(page);

    await signIn(page, email);
    await skipAppend(page, '/dashboard');
    await expectDashboard(page, email);
  });

  test('a passkey deleted on the server: clear message, then the password', async ({
    page,
    browser,
    authenticator,
  }) => {
    const email = uniqueEmail('deleted');
    await signUpWithPasskey(page, email);
    await deletePasskeysElsewhere(browser, email);
    await forgetBrowser(page);

    await page.goto('/login');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(statusWith(page, /passkey was removed/i)).toBeVisible();
    // The Signal API told the authenticator to forget the passkey the site no longer knows.
    await expect.poll(async () => (await authenticator!.credentials()).length).toBe(0);
    await submitPassword(page, email);
    await skipAppend(page, '/dashboard');
    await expectDashboard(page, email);
  });

  test('a deep link survives passkey login and the append step', async ({ page }) => {
    const email = uniqueEmail('deeplink-passkey');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    await page.goto('/passkeys');
    await expect(page).toHaveURL(pathIs('/login'));
    expect(nextParam(page)).toBe('/passkeys');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page).toHaveURL(pathIs('/passkeys'));
    await expect(page.getByRole('heading', { name: 'Passkeys' })).toBeVisible();
  });
});

test.describe('a browser without WebAuthn', () => {
  test.use({ withAuthenticator: false });

  test('no passkey button; the password works; no offer after login', async ({
    page,
    browser,
  }) => {
    await page.addInitScript('delete window.PublicKeyCredential;');
    const email = uniqueEmail('nowebauthn');
    await createAccount(browser, email);

    await page.goto('/login');
    await waitForApp(page);
    // It could never work here: it is not offered.
    await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toHaveCount(0);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await submitPassword(page, email);
    // The append step sees no WebAuthn and forwards by itself.
    await expectDashboard(page, email);
  });
});

test.describe('conditional UI', () => {
  test.use({ conditionalMediation: true });

  test('the Email field offers the passkey (autofill) and signs in', async ({ page }) => {
    const email = uniqueEmail('conditional');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);

    // The virtual authenticator picks the passkey as soon as the request is armed.
    await page.goto('/login');
    await expectDashboard(page, email);
  });
});

test.describe('the append step', () => {
  test('"Don\'t ask again" is remembered at the next login', async ({ page }) => {
    const email = uniqueEmail('dontask');
    await signUp(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
    await page.getByLabel("Don't ask again").check();
    await page.getByRole('button', { name: 'Skip', exact: true }).click();
    await expectDashboard(page, email);
    await signOut(page);

    await page.getByRole('button', { name: 'Use another account' }).click();
    await submitSignIn(page, email);
    // The server answers /append with a redirect: no offer is shown.
    await expectDashboard(page, email);
  });

  test('cancelling creation shows a retry that works', async ({ page, authenticator }) => {
    const email = uniqueEmail('append-cancel');
    await signUp(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
    await authenticator!.setUserVerified(false);
    await createPasskeyAtAppend(page);
    await expect(alertWith(page, /cancelled/i)).toBeVisible();
    await expect(page).toHaveURL(pathIs('/append'));

    await authenticator!.setUserVerified(true);
    await createPasskeyAtAppend(page);
    await expectDashboard(page, email);
    expect(await authenticator!.credentials()).toHaveLength(1);
  });

  test('a browser without a platform authenticator is not offered one', async ({ browser }) => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const email = uniqueEmail('noplatform');
      await signUp(page, email);
      await expectDashboard(page, email);
    } finally {
      await context.close();
    }
  });
});

// The service's rollout decision (a percentage of browsers, a kill switch) arrives in the
// init answers; the server's own rollout is tested in tests/connect_*.rs, so here the
// answer is rewritten in flight.
test.describe('rollout denied', () => {
  async function deny(page: Page, component: 'login' | 'append', flag: string) {
    await page.route(`**/v2/connect/${component}/init`, async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      body[flag] = false;
      await route.fulfill({ response, json: body });
    });
  }

  test('login: the password step, no passkey prompt', async ({ page }) => {
    const email = uniqueEmail('rollout-login');
    await signUpWithPasskey(page, email);
    await forgetBrowser(page);
    await deny(page, 'login', 'loginAllowed');

    await page.goto('/login');
    // Not offered here: the page shows no passkey option at all (it would not work).
    await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toHaveCount(0);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await submitPassword(page, email);
    await expectDashboard(page, email);
  });

  test('append: no offer, straight to the target', async ({ page, authenticator }) => {
    await deny(page, 'append', 'appendAllowed');
    const email = uniqueEmail('rollout-append');
    await signUp(page, email);
    await expectDashboard(page, email);
    expect(await authenticator!.credentials()).toHaveLength(0);
  });
});

// Each frontend-API call failing (the network drops it) must land in a usable fallback:
// passkeys are only ever an addition to the password.
test.describe('frontend API failures', () => {
  for (const step of ['init', 'start', 'finish']) {
    test(`login ${step} failing falls back to the password`, async ({ page }) => {
      const email = uniqueEmail(`login-${step}`);
      await signUpWithPasskey(page, email);
      await forgetBrowser(page);

      await page.route(`**/v2/connect/login/${step}`, (route) => route.abort());
      await page.goto('/login');
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await submitPassword(page, email);
      // (/append forwards by itself: this browser already has the passkey.)
      await expectDashboard(page, email);
    });
  }

  for (const step of ['init', 'start']) {
    test(`append ${step} failing forwards without an offer`, async ({ page, authenticator }) => {
      await page.route(`**/v2/connect/append/${step}`, (route) => route.abort());
      const email = uniqueEmail(`append-${step}`);
      await signUp(page, email);
      await expectDashboard(page, email);
      expect(await authenticator!.credentials()).toHaveLength(0);
    });
  }

  test('append finish failing says so and Skip still works', async ({ page }) => {
    await page.route('**/v2/connect/append/finish', (route) => route.abort());
    const email = uniqueEmail('append-finish');
    await signUp(page, email);
    await createPasskeyAtAppend(page);
    await expect(alertWith(page, /could not be saved/i)).toBeVisible();
    await skipAppend(page, '/dashboard');
    await expectDashboard(page, email);
  });

  for (const step of ['init', 'list']) {
    test(`manage ${step} failing shows a message`, async ({ page }) => {
      const email = uniqueEmail(`manage-${step}`);
      await signUpWithPasskey(page, email);
      await page.route(`**/v2/connect/manage/${step}`, (route) => route.abort());
      await page.goto('/passkeys');
      await expect(alertWith(page, /cannot be shown/i)).toBeVisible();
      await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
    });
  }

  test('manage delete failing keeps the passkey and says so', async ({ page }) => {
    const email = uniqueEmail('manage-delete');
    await signUpWithPasskey(page, email);
    await page.route('**/v2/connect/manage/delete', (route) => route.abort());
    await page.goto('/passkeys');
    const item = passkeyItems(page);
    await item.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete passkey' }).click();
    await expect(alertWith(page, /could not be deleted/i)).toBeVisible();
    await expect(item).toHaveCount(1);
  });
});

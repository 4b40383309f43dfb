import type { Page } from '@playwright/test';

import {
  PASSWORD,
  VirtualAuthenticator,
  base64url,
  clearSignalCalls,
  createAccount,
  createCalls,
  createPasskeyAtAppend,
  expect,
  expectAccessible,
  expectDashboard,
  forgetBrowser,
  keepScreenshots,
  pathIs,
  recordCreateCalls,
  recordSignalCalls,
  signIn,
  signOut,
  signUp,
  signalCalls,
  signUpWithPasskey,
  skipAppend,
  statusWith,
  test,
  uniqueEmail,
  waitForApp,
} from './helpers';

// Passkey intelligence and the authenticator policy, on an app configured to keep only
// synced passkeys (`passkey-storage = synced`) with one related origin. Pages get a synced
// virtual authenticator (a password manager's passkeys) unless a test attaches its own.

const SYNCED_ONLY =
  'This site accepts only passkeys that sync across your devices; save it in your password manager instead.';

function metadata(): { operator: string; relatedOrigin: string } {
  return test.info().project.metadata as { operator: string; relatedOrigin: string };
}

function passkeysListed(page: Page) {
  return page.getByRole('list', { name: 'Your passkeys' }).getByRole('listitem');
}

test.describe('the authenticator policy', () => {
  test.use({ withAuthenticator: false });

  test('a passkey the policy refuses is not kept: the person reads why and tries another', async ({ page }) => {
    await recordSignalCalls(page);
    // The ids of the credentials the browser creates, as the page receives them.
    await page.addInitScript(() => {
      const created: string[] = [];
      (window as unknown as { __created: string[] }).__created = created;
      const original = navigator.credentials.create.bind(navigator.credentials);
      navigator.credentials.create = async (options) => {
        const credential = await original(options);
        if (credential) created.push(credential.id);
        return credential;
      };
    });
    // A laptop's own authenticator: its passkeys stay on the device.
    const deviceBound = await VirtualAuthenticator.attach(page, { synced: false });
    const email = uniqueEmail('policy');
    await signUp(page, email);
    await expect(page).toHaveURL(pathIs('/append'));

    await page.getByRole('button', { name: 'Create passkey' }).click();
    await expect(page.getByRole('alert')).toHaveText(SYNCED_ONLY);
    await expect(page).toHaveURL(pathIs('/append'));
    // The authenticator made a passkey the site did not keep: the page tells the browser
    // the credential is unknown here, and Chromium drops it from the authenticator.
    const made = await page.evaluate(() => (window as unknown as { __created: string[] }).__created);
    expect(made).toHaveLength(1);
    await expect
      .poll(() => signalCalls(page))
      .toContainEqual({
        name: 'signalUnknownCredential',
        options: { rpId: 'localhost', credentialId: made[0] },
      });
    await expect.poll(async () => (await deviceBound.credentials()).length).toBe(0);
    await keepScreenshots(page, 'append-refused-by-policy');

    // With a password manager's passkey (synced) the same step succeeds.
    await deviceBound.remove();
    await VirtualAuthenticator.attach(page, { synced: true });
    await expect(page.getByRole('button', { name: 'Create passkey' })).toBeEnabled();
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await expectDashboard(page, email);
    await page.goto('/passkeys');
    await expect(passkeysListed(page)).toHaveCount(1);
    await expect(passkeysListed(page).first()).toContainText('Synced');
  });
});

test.describe('naming passkeys', () => {
  test("a passkey shows its provider's name and icon, the dark icon in dark mode", async ({ page }) => {
    const email = uniqueEmail('provider');
    await signUpWithPasskey(page, email);
    await page.goto('/passkeys');
    const row = page.getByRole('listitem', { name: 'Passkey: Test Authenticator' });
    await expect(row).toBeVisible();
    const icon = row.locator('.provider-icon img');
    // Decorative: the name beside it says what it is.
    await expect(icon).toHaveAttribute('alt', '');
    const light = await icon.getAttribute('src');
    expect(light).toMatch(/^data:image\/svg\+xml;base64,/);
    await expect.poll(() => icon.evaluate((img: HTMLImageElement) => img.currentSrc)).toBe(light);
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect
      .poll(() => icon.evaluate((img: HTMLImageElement) => img.currentSrc))
      .not.toBe(light);
    await keepScreenshots(page, 'passkey-with-provider-icon-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await keepScreenshots(page, 'passkey-with-provider-icon');
  });

  test('a person renames a passkey; the browser learns the accepted passkeys and the account name', async ({
    page,
    authenticator,
  }) => {
    await recordSignalCalls(page);
    const email = uniqueEmail('rename');
    await signUpWithPasskey(page, email);
    await page.goto('/passkeys');
    const row = passkeysListed(page).first();
    await expect(row).toBeVisible();

    await row.getByRole('button', { name: 'Rename' }).click();
    const field = row.getByLabel('Passkey name');
    await expect(field).toBeFocused();
    // An empty name is refused at the field.
    await field.fill('   ');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(row.getByText('Enter a name for the passkey.')).toBeVisible();
    await keepScreenshots(page, 'rename-form');

    await field.fill('Work laptop');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(statusWith(page, /Passkey renamed/)).toBeVisible();
    await expect(page.getByRole('listitem', { name: 'Passkey: Work laptop' })).toBeVisible();

    const [credential] = await authenticator!.credentials();
    const id = base64url(credential.credentialId);
    await expect
      .poll(async () => (await signalCalls(page)).map((call) => call.name))
      .toEqual(expect.arrayContaining(['signalAllAcceptedCredentials', 'signalCurrentUserDetails']));
    const calls = await signalCalls(page);
    const accepted = calls.find((call) => call.name === 'signalAllAcceptedCredentials')!.options;
    expect(accepted).toMatchObject({ rpId: 'localhost', allAcceptedCredentialIds: [id] });
    expect(accepted.userId).toBe(base64url(credential.userHandle!));
    expect(calls.find((call) => call.name === 'signalCurrentUserDetails')!.options).toEqual({
      rpId: 'localhost',
      userId: accepted.userId,
      name: email,
      displayName: email,
    });
    // The name stays after a reload, and "Cancel" leaves it as it is.
    await page.reload();
    const renamed = page.getByRole('listitem', { name: 'Passkey: Work laptop' });
    await renamed.getByRole('button', { name: 'Rename' }).click();
    await renamed.getByLabel('Passkey name').fill('Something else');
    await renamed.getByRole('button', { name: 'Cancel' }).click();
    await expect(renamed.getByRole('button', { name: 'Rename' })).toBeFocused();
    await expect(page.getByRole('listitem', { name: 'Passkey: Work laptop' })).toBeVisible();
  });
});

/** A person with a passkey on this browser comes back, types their email, presses Continue
 * and cancels the prompt (the authenticator does not verify them until told otherwise). */
async function cancelPasskeyAtLogin(page: Page, authenticator: VirtualAuthenticator, prefix: string) {
  const email = uniqueEmail(prefix);
  await signUpWithPasskey(page, email);
  await forgetBrowser(page);
  await page.goto('/login');
  await waitForApp(page);
  await authenticator.setUserVerified(false);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  return email;
}

test.describe('after failed passkey prompts, the password', () => {
  test('a cancelled prompt offers "Try again" and "Use password instead"', async ({ page, authenticator }) => {
    const email = await cancelPasskeyAtLogin(page, authenticator!, 'cancelled');

    await expect(statusWith(page, /cancelled/)).toBeVisible();
    await expect(page.getByLabel('Password', { exact: true })).toHaveCount(0);
    await keepScreenshots(page, 'login-cancelled-offer');
    await page.getByRole('button', { name: 'Use password instead' }).click();
    await expect(page.getByLabel('Email', { exact: true })).toHaveValue(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectDashboard(page, email);
  });

  test('three failed prompts in a row open the password step by itself, the email kept', async ({
    page,
    authenticator,
  }) => {
    const email = await cancelPasskeyAtLogin(page, authenticator!, 'three-times');
    for (let attempt = 2; attempt <= 3; attempt++) {
      await expect(statusWith(page, /cancelled/)).toBeVisible();
      await page.getByRole('button', { name: 'Try again' }).click();
    }
    await expect(statusWith(page, /did not work three times in a row/)).toBeVisible();
    await expect(page.getByRole('button', { name: 'Try again' })).toHaveCount(0);
    await expect(page.getByLabel('Email', { exact: true })).toHaveValue(email);
    await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
    await keepScreenshots(page, 'login-three-failures');

    // "Try again" worked each time: the fourth prompt, now verified, still signs in.
    await authenticator!.setUserVerified(true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectDashboard(page, email);
  });
});

test.describe('passkey intelligence', () => {
  test('two cancelled prompts pause passkey login on this browser: the next visit goes straight to the password', async ({
    page,
    authenticator,
  }) => {
    const email = await cancelPasskeyAtLogin(page, authenticator!, 'paused');
    await expect(statusWith(page, /cancelled/)).toBeVisible();
    // The second cancel, with the same passkey provider; the page tells the service.
    const reported = page.waitForResponse((r) => r.url().includes('/v2/connect/events') && r.status() === 204);
    await page.getByRole('button', { name: 'Try again' }).click();
    await reported;

    // The next visit offers no passkey at all: Continue opens the password step at once.
    await page.goto('/login');
    await waitForApp(page);
    await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toHaveCount(0);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
    expect(await authenticator!.credentials()).toHaveLength(1);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectDashboard(page, email);
  });
});

test.describe('the automatic passkey upgrade', () => {
  test('after a password sign-in the browser is asked for a passkey without a dialog, and the offer works meanwhile', async ({
    page,
    authenticator,
  }) => {
    await recordCreateCalls(page);
    await page.goto('/login');
    // This Chromium can do conditional create (the page asks before trying it).
    const capable = await page.evaluate(
      async () => (await PublicKeyCredential.getClientCapabilities()).conditionalCreate === true,
    );
    expect(capable).toBe(true);

    const email = uniqueEmail('upgrade');
    await signUp(page, email);
    await expect(page).toHaveURL(pathIs('/append'));
    // The silent request: its own challenge, no verification asked. Chromium grants it only
    // after its own password manager filled the password, so the virtual authenticator leaves
    // it pending: the offer below is what the person uses here.
    await expect.poll(() => createCalls(page)).toHaveLength(1);
    const [silent] = await createCalls(page);
    expect(silent).toMatchObject({
      mediation: 'conditional',
      userName: email,
      userVerification: 'preferred',
      residentKey: 'required',
      attestation: 'none',
    });
    await createPasskeyAtAppend(page);
    await expectDashboard(page, email);
    const calls = await createCalls(page);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ mediation: null, userName: email, userVerification: 'required' });
    expect(calls[1].challenge).not.toBe(silent.challenge);
    expect(await authenticator!.credentials()).toHaveLength(1);
  });

  test('"Create passkey" on the passkey list asks with a dialog only', async ({ page }) => {
    await recordCreateCalls(page);
    const email = uniqueEmail('upgrade-list');
    await signUp(page, email);
    await skipAppend(page, '/dashboard');
    await page.goto('/passkeys');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await expect(passkeysListed(page)).toHaveCount(1);
    // The first call was the append step's silent one.
    const onTheList = (await createCalls(page)).slice(1);
    expect(onTheList.map((call) => call.mediation)).toEqual([null]);
  });
});

test.describe('keeping the password manager in step', () => {
  test('after a passkey login and after a password login the browser learns the accepted passkeys', async ({
    page,
    authenticator,
  }) => {
    await recordSignalCalls(page);
    const email = uniqueEmail('signals');
    await signUpWithPasskey(page, email);
    const [credential] = await authenticator!.credentials();
    const expected = {
      rpId: 'localhost',
      userId: base64url(credential.userHandle!),
      allAcceptedCredentialIds: [base64url(credential.credentialId)],
    };
    const user = { rpId: 'localhost', userId: expected.userId, name: email, displayName: email };

    // A passkey login: the signals come with the login, before the page moves on.
    await signOut(page);
    await clearSignalCalls(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectDashboard(page, email);
    expect(await signalCalls(page)).toEqual([
      { name: 'signalAllAcceptedCredentials', options: expected },
      { name: 'signalCurrentUserDetails', options: user },
    ]);

    // A password login: the append step signals the same (it offers nothing here, since
    // this browser made the passkey).
    await signOut(page);
    await clearSignalCalls(page);
    await page.goto(`/login?email=${encodeURIComponent(email)}`);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectDashboard(page, email);
    await expect
      .poll(() => signalCalls(page))
      .toEqual([
        { name: 'signalAllAcceptedCredentials', options: expected },
        { name: 'signalCurrentUserDetails', options: user },
      ]);
  });
});

test.describe('the console', () => {
  test.beforeAll(async ({ browser }) => {
    await createAccount(browser, metadata().operator);
  });

  test('the Settings page shows the passkey policy and the related origins', async ({ page }) => {
    const { operator, relatedOrigin } = metadata();
    await signIn(page, operator);
    await skipAppend(page, '/dashboard');
    await page.getByRole('link', { name: 'Console' }).click();
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    const policy = page.getByRole('region', { name: 'Passkey policy' });
    const rules = policy.getByRole('list', { name: 'Which new passkeys are kept' });
    await expect(rules).toContainText('Only synced passkeys (device-bound ones are refused)');
    await expect(rules).toContainText('User verification required');
    await expect(rules).toContainText('Automatic upgrade on');
    await expect(policy.getByRole('listitem').filter({ hasText: relatedOrigin })).toBeVisible();
    await keepScreenshots(page, 'console-policy');
    await expectAccessible(page, 'the Settings page with the policy');
  });
});

test('/.well-known/webauthn lists the related origins for browsers', async ({ request }) => {
  const res = await request.get('/.well-known/webauthn');
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('application/json');
  expect(await res.json()).toEqual({ origins: [metadata().relatedOrigin] });
});

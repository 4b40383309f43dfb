import type { Page } from '@playwright/test';

import {
  alertWith,
  createAccount,
  createPasskeyAtAppend,
  expect,
  expectAccessible,
  expectReflow,
  expectDashboard,
  forgetBrowser,
  keepScreenshots,
  pathIs,
  personBrowser,
  signIn,
  signUp,
  signUpWithPasskey,
  skipAppend,
  statusWith,
  submitPassword,
  test,
  uniqueEmail,
} from './helpers';

// The operator console (docs/console.md), on its own app and fresh database: an operator
// (LATCHKEY_ADMIN_EMAILS) signs in and works on the accounts of people who use the site in
// other browser contexts at the same time.

/** The operator's email, as the project configures it. */
function operatorEmail(): string {
  return test.info().project.metadata.operator as string;
}

/** Signs the operator in with the password and opens the console's Overview. */
async function openConsole(page: Page) {
  await signIn(page, operatorEmail());
  await skipAppend(page, '/dashboard');
  await page.getByRole('link', { name: 'Console' }).click();
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
}

/** Finds `email` with "Search accounts" and opens its page. */
async function openAccount(page: Page, email: string) {
  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await page.getByLabel('Search accounts').fill(email);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('link', { name: email }).click();
  await expect(page.getByRole('heading', { name: email, level: 1 })).toBeVisible();
}

/** Today's row of the Overview's CSV, by column. */
async function todayInCsv(page: Page): Promise<Record<string, number>> {
  const res = await page.request.get('/admin/overview.csv?days=7');
  expect(res.status()).toBe(200);
  const [header, ...rows] = (await res.text()).trim().split('\n');
  expect(header).toBe(
    'date,passkey_logins,password_logins,oidc_logins,passkeys_created,append_skipped,passkey_fallbacks',
  );
  const today = rows[rows.length - 1].split(',');
  const names = header.split(',');
  return Object.fromEntries(names.slice(1).map((name, i) => [name, Number(today[i + 1])]));
}

// Once per run: the database is fresh, and a worker that restarts after a failure finds the
// account there already (its sign-up is then refused, which is fine).
let operatorCreated = false;
test.beforeAll(async ({ browser }) => {
  if (!operatorCreated) {
    operatorCreated = true;
    await createAccount(browser, test.info().project.metadata.operator as string).catch(() => {});
  }
});

test('the CSV counts exactly the logins, passkeys and skips people just made', async ({
  page,
  browser,
}) => {
  await openConsole(page);
  const before = await todayInCsv(page);

  // Ann signs up and creates a passkey; Bob signs up and skips; Ann comes back with her
  // passkey, and the append step, knowing the passkey is on this device, forwards by itself.
  const ann = await personBrowser(browser);
  const annEmail = uniqueEmail('ann');
  await signUpWithPasskey(ann.page, annEmail);
  const bob = await personBrowser(browser);
  await signUp(bob.page, uniqueEmail('bob'));
  await skipAppend(bob.page);
  await forgetBrowser(ann.page);
  await ann.page.goto('/login');
  await ann.page.getByLabel('Email', { exact: true }).fill(annEmail);
  await ann.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expectDashboard(ann.page, annEmail);
  await ann.context.close();
  await bob.context.close();

  const after = await todayInCsv(page);
  const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  expect(delta).toEqual({
    passkey_logins: 1,
    password_logins: 2,
    oidc_logins: 0,
    passkeys_created: 1,
    append_skipped: 2,
    passkey_fallbacks: 0,
  });
});

test('the console does not exist for anyone but an operator', async ({ page, browser }) => {
  const email = uniqueEmail('curious');
  await signUp(page, email);
  await skipAppend(page);
  await expect(page.getByRole('link', { name: 'Console' })).toHaveCount(0);
  for (const path of ['/admin', '/admin/accounts', '/admin/settings']) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  }
  const call = await page.request.post('/api/admin/settings', {
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(call.status()).toBe(404);
  // Exactly what an unknown address answers.
  const unknown = await page.request.get('/no-such-page');
  expect(unknown.status()).toBe(404);
  const same = await page.request.get('/admin');
  const withoutNonce = (html: string) => {
    const nonce = /nonce="([^"]+)"/.exec(html)?.[1] ?? '';
    return html.split(nonce).join('#');
  };
  expect(withoutNonce(await same.text())).toBe(withoutNonce(await unknown.text()));
  void browser;
});

test('"Sign out everywhere" sends the person to /login on their next navigation', async ({
  page,
  browser,
}) => {
  const person = await personBrowser(browser);
  const email = uniqueEmail('everywhere');
  await signUp(person.page, email);
  await skipAppend(person.page);
  await expectDashboard(person.page, email);

  await openConsole(page);
  await openAccount(page, email);
  // Its open session is listed (how the login was made, among the rest).
  await expect(page.getByRole('cell', { name: 'password', exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(page.getByText('No open sessions.')).toBeVisible();

  await person.page.getByRole('link', { name: 'Passkeys' }).click();
  await expect(person.page).toHaveURL(pathIs('/login'));
  await person.context.close();
});

test('"Delete" on a passkey: its next login falls back to the password', async ({
  page,
  browser,
}) => {
  const person = await personBrowser(browser);
  const email = uniqueEmail('deleted');
  await signUpWithPasskey(person.page, email);

  await openConsole(page);
  await openAccount(page, email);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('button', { name: 'Delete passkey' });
  await expect(confirm).toBeFocused();
  await confirm.click();
  await expect(page.getByText('No passkeys.')).toBeVisible();

  await forgetBrowser(person.page);
  await person.page.goto('/login');
  await person.page.getByLabel('Email', { exact: true }).fill(email);
  await person.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(statusWith(person.page, /passkey was removed/i)).toBeVisible();
  await submitPassword(person.page, email);
  await skipAppend(person.page);
  await person.context.close();

  // The timeline says who did it, and the passkey decisions why nothing was offered after.
  await page.reload();
  await expect(page.getByRole('cell', { name: `by ${operatorEmail()}` }).first()).toBeVisible();
  const decisions = page.getByRole('list', { name: 'Passkey decisions' }).getByRole('listitem');
  await expect(decisions.first()).toContainText('append: no offer');
  await expect(decisions.first()).toContainText('because the person chose Skip');
  await keepScreenshots(page, 'console-account-decisions');
});

test('"Disable account" stops both the password and the passkey; "Enable account" undoes it', async ({
  page,
  browser,
}) => {
  const person = await personBrowser(browser);
  const email = uniqueEmail('disabled');
  await signUpWithPasskey(person.page, email);

  await openConsole(page);
  await openAccount(page, email);
  await expect(page.getByText('Active', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Disable account' }).click();
  await expect(page.getByText('Disabled', { exact: true })).toBeVisible();

  await person.page.goto('/dashboard');
  await expect(person.page).toHaveURL(pathIs('/login'));
  await person.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(alertWith(person.page, /did not work/i)).toBeVisible();
  await person.page.goto(`/login?email=${encodeURIComponent(email)}`);
  await submitPassword(person.page, email);
  await expect(alertWith(person.page, /email or password is wrong/i)).toBeVisible();

  // The Events page finds the change, with its OCSF record.
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByLabel('Type').selectOption('account.disabled');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/type=account.disabled/);
  const row = page.getByRole('row').filter({ hasText: 'status: Active → Disabled' });
  await expect(row).toHaveCount(1);
  await row.getByText('OCSF JSON').click();
  await expect(row.getByText('"class_name": "Account Change"')).toBeVisible();

  await openAccount(page, email);
  await page.getByRole('button', { name: 'Enable account' }).click();
  await expect(page.getByText('Active', { exact: true })).toBeVisible();
  await person.page.goto(`/login?email=${encodeURIComponent(email)}`);
  await submitPassword(person.page, email);
  await expect(person.page).toHaveURL(/\/(append|dashboard)/);
  await person.context.close();
});

test('"Passkeys enabled" off: no passkey option and no offer; on again restores them', async ({
  page,
  browser,
}) => {
  await openConsole(page);
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  const enabled = page.getByLabel('Passkeys enabled');
  const save = page.getByRole('button', { name: 'Save settings' });

  // A refused value says why, next to its field, and nothing is saved.
  await page.getByLabel('Login rollout (%)').fill('250');
  await save.click();
  await expect(page.getByText('Must be 0 to 100 (got 250).')).toBeVisible();
  await expect(page.getByLabel('Login rollout (%)')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Login rollout (%)').fill('100');

  await enabled.uncheck();
  await save.click();
  await expect(page.getByRole('status')).toContainText('passkeys_enabled: true → false');
  try {
    const person = await personBrowser(browser);
    await person.page.goto('/login');
    await expect(person.page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(person.page.getByRole('button', { name: 'Sign in with a passkey' })).toHaveCount(0);
    const email = uniqueEmail('switched-off');
    await signUp(person.page, email);
    // No offer: the append step forwards by itself.
    await expectDashboard(person.page, email);
    await person.context.close();
  } finally {
    await enabled.check();
    await save.click();
    await expect(page.getByRole('status')).toContainText('passkeys_enabled: false → true');
  }
  const person = await personBrowser(browser);
  await person.page.goto('/login');
  await expect(person.page.getByRole('button', { name: 'Sign in with a passkey' })).toBeVisible();
  await signUp(person.page, uniqueEmail('switched-on'));
  await createPasskeyAtAppend(person.page);
  await expect(person.page).toHaveURL(pathIs('/dashboard'));
  await person.context.close();
});

test('the Overview charts are readable at desktop and phone width', async ({ page }, testInfo) => {
  await openConsole(page);
  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    const chart = page.getByRole('img', { name: 'Logins per day by method' });
    await expect(chart).toBeVisible();
    expect((await chart.boundingBox())!.height).toBeGreaterThan(100);
    // Kept in test-results/ as an artifact of every run.
    const path = testInfo.outputPath(`overview-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    await testInfo.attach(`overview-${name}`, { path, contentType: 'image/png' });
  }
  // The same figures as a table, for screen readers and spreadsheets.
  await page.getByText('Show data').first().click();
  await expect(page.getByRole('columnheader', { name: 'Passkey logins' })).toBeVisible();
  await page.getByRole('link', { name: '7 days' }).click();
  await expect(page).toHaveURL(/days=7/);
  await expect(page.getByRole('img', { name: 'Logins per day by method' })).toBeVisible();
});

test('every console page: axe-core finds nothing serious, light or dark; no sideways scrolling at 320 px', async ({
  page,
}) => {
  test.setTimeout(90_000);
  await openConsole(page);
  const check = async (what: string) => {
    await expectAccessible(page, what);
    await expectReflow(page, what);
  };
  await check('overview');
  await openAccount(page, operatorEmail());
  await check('account');
  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Accounts', level: 1 })).toBeVisible();
  await check('accounts');
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await check('settings');
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Events', level: 1 })).toBeVisible();
  await check('events');
});

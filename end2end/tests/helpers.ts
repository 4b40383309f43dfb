import { test as base, expect, type Browser, type Page } from '@playwright/test';

// Helpers for the journey tests. They use only the accessible names of the UI contract
// (design.md §5, and the journey rules in §1): headings, labelled fields, buttons,
// links and role="alert".

export const PASSWORD = 'correct horse battery';

/** `test` that also fails when the page throws an uncaught error (a wasm panic, a
 * hydration error). Console messages are collected and printed on failure. */
export const test = base.extend<{ pageErrors: string[] }>({
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

// ---------------------------------------------------------------- sign up

/** Fills and submits the sign-up form on the current page (must be /signup). */
export async function submitSignUp(page: Page, email: string, password = PASSWORD) {
  await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
}

/** Opens /signup and creates an account. Does not wait for the landing page. */
export async function signUp(page: Page, email: string, password = PASSWORD) {
  await page.goto('/signup');
  await submitSignUp(page, email, password);
}

/** Creates an account in a separate, throw-away browser context, so the caller's
 * context stays anonymous. */
export async function createAccount(browser: Browser, email: string, password = PASSWORD) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signUp(page, email, password);
    await expect(page).toHaveURL(pathIs('/append'));
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------- sign in

/** Fills and submits the classic sign-in form on the current page (must be /login,
 * possibly with ?next=). */
export async function submitSignIn(page: Page, email: string, password = PASSWORD) {
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
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

/** Clicks "Sign out" and expects the sign-in page. */
export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
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

// Page weight: what a person's browser downloads, measured in Chromium against a running
// Latchkey (scripts/page-weight.sh starts a release build for it).
//
//   node end2end/tools/page-weight.mjs http://localhost:3950
//
// Three visits, each in a fresh browser context with an empty cache unless said otherwise:
//   cold /login       — the sign-in page until the app is interactive;
//   passkey sign-in   — /login → "Sign in with a passkey" → the dashboard, cold;
//   warm /login       — /login again in the same context (what the cache saves).
// For each: requests, bytes over the wire (headers + encoded bodies, as Chromium's network
// layer counts them) and decoded body bytes. Prints a Markdown table and the raw JSON.

import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://localhost:3950';
const PASSWORD = 'correct horse battery';

// The virtual authenticator answers conditional requests at once; the page must not sign
// in by itself while it is measured.
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

async function authenticator(page) {
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
    },
  });
  return { cdp, authenticatorId };
}

/** Counts every response of `page` from now on, through the DevTools protocol. */
async function meter(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const responses = new Map();
  cdp.on('Network.responseReceived', (event) => {
    responses.set(event.requestId, { url: event.response.url, status: event.response.status, wire: 0, body: 0 });
  });
  cdp.on('Network.dataReceived', (event) => {
    const entry = responses.get(event.requestId);
    if (entry) entry.body += event.dataLength;
  });
  cdp.on('Network.loadingFinished', (event) => {
    const entry = responses.get(event.requestId);
    if (entry) entry.wire = event.encodedDataLength;
  });
  return {
    read() {
      const all = [...responses.values()];
      return {
        requests: all.length,
        wireBytes: all.reduce((sum, r) => sum + r.wire, 0),
        bodyBytes: all.reduce((sum, r) => sum + r.body, 0),
        largest: all
          .sort((a, b) => b.wire - a.wire)
          .slice(0, 4)
          .map((r) => `${new URL(r.url).pathname} ${r.status} ${r.wire} B`),
      };
    },
  };
}

async function interactive(page) {
  // Hydrated builds set this flag; older ones are given the network's quiet instead.
  await Promise.race([
    page.waitForFunction(() => window.__latchkeyHydrated === true, null, { timeout: 30_000 }),
    page.waitForLoadState('networkidle'),
  ]);
  await page.waitForLoadState('networkidle');
}

async function newContext(browser) {
  const context = await browser.newContext({ baseURL: base });
  await context.addInitScript(HIDE_CONDITIONAL_MEDIATION);
  return context;
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const results = {};
try {
  // An account with a passkey, made in its own context.
  const email = `weight-${Date.now()}@example.com`;
  const setup = await newContext(browser);
  const setupPage = await setup.newPage();
  const { cdp, authenticatorId } = await authenticator(setupPage);
  await setupPage.goto('/signup');
  await setupPage.getByLabel('Email', { exact: true }).fill(email);
  await setupPage.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await setupPage.getByRole('button', { name: 'Create account', exact: true }).click();
  await setupPage.waitForURL(/\/append/);
  const create = setupPage.getByRole('button', { name: 'Create passkey' });
  await create.waitFor();
  await create.click();
  await setupPage.waitForURL(/\/dashboard/);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  await setup.close();

  // Cold /login.
  {
    const context = await newContext(browser);
    const page = await context.newPage();
    const metered = await meter(page);
    await page.goto('/login');
    await interactive(page);
    results['cold /login'] = metered.read();

    // The same context again: what the cache saves.
    const warm = await context.newPage();
    const meteredWarm = await meter(warm);
    await warm.goto('/login');
    await interactive(warm);
    results['warm /login'] = meteredWarm.read();
    await context.close();
  }

  // A full passkey sign-in, cold.
  {
    const context = await newContext(browser);
    const page = await context.newPage();
    const device = await authenticator(page);
    for (const credential of credentials) {
      await device.cdp.send('WebAuthn.addCredential', {
        authenticatorId: device.authenticatorId,
        credential,
      });
    }
    const metered = await meter(page);
    await page.goto('/login');
    await interactive(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    // Builds that show the passkey offer after a login with this device's own passkey make
    // the person press Skip: that is part of their sign-in.
    const skip = page.getByRole('button', { name: 'Skip', exact: true });
    const dashboard = page.getByRole('heading', { name: 'Dashboard' });
    await skip.or(dashboard).first().waitFor({ timeout: 30_000 });
    const skipPressed = await skip.isVisible();
    if (skipPressed) await skip.click();
    await page.waitForURL(/\/dashboard/);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.waitForLoadState('networkidle');
    results['passkey sign-in'] = { ...metered.read(), skipPressed };
    await context.close();
  }
} finally {
  await browser.close();
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
console.log('| visit | requests | over the wire | decoded |');
console.log('|---|---:|---:|---:|');
for (const [visit, r] of Object.entries(results)) {
  console.log(`| ${visit} | ${r.requests} | ${kb(r.wireBytes)} | ${kb(r.bodyBytes)} |`);
}
console.log('');
console.log(JSON.stringify(results, null, 2));

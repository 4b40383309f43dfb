// A real OpenID provider (panva/oidc-provider) for the end-to-end tests only: one
// confidential client, an in-memory account store, server-rendered sign-in and sign-up
// pages, and a control port that lets a test stop/start the IdP and see what it served.
//
//   node end2end/oidc/provider.mjs        (environment variables: see README.md here)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const env = (name, fallback) => process.env[name] || fallback;
const list = (value) => value.split(',').map((item) => item.trim()).filter(Boolean);

const HOST = '127.0.0.1';
const PORT = Number(env('OIDC_PORT', '4400'));
const CONTROL_PORT = Number(env('OIDC_CONTROL_PORT', '4401'));
const ISSUER = `http://${HOST}:${PORT}`;

const CLIENT = {
  client_id: env('OIDC_CLIENT_ID', 'latchkey-e2e'),
  client_secret: env('OIDC_CLIENT_SECRET', 'e2e-client-secret-0123456789abcdef'),
  redirect_uris: list(env('OIDC_REDIRECT_URIS', 'http://localhost:3200/auth/callback')),
  post_logout_redirect_uris: list(env('OIDC_POST_LOGOUT_REDIRECT_URIS', 'http://localhost:3200/login')),
  // Back-Channel Logout: when a session here ends, the relying party is told server to server.
  backchannel_logout_uri: env('OIDC_BACKCHANNEL_LOGOUT_URI', 'http://127.0.0.1:3200/auth/backchannel-logout'),
  backchannel_logout_session_required: true,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
// Sign-up may only send the browser back to the relying party.
const RETURN_ORIGINS = new Set(CLIENT.redirect_uris.map((uri) => new URL(uri).origin));

// ------------------------------------------------------------------ accounts

const accountsByEmail = new Map(); // lower-cased email -> { sub, email, password, name }
const accountsBySub = new Map();
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// Returns { status: 201, account } or { status: 400 | 409, message }.
function createAccount({ email, password, name }) {
  const trimmed = typeof email === 'string' ? email.trim() : '';
  const key = trimmed.toLowerCase();
  if (!EMAIL_RE.test(key)) return { status: 400, message: 'Enter a valid email address.' };
  if (typeof password !== 'string' || password.length < 8) {
    return { status: 400, message: 'The password must have at least 8 characters.' };
  }
  if (accountsByEmail.has(key)) return { status: 409, message: 'An account with this email already exists.' };
  // An opaque subject, so the relying party cannot get away with keying users by email.
  const sub = `user-${randomBytes(8).toString('hex')}`;
  const account = { sub, email: trimmed, password, name: name || undefined };
  accountsByEmail.set(key, account);
  accountsBySub.set(account.sub, account);
  return { status: 201, account };
}

function checkPassword(email, password) {
  const account = accountsByEmail.get(String(email ?? '').trim().toLowerCase());
  return account && account.password === password ? account : undefined;
}

createAccount({
  email: env('OIDC_TEST_EMAIL', 'ada@example.com'),
  password: env('OIDC_TEST_PASSWORD', 'correct horse battery staple'),
  name: env('OIDC_TEST_NAME', 'Ada Lovelace'),
});

// ------------------------------------------------------------------ HTML

const esc = (value) => String(value ?? '')
  .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const page = (title, body) => `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
${body}
</body>
</html>`;

const alert = (message) => (message ? `<p role="alert">${esc(message)}</p>` : '');

// type="text", not "email": the browser's own validation must not hide the server's messages.
const credentialFields = (email, passwordAutocomplete) => `
  <p><label for="email">Email</label>
  <input id="email" name="email" type="text" inputmode="email" autocomplete="username" value="${esc(email)}"></p>
  <p><label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="${passwordAutocomplete}"></p>`;

const loginPage = (uid, email, message) => page('Sign in to Test IdP', `
<h1>Sign in to Test IdP</h1>
${alert(message)}
<form method="post" action="/interaction/${esc(uid)}/login">${credentialFields(email, 'current-password')}
  <button type="submit">Sign in</button>
</form>
<p><a href="/register">Create an account</a></p>`);

const registerPage = (email, returnTo, message) => page('Create your Test IdP account', `
<h1>Create your Test IdP account</h1>
${alert(message)}
<form method="post" action="/register">${credentialFields(email, 'new-password')}
  ${returnTo ? `<input type="hidden" name="return_to" value="${esc(returnTo)}">` : ''}
  <button type="submit">Create account</button>
</form>`);

const errorPage = (out) => page('Test IdP error', `
<h1>Test IdP error</h1>
<p role="alert">${esc(out.error)}${out.error_description ? `: ${esc(out.error_description)}` : ''}</p>`);

// ------------------------------------------------------------------ provider

// Generated per process: /stop and /start keep this process, so the JWKS stays the same.
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: `e2e-${randomBytes(4).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

const provider = new Provider(ISSUER, {
  clients: [CLIENT],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['latchkey-e2e-cookie-key-not-secret'] },
  // The library refuses outgoing requests to loopback addresses (SSRF protection); here the
  // relying party that receives back-channel logouts is on loopback by design.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource(ctx, form) {
        ctx.body = page('Sign out of Test IdP', `
<h1>Sign out of Test IdP</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out of Test IdP', `
<h1>Signed out of Test IdP</h1>
<p>You are signed out.</p>`);
      },
    },
  },
  async findAccount(ctx, sub) {
    const account = accountsBySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { email, name } = account;
        return { sub, email, email_verified: true, ...(name ? { name } : {}) };
      },
    };
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = errorPage(out);
  },
  // The library's own defaults, set explicitly only to silence its "you SHOULD change" notices.
  ttl: {
    AccessToken: 60 * 60,
    AuthorizationCode: 60,
    IdToken: 60 * 60,
    Interaction: 60 * 60,
    Grant: 14 * 24 * 60 * 60,
    Session: 14 * 24 * 60 * 60,
  },
});
provider.proxy = false;

// The request log says only "400"; say why.
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error',
  'revocation.error', 'backchannel.error', 'server_error']) {
  provider.on(event, (ctx, err) => {
    console.log(`  ${event}: ${err.error ?? err.name} ${err.error_description ?? err.message}`
      + `${err.error_detail ? ` (${err.error_detail})` : ''}${err.cause ? ` [${err.cause}]` : ''}`);
  });
}

async function readBody(req, limit = 64 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new errors.InvalidRequest('request body too large');
  }
  return body;
}

const readForm = async (req) => Object.fromEntries(new URLSearchParams(await readBody(req)));

function seeOther(ctx, location) {
  ctx.redirect(location);
  ctx.status = 303;
}

function safeReturnTo(value) {
  const url = URL.parse(value ?? '');
  return url && ['http:', 'https:'].includes(url.protocol) && RETURN_ORIGINS.has(url.origin)
    ? url.href : undefined;
}

async function interaction(ctx, uid) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction does not match its cookie');
  return details;
}

// The test client is first-party: grant whatever scopes and claims it asks for.
async function grantConsent(ctx, details) {
  const { prompt: { details: missing }, params, session: { accountId } } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  seeOther(ctx, await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }));
}

const routes = [
  ['GET', /^\/interaction\/([\w-]+)$/, async (ctx, uid) => {
    const details = await interaction(ctx, uid);
    if (details.prompt.name === 'consent') return grantConsent(ctx, details);
    if (details.prompt.name !== 'login') {
      throw new errors.InvalidRequest(`unsupported prompt ${details.prompt.name}`);
    }
    ctx.body = loginPage(uid, details.params.login_hint);
  }],
  ['POST', /^\/interaction\/([\w-]+)\/login$/, async (ctx, uid) => {
    const details = await interaction(ctx, uid);
    if (details.prompt.name !== 'login') throw new errors.InvalidRequest('this interaction is not a sign-in');
    const { email, password } = await readForm(ctx.req);
    const account = checkPassword(email, password);
    if (!account) {
      ctx.body = loginPage(uid, email, 'Wrong email or password.');
      return;
    }
    const result = { login: { accountId: account.sub } };
    const options = { mergeWithLastSubmission: false };
    seeOther(ctx, await provider.interactionResult(ctx.req, ctx.res, result, options));
  }],
  ['GET', /^\/register$/, async (ctx) => {
    ctx.body = registerPage('', ctx.query.return_to);
  }],
  ['POST', /^\/register$/, async (ctx) => {
    const form = await readForm(ctx.req);
    const returnTo = form.return_to || ctx.query.return_to;
    const { status, message } = createAccount({ email: form.email, password: form.password });
    if (message) {
      ctx.status = status;
      ctx.body = registerPage(form.email, returnTo, message);
      return;
    }
    const target = safeReturnTo(returnTo);
    if (target) {
      seeOther(ctx, target);
    } else {
      ctx.status = 201;
      ctx.body = page('Account created', '<h1>Account created</h1>\n<p role="status">Account created.</p>');
    }
  }],
];

function matchRoute(method, path) {
  for (const [routeMethod, pattern, handler] of routes) {
    const match = routeMethod === method && pattern.exec(path);
    if (match) return (ctx) => handler(ctx, ...match.slice(1));
  }
  return undefined;
}

// Runs before oidc-provider's own routes; errors here bypass its renderError, so render them alike.
provider.use(async (ctx, next) => {
  const handler = matchRoute(ctx.method, ctx.path);
  if (!handler) return next();
  try {
    await handler(ctx);
  } catch (err) {
    if (err instanceof errors.OIDCProviderError) {
      console.log(`  interaction error: ${err.error} ${err.error_description}`);
    } else {
      console.error(err);
    }
    ctx.status = err.statusCode ?? 500;
    ctx.type = 'html';
    ctx.body = errorPage({ error: err.error ?? 'server_error', error_description: err.error_description });
  }
});

// ------------------------------------------------------------------ servers

let served = []; // { method, path } of every IdP request since the last /requests/reset

function logRequest(prefix, req, res, path) {
  res.on('close', () => console.log(`${prefix} ${req.method} ${path} ${res.statusCode}`));
}

const providerCallback = provider.callback();
const idp = http.createServer((req, res) => {
  // Paths only: queries carry codes and tokens and are not needed to tell requests apart.
  const path = new URL(req.url, ISSUER).pathname;
  served.push({ method: req.method, path });
  logRequest('idp', req, res, path);
  providerCallback(req, res);
});

// Serialised, so a /start racing a /stop cannot leave the socket in a half state.
let transition = Promise.resolve();
function setIdp(up) {
  const step = transition.catch(() => {}).then(() => (up ? listenIdp() : closeIdp()));
  transition = step;
  return step;
}

function listenIdp() {
  if (idp.listening) return undefined;
  return new Promise((resolve, reject) => {
    idp.once('error', reject);
    idp.listen(PORT, HOST, () => {
      idp.off('error', reject);
      resolve();
    });
  });
}

function closeIdp() {
  if (!idp.listening) return undefined;
  const closed = new Promise((resolve) => { idp.close(resolve); });
  // Kept-alive connections would otherwise keep answering after the "stop".
  idp.closeAllConnections();
  return closed;
}

function sendJson(res, status, value) {
  const body = value === undefined ? '' : JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const controlRoutes = {
  'GET /healthz': (req, res) => sendJson(res, 200, { status: 'ok', idp: idp.listening ? 'up' : 'down' }),
  'POST /stop': async (req, res) => {
    await setIdp(false);
    sendJson(res, 200, { idp: 'down' });
  },
  'POST /start': async (req, res) => {
    await setIdp(true);
    sendJson(res, 200, { idp: 'up' });
  },
  'POST /accounts': async (req, res) => {
    let input;
    try {
      input = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, { error: 'expected a JSON body {email, password, name?}' });
    }
    const { status, message, account } = createAccount(input ?? {});
    return sendJson(res, status, message ? { error: message } : { sub: account.sub, email: account.email });
  },
  'GET /requests': (req, res) => sendJson(res, 200, served),
  'POST /requests/reset': (req, res) => {
    served = [];
    sendJson(res, 204);
  },
};

const control = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://control').pathname;
  logRequest('control', req, res, path);
  const handler = controlRoutes[`${req.method} ${path}`];
  try {
    if (handler) await handler(req, res);
    else sendJson(res, 404, { error: `no route ${req.method} ${path}` });
  } catch (err) {
    console.error(err);
    if (!res.headersSent) sendJson(res, 500, { error: String(err.message ?? err) });
  }
});

function shutdown(signal) {
  console.log(`test OpenID provider: ${signal}, exiting`);
  for (const server of [idp, control]) {
    server.close();
    server.closeAllConnections();
  }
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

try {
  await setIdp(true);
  await new Promise((resolve, reject) => {
    control.once('error', reject);
    control.listen(CONTROL_PORT, HOST, resolve);
  });
} catch (err) {
  console.error(`test OpenID provider: cannot listen: ${err.message}`);
  process.exit(1);
}
console.log(`test OpenID provider: issuer ${ISSUER} (control ${HOST}:${CONTROL_PORT})`);

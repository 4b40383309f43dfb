// End-to-end check of the peer with a software authenticator (ES256, attestation "none"):
// one registration, two logins, and the rejections that matter. Needs a running peer.
//   PEER_URL=http://localhost:3900 node selftest.mjs
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';

const URL_ = process.env.PEER_URL || 'http://localhost:3900';
const RP_ID = process.env.PEER_RP_ID || 'localhost';
const ORIGIN = process.env.PEER_ORIGIN || 'http://localhost:3900';

const sha256 = (data) => createHash('sha256').update(data).digest();
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const u32 = (n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

// Just the CBOR the authenticator needs: text and byte strings, with their length headers.
function cborHead(major, len) {
  if (len < 24) return Buffer.from([(major << 5) | len]);
  if (len < 256) return Buffer.from([(major << 5) | 24, len]);
  return Buffer.from([(major << 5) | 25, len >> 8, len & 255]);
}
const cborBytes = (buf) => Buffer.concat([cborHead(2, buf.length), buf]);
const cborText = (s) => Buffer.concat([cborHead(3, Buffer.byteLength(s)), Buffer.from(s)]);

class Authenticator {
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.jwk = publicKey.export({ format: 'jwk' });
    this.credentialId = randomBytes(16);
    this.counter = 0;
  }

  // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
  coseKey() {
    return Buffer.concat([
      Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21]),
      cborBytes(Buffer.from(this.jwk.x, 'base64url')),
      Buffer.from([0x22]),
      cborBytes(Buffer.from(this.jwk.y, 'base64url')),
    ]);
  }

  authData(flags, attested) {
    const parts = [sha256(RP_ID), Buffer.from([flags]), u32(++this.counter)];
    if (attested) {
      const idLen = Buffer.from([this.credentialId.length >> 8, this.credentialId.length & 255]);
      parts.push(Buffer.alloc(16), idLen, this.credentialId, this.coseKey()); // aaguid all zero
    }
    return Buffer.concat(parts);
  }

  clientData(type, challenge, origin = ORIGIN) {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  register(options, { flags = 0x45 } = {}) { // UP | UV | AT
    const clientDataJSON = this.clientData('webauthn.create', options.challenge);
    const attestationObject = Buffer.concat([
      Buffer.from([0xa3]),
      cborText('fmt'), cborText('none'),
      cborText('attStmt'), Buffer.from([0xa0]),
      cborText('authData'), cborBytes(this.authData(flags, true)),
    ]);
    this.userHandle = options.user.id;
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: 'public-key',
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  login(options, { flags = 0x05, origin, counter, tamper = false } = {}) { // UP | UV
    if (counter !== undefined) this.counter = counter - 1;
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, origin);
    const authenticatorData = this.authData(flags, false);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.privateKey);
    if (tamper) signature[signature.length - 1] ^= 0x01; // still valid DER, wrong s
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authenticatorData),
        signature: b64u(signature),
        userHandle: this.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}

async function call(path, body, raw = false) {
  const res = await fetch(URL_ + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json, cookie: res.headers.get('set-cookie'), type: res.headers.get('content-type') };
}

let passed = 0;
const failures = [];
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failures.push(name);
    console.log(`FAIL ${name}: ${err.message}`);
  }
}
function expect(res, status, what = '') {
  const ok = Array.isArray(status) ? status.includes(res.status) : res.status === status;
  if (!ok) throw new Error(`expected ${status}${what}, got ${res.status} ${JSON.stringify(res.json)}`);
  return res;
}
const expect4xx = (res) => expect(res, [400, 401, 403, 404, 409, 410]);

// The peer may still be starting (the run command only sleeps 2 s): wait up to 30 s for it.
for (let waited = 0; ; waited += 250) {
  const up = await fetch(`${URL_}/healthz`).then((r) => r.ok, () => false);
  if (up) break;
  if (waited >= 30000) {
    console.log(`FAIL the peer at ${URL_} did not answer /healthz within 30 s\n0 passed, 1 failed`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}

const email = `selftest-${randomUUID()}@example.com`;
const auth = new Authenticator();
let registerCeremony;
let loginCeremony;

await check('GET /healthz is 200 ok', async () => {
  const res = expect(await call('/healthz'), 200);
  if (res.json !== 'ok') throw new Error(`body ${JSON.stringify(res.json)}`);
});

await check('register a passkey', async () => {
  const start = expect(await call('/register/options', { email }), 200);
  const { ceremony, options } = start.json;
  if (!start.type?.startsWith('application/json')) throw new Error(`content-type ${start.type}`);
  if (options.rp.id !== RP_ID || options.authenticatorSelection.userVerification !== 'required')
    throw new Error(`options ${JSON.stringify(options)}`);
  registerCeremony = { ceremony, response: auth.register(options) };
  const done = expect(await call('/register/verify', registerCeremony), 200);
  if (done.json.verified !== true) throw new Error(JSON.stringify(done.json));
});

await check('a consumed register ceremony is refused (4xx)', async () => {
  expect4xx(await call('/register/verify', registerCeremony));
});

for (const n of [1, 2]) {
  await check(`login #${n} gives a session and cookie`, async () => {
    const start = expect(await call('/login/options', { email }), 200);
    const { ceremony, options } = start.json;
    if (!options.allowCredentials?.some((c) => c.id === b64u(auth.credentialId)))
      throw new Error(`allowCredentials ${JSON.stringify(options.allowCredentials)}`);
    loginCeremony = { ceremony, response: auth.login(options) };
    const done = expect(await call('/login/verify', loginCeremony), 200);
    if (!/^[A-Za-z0-9_-]{43}$/.test(done.json.session)) throw new Error(`session ${done.json.session}`);
    const cookie = done.cookie ?? '';
    if (!cookie.startsWith(`peer_session=${done.json.session};`) || !/HttpOnly/.test(cookie) || !/SameSite=Lax/.test(cookie) || !/Path=\//.test(cookie))
      throw new Error(`set-cookie ${cookie}`);
  });
}

// The server keeps the counter: signing again with a count it has already seen must fail.
await check('the stored counter moved (a replayed count is 401)', async () => {
  const { json } = expect(await call('/login/options', { email }), 200);
  expect(await call('/login/verify', { ceremony: json.ceremony, response: auth.login(json.options, { counter: auth.counter }) }), 401);
});

await check('a consumed login ceremony is refused (4xx)', async () => {
  expect4xx(await call('/login/verify', loginCeremony));
});

const refusedLogin = (name, tweak) =>
  check(name, async () => {
    const { json } = expect(await call('/login/options', { email }), 200);
    expect(await call('/login/verify', { ceremony: json.ceremony, response: auth.login(json.options, tweak) }), 401);
  });
await refusedLogin('a wrong origin in clientDataJSON is 401', { origin: 'https://evil.example' });
await refusedLogin('a tampered signature is 401', { tamper: true });
await refusedLogin('no user verification (UV flag off) is 401', { flags: 0x01 });

await check('a third login still works after the refusals', async () => {
  const { json } = expect(await call('/login/options', { email }), 200);
  expect(await call('/login/verify', { ceremony: json.ceremony, response: auth.login(json.options) }), 200);
});

await check('bad input is 400, unknown things 404, never 500', async () => {
  expect(await call('/register/options', '{not json', true), 400, ' for broken JSON');
  expect(await call('/register/options', { email: 42 }), 400, ' for a non-string email');
  expect(await call('/login/options', { email: `nobody-${randomUUID()}@example.com` }), 404, ' for an unknown email');
  expect(await call('/login/verify', { ceremony: 'nope', response: {} }), 400, ' for a non-uuid ceremony');
  expect(await call('/login/verify', { ceremony: randomUUID(), response: auth.login({ challenge: 'x' }) }), 404, ' for an unknown ceremony');
  expect(await call('/login/verify', { ceremony: randomUUID(), response: { id: 'AA', response: { clientDataJSON: 1 } } }), 400, ' for a malformed response');
});

console.log(`${passed} passed, ${failures.length} failed`);
if (failures.length) {
  console.log(`failed: ${failures.join('; ')}`);
  process.exit(1);
}

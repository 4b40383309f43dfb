// The comparison peer for Latchkey's load benchmark: a passkey login the way a typical
// Node service builds it with @simplewebauthn/server, on PostgreSQL. See README.md.
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import pg from 'pg';

// Only the workers need the library, and loading it takes a while (about 1 s on a busy
// 2-core machine): the primary skips it.
const {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} = cluster.isPrimary ? {} : await import('@simplewebauthn/server');

const DATABASE_URL = process.env.PEER_DATABASE_URL;
const ADDR = process.env.PEER_ADDR || '127.0.0.1:3900';
const RP_ID = process.env.PEER_RP_ID || 'localhost';
const ORIGIN = process.env.PEER_ORIGIN || 'http://localhost:3900';
const WORKERS = Number(process.env.PEER_WORKERS) || os.availableParallelism();
const POOL_SIZE = Number(process.env.PEER_POOL_SIZE) || 10;
const CEREMONY_TTL_MS = 5 * 60 * 1000;
const SESSION_TTL_S = 12 * 60 * 60;
const PURGE_EVERY_MS = 5 * 60 * 1000; // as often as Latchkey sweeps its own expired rows
const MAX_BODY = 64 * 1024;
// Secure keeps the session cookie off plain http; it is left off only for a local http origin.
const COOKIE_FLAGS = `Max-Age=${SESSION_TTL_S}; Path=/; HttpOnly; SameSite=Lax${ORIGIN.startsWith('https:') ? '; Secure' : ''}`;

const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS peer;
CREATE TABLE IF NOT EXISTS peer.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS peer.credentials (
  id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES peer.users ON DELETE CASCADE,
  public_key bytea NOT NULL,
  counter bigint NOT NULL,
  transports text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS credentials_user_id ON peer.credentials (user_id);
CREATE TABLE IF NOT EXISTS peer.challenges (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid REFERENCES peer.users ON DELETE CASCADE,
  challenge text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('register', 'login')),
  expires_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS challenges_expires_at ON peer.challenges (expires_at);
CREATE TABLE IF NOT EXISTS peer.sessions (
  id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES peer.users ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON peer.sessions (expires_at);
`;

if (!DATABASE_URL) {
  console.error('PEER_DATABASE_URL is required');
  process.exit(2);
}
const sep = ADDR.lastIndexOf(':');
const HOST = ADDR.slice(0, sep).replace(/^\[(.*)\]$/, '$1');
const PORT = Number(ADDR.slice(sep + 1));

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
function fail(status, message) { throw new HttpError(status, message); }

// The WebAuthn user handle is the user's opaque uuid, never the email (devices store it).
const userHandle = (userId) => Buffer.from(userId.replaceAll('-', ''), 'hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const B64URL = /^[A-Za-z0-9_-]+$/;

function email(body) {
  const e = body.email;
  if (typeof e !== 'string' || e.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(e)) fail(400, 'email must be an email address');
  return e.toLowerCase();
}

// Checked here so that malformed input is a 400; the library would throw for it, and its
// throws are otherwise taken as failed verification (401).
function ceremonyAndResponse(body, fields) {
  const { ceremony, response } = body;
  if (typeof ceremony !== 'string' || !UUID.test(ceremony)) fail(400, 'ceremony must be a uuid');
  if (typeof response !== 'object' || response === null) fail(400, 'response must be an object');
  if (typeof response.id !== 'string' || !B64URL.test(response.id)) fail(400, 'response.id must be base64url');
  if (typeof response.response !== 'object' || response.response === null) fail(400, 'response.response must be an object');
  for (const f of fields) {
    if (typeof response.response[f] !== 'string') fail(400, `response.response.${f} must be a base64url string`);
  }
  return { ceremony, response };
}

// One DELETE both reads and spends the challenge, so two racing requests cannot both use it;
// an expired row is spent too rather than left for the sweep.
async function consume(db, ceremony, kind) {
  const { rows } = await db.query(
    `DELETE FROM peer.challenges WHERE id = $1 AND kind = $2
     RETURNING user_id, challenge, expires_at > now() AS live`,
    [ceremony, kind],
  );
  if (rows.length === 0) fail(404, 'unknown ceremony');
  if (!rows[0].live) fail(400, 'ceremony expired');
  return rows[0];
}

async function saveChallenge(db, userId, challenge, kind) {
  const { rows } = await db.query(
    `INSERT INTO peer.challenges (user_id, challenge, kind, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id`,
    [userId, challenge, kind, CEREMONY_TTL_MS / 1000],
  );
  return rows[0].id;
}

// The library throws on most verification failures rather than returning verified: false.
async function verified(check) {
  try {
    const result = await check();
    if (result.verified) return result;
  } catch (err) {
    return fail(401, `verification failed: ${err.message}`);
  }
  return fail(401, 'verification failed');
}

const routes = {
  async 'POST /register/options'(db, body) {
    const address = email(body);
    // DO UPDATE (not DO NOTHING) so the id comes back even when a concurrent request
    // created the user first.
    const { rows: [user] } = await db.query(
      `INSERT INTO peer.users (email) VALUES ($1)
       ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
      [address],
    );
    const { rows: creds } = await db.query('SELECT id, transports FROM peer.credentials WHERE user_id = $1', [user.id]);
    const options = await generateRegistrationOptions({
      rpName: 'Peer',
      rpID: RP_ID,
      userName: address,
      userID: userHandle(user.id),
      attestationType: 'none',
      timeout: CEREMONY_TTL_MS,
      excludeCredentials: creds.map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    return { ceremony: await saveChallenge(db, user.id, options.challenge, 'register'), options };
  },

  async 'POST /register/verify'(db, body) {
    const { ceremony, response } = ceremonyAndResponse(body, ['clientDataJSON', 'attestationObject']);
    // Stored as text[]; anything else would fail in the database instead of here. (null is
    // what webauthn-rs sends for none.)
    const transports = response.response.transports ?? [];
    if (!Array.isArray(transports) || !transports.every((t) => typeof t === 'string')) fail(400, 'transports must be strings');
    const challenge = await consume(db, ceremony, 'register');
    const { registrationInfo } = await verified(() =>
      verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
      }),
    );
    const { credential } = registrationInfo;
    const { rowCount } = await db.query(
      `INSERT INTO peer.credentials (id, user_id, public_key, counter, transports)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [credential.id, challenge.user_id, Buffer.from(credential.publicKey), credential.counter, transports],
    );
    if (rowCount === 0) fail(400, 'credential already registered');
    return { verified: true };
  },

  async 'POST /login/options'(db, body) {
    const { rows } = await db.query(
      `SELECT u.id AS user_id, c.id, c.transports FROM peer.users u
       LEFT JOIN peer.credentials c ON c.user_id = u.id WHERE u.email = $1`,
      [email(body)],
    );
    if (rows.length === 0) fail(404, 'unknown email');
    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: rows.filter((r) => r.id !== null).map((r) => ({ id: r.id, transports: r.transports })),
      userVerification: 'required',
      timeout: CEREMONY_TTL_MS,
    });
    return { ceremony: await saveChallenge(db, rows[0].user_id, options.challenge, 'login'), options };
  },

  async 'POST /login/verify'(db, body, res) {
    const { ceremony, response } = ceremonyAndResponse(body, ['clientDataJSON', 'authenticatorData', 'signature']);
    const challenge = await consume(db, ceremony, 'login');
    const { rows: [cred] } = await db.query('SELECT user_id, public_key, counter, transports FROM peer.credentials WHERE id = $1', [response.id]);
    if (!cred) fail(404, 'unknown credential');
    // The user was named before the ceremony, so the credential (and the user handle the
    // authenticator returns, if any) must be that user's.
    if (cred.user_id !== challenge.user_id) fail(401, 'credential belongs to another user');
    const handle = response.response.userHandle;
    if (handle != null && handle !== userHandle(cred.user_id).toString('base64url')) fail(401, 'user handle belongs to another user');
    const { authenticationInfo } = await verified(() =>
      verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
        credential: {
          id: response.id,
          publicKey: new Uint8Array(cred.public_key),
          counter: Number(cred.counter),
          transports: cred.transports,
        },
      }),
    );
    const session = randomBytes(32).toString('base64url');
    // Counter and session in one statement: one round trip, and both or neither.
    await db.query(
      `WITH bump AS (UPDATE peer.credentials SET counter = $2 WHERE id = $1)
       INSERT INTO peer.sessions (id, user_id, expires_at) VALUES ($3, $4, now() + make_interval(secs => $5))`,
      [response.id, authenticationInfo.newCounter, session, cred.user_id, SESSION_TTL_S],
    );
    res.setHeader('set-cookie', `peer_session=${session}; ${COOKIE_FLAGS}`);
    return { session };
  },
};

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY) return reject(new HttpError(413, 'body too large'));
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error();
        resolve(body);
      } catch {
        reject(new HttpError(400, 'body must be a JSON object'));
      }
    });
  });
}

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function startWorker() {
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_SIZE });
  // An idle connection dropped by the server must not take the worker down; the pool reconnects.
  db.on('error', (err) => console.error(`peer worker ${process.pid}: idle connection: ${err.message}`));
  const server = http.createServer(async (req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/healthz' && req.method === 'GET') return send(res, 200, 'ok');
    const route = routes[`${req.method} ${path}`];
    try {
      if (!route) fail(...(routes[`POST ${path}`] ? [405, 'method not allowed'] : [404, 'not found']));
      send(res, 200, await route(db, await readJson(req), res));
    } catch (err) {
      if (!(err instanceof HttpError)) console.error(`peer: ${req.method} ${path}:`, err);
      res.removeHeader('set-cookie');
      send(res, err.status ?? 500, { error: err instanceof HttpError ? err.message : 'internal error' });
    }
  });
  server.listen(PORT, HOST);
  let stopping = false;
  const stop = () => {
    if (stopping) return; // Ctrl-C reaches the workers directly and again through the primary
    stopping = true;
    server.close(() => db.end().then(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function startPrimary() {
  const setup = new pg.Client({ connectionString: DATABASE_URL });
  await setup.connect();
  await setup.query(SCHEMA);
  await setup.end();

  // Unfinished ceremonies and old sessions would otherwise pile up under load.
  const janitor = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  janitor.on('error', () => {});
  const purge = setInterval(() => {
    janitor
      .query('DELETE FROM peer.challenges WHERE expires_at <= now(); DELETE FROM peer.sessions WHERE expires_at <= now()')
      .catch((err) => console.error(`peer: purge failed: ${err.message}`));
  }, PURGE_EVERY_MS);

  let listening = 0;
  let stopping = false;
  cluster.on('listening', () => {
    if (++listening === WORKERS) console.log(`peer listening on http://${ADDR}`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      // A benchmark on fewer workers than it thinks would be misleading: stop everything.
      console.error(`peer: worker ${worker.process.pid} died (${signal ?? code}); stopping`);
      process.exitCode = 1;
      stop();
    }
    if (Object.keys(cluster.workers).length === 0) {
      clearInterval(purge);
      janitor.end().finally(() => process.exit());
    }
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let i = 0; i < WORKERS; i++) cluster.fork();
}

if (cluster.isPrimary) {
  startPrimary().catch((err) => {
    console.error(`peer: startup failed: ${err.message}`);
    process.exit(1);
  });
} else {
  startWorker();
}

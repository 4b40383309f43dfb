-- The passkey service's own tables (portable SQL: TEXT and BIGINT only, booleans 0/1,
-- times in unix seconds). The service never reads the app's tables, so it can run alone
-- with its own database.

-- A user the service knows only by the backend's `identifier` (the app's stable user id).
-- `webauthn_user_id` is the WebAuthn user handle (a UUID) stored in discoverable credentials.
CREATE TABLE connect_users (
    id TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    webauthn_user_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per passkey. `passkey` is webauthn-rs's serialised `Passkey` (public key, counter,
-- flags); the other columns repeat what lists and checks need without parsing it.
CREATE TABLE connect_credentials (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES connect_users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    passkey TEXT NOT NULL,
    aaguid TEXT NOT NULL,
    transports TEXT NOT NULL,
    backup_eligible BIGINT NOT NULL,
    backup_state BIGINT NOT NULL,
    sign_count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_browser TEXT NOT NULL,
    created_os TEXT NOT NULL,
    created_client TEXT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX connect_credentials_user_id ON connect_credentials (user_id);

-- A browser as the service knows it: the hash of the opaque handle it keeps (clientEnvHandle).
-- It carries the stable rollout bucket and what the last passkey login on it looked like.
CREATE TABLE connect_clients (
    handle_hash TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    last_login_user_id TEXT,
    last_login_cross_device BIGINT NOT NULL
);

-- A frontend-API process (init → start → finish); the browser holds its id, we the hash.
CREATE TABLE connect_processes (
    id_hash TEXT PRIMARY KEY,
    client_hash TEXT NOT NULL,
    login_allowed BIGINT NOT NULL,
    append_allowed BIGINT NOT NULL,
    manage_allowed BIGINT NOT NULL,
    platform_authenticator BIGINT NOT NULL,
    browser TEXT NOT NULL,
    os TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX connect_processes_expires_at ON connect_processes (expires_at);

-- A pending WebAuthn ceremony: webauthn-rs's state, bound to its process, its slot
-- (append, login, login-cui) and, except for discoverable logins, its user. Consumed exactly
-- once with DELETE … RETURNING; a new start in the same slot replaces the old one.
CREATE TABLE connect_challenges (
    id TEXT PRIMARY KEY,
    process_hash TEXT NOT NULL REFERENCES connect_processes (id_hash) ON DELETE CASCADE,
    slot TEXT NOT NULL,
    ceremony TEXT NOT NULL,
    user_id TEXT,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (process_hash, slot)
);
CREATE INDEX connect_challenges_expires_at ON connect_challenges (expires_at);

-- Connect tokens: the backend asks for one per user and action; the browser holds the
-- `ctk1_…` secret, we keep its SHA-256. Consumed atomically (status initial → consumed).
CREATE TABLE connect_tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    token_type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX connect_tokens_expires_at ON connect_tokens (expires_at);

-- Signed passkey data that was issued and not yet verified, by its `jti`. Verification
-- deletes the row (DELETE … RETURNING), so each token verifies once.
CREATE TABLE connect_signed_data (
    jti TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    identifier TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX connect_signed_data_expires_at ON connect_signed_data (expires_at);

-- What happened: events the browser reports (/v2/connect/events) and what the service
-- records itself (a refused counter regression, ...).
CREATE TABLE connect_events (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    process_hash TEXT,
    user_id TEXT,
    credential_id TEXT,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX connect_events_created_at ON connect_events (created_at);

-- Portable SQL: the same file runs on SQLite and PostgreSQL (TEXT and BIGINT only;
-- booleans are 0/1, times are unix seconds).

-- The app's own view of a person: one row per (identity provider, subject).
-- `id` is the stable identifier the passkey service knows the user by.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    idp TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    UNIQUE (idp, subject)
);

-- The builtin identity provider's credentials ("your own auth system").
CREATE TABLE builtin_idp_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Server-side app sessions; the cookie holds a random token, this table only its keyed hash.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    auth_method TEXT NOT NULL,
    append_pending BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    authenticated_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account_id ON sessions (account_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

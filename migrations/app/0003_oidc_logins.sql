-- OpenID Connect logins in flight: one row per authorization request, keyed by a hash of
-- its `state`, bound to the browser that started it (a hash of a cookie value), consumed
-- exactly once by the callback (DELETE … RETURNING). The nonce and PKCE verifier never
-- leave the server.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    login_hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_logins_expires_at ON oidc_logins (expires_at);

-- The ID token of a session that came from an OpenID Connect login: sent back to the
-- provider as `id_token_hint` for RP-initiated logout. NULL for every other login.
ALTER TABLE sessions ADD COLUMN idp_id_token TEXT;

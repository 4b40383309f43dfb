-- OpenID Connect Back-Channel Logout: the provider's session id (`sid` of the ID token) of
-- a session that came from a provider login, so a logout token naming it ends exactly that
-- session; NULL for every other login.
ALTER TABLE sessions ADD COLUMN idp_sid TEXT;
CREATE INDEX sessions_idp_sid ON sessions (idp_sid);

-- Logout tokens already acted on, by a hash of their `jti`: each one is accepted once.
CREATE TABLE oidc_logout_tokens (
    jti_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_logout_tokens_expires_at ON oidc_logout_tokens (expires_at);

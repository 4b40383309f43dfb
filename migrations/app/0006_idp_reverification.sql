-- When the person last signed in through the identity provider itself (a password or an
-- OpenID provider login, not a passkey): `idp-reverify-days` sends a passkey login back to
-- the provider when this is older than that. NULL until the first such login.
ALTER TABLE accounts ADD COLUMN last_idp_login_at BIGINT;

-- The operator console: where a session was started from (its account page lists them), and
-- an operator's block on an account's passkeys (no passkey login or append while it holds;
-- `passkeys_blocked_until` NULL: until unblocked).
ALTER TABLE sessions ADD COLUMN client_ip TEXT;
ALTER TABLE sessions ADD COLUMN browser TEXT;
ALTER TABLE sessions ADD COLUMN os TEXT;
ALTER TABLE accounts ADD COLUMN passkeys_blocked_at BIGINT;
ALTER TABLE accounts ADD COLUMN passkeys_blocked_until BIGINT;
CREATE INDEX accounts_email ON accounts (email);

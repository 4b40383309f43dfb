-- The builtin identity provider can disable an account (`latchkey account disable EMAIL`):
-- neither its password nor its passkeys sign anyone in until it is enabled again.
ALTER TABLE builtin_idp_users ADD COLUMN disabled_at BIGINT;

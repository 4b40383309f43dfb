-- SHA-256 of each issued token: verification spends a row only for the exact token issued.
-- Rows from before (empty) are spent only with a valid signature.
ALTER TABLE connect_signed_data ADD COLUMN token_hash TEXT NOT NULL DEFAULT '';

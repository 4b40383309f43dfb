-- The name a person gave a passkey ("Rename"); empty: named after its provider.
ALTER TABLE connect_credentials ADD COLUMN name TEXT NOT NULL DEFAULT '';

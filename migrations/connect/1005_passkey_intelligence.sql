-- Passkey intelligence: failed or cancelled passkey logins in a row on a browser (with the
-- provider they were for) and the pause they lead to; and, per process, why the login page
-- offered no passkey login (a reason code; empty when it did).
ALTER TABLE connect_clients ADD COLUMN failure_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connect_clients ADD COLUMN failure_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_clients ADD COLUMN paused_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connect_processes ADD COLUMN login_refusal TEXT NOT NULL DEFAULT '';
-- Whether the browser said it can do conditional create (the automatic passkey upgrade).
ALTER TABLE connect_processes ADD COLUMN conditional_create BIGINT NOT NULL DEFAULT 0;

-- What a person chose at the passkey append step (design.md §1): "Don't ask again"
-- (append_opt_out = 1) and, after a plain "Skip", no offer until append_snoozed_until
-- (unix seconds; 0 = not snoozed). Per account, so the choice follows the person across
-- browsers; creating a passkey from /passkeys is always possible.
ALTER TABLE accounts ADD COLUMN append_opt_out BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN append_snoozed_until BIGINT NOT NULL DEFAULT 0;

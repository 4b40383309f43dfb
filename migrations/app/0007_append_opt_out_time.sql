-- When the person chose "Don't ask again", so that an operator can have the offer come back
-- after a while. Opt-outs from before this column stay for good.
ALTER TABLE accounts ADD COLUMN append_opt_out_at BIGINT;

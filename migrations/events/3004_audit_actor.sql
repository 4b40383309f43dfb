-- Who did it, when it was not the person the event is about: an operator's account id.
ALTER TABLE audit_events ADD COLUMN actor_id TEXT;

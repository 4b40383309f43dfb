-- "Is a passkey of this site expected on this browser?" (a cancelled login prompt is then
-- told apart from a browser that holds no passkey): passkeys by the browser that made them.
CREATE INDEX connect_credentials_created_client ON connect_credentials (created_client);

-- A client registers either its key set (jwks) or the URL it publishes it at (jwks_uri), whose keys the gateway
-- fetches, caches and fetches again for a key id it does not know: a key rotation needs no restart.
ALTER TABLE clients ADD COLUMN jwks_uri text;
ALTER TABLE clients ALTER COLUMN jwks DROP NOT NULL;
ALTER TABLE clients ADD CONSTRAINT clients_keys_given CHECK (jwks IS NOT NULL OR jwks_uri IS NOT NULL);

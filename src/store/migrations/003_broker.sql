-- Brokering: what each delivery job rests on (for cancellation and the re-check at send time), and idempotency keys.
ALTER TABLE delivery_jobs ADD COLUMN consents text[] NOT NULL DEFAULT '{}';
ALTER TABLE delivery_jobs ADD COLUMN request jsonb;
ALTER TABLE delivery_jobs ADD COLUMN accepted_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE delivery_jobs ADD COLUMN delivered_at timestamptz;
CREATE INDEX delivery_jobs_consents ON delivery_jobs USING gin (consents);

CREATE TABLE idempotency_keys (
  client_id text NOT NULL,
  key text NOT NULL,
  body_hash text NOT NULL,
  status integer NOT NULL,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

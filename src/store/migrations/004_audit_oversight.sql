-- Signed checkpoints of the audit chain, and a guarded way to prune expired audit metadata.
CREATE TABLE audit_checkpoints (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  jws text NOT NULL,
  kind text NOT NULL DEFAULT 'periodic',
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Retention class of each event: the years its legal basis keeps it (NULL = the default retention).
ALTER TABLE audit_events ADD COLUMN retention_years integer;

-- Deletes are refused unless the documented pruning procedure set ketenpoort.pruning for its transaction.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('ketenpoort.pruning', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;

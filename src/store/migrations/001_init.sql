-- Person index, consents, agencies, tasks: FHIR resources the decisions need (no care records).
CREATE TABLE resources (
  type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  -- One person per BSN (Patient) and one parent per child (RelatedPerson): enforced here.
  unique_key text UNIQUE,
  content jsonb NOT NULL,
  PRIMARY KEY (type, id)
);

-- Which organisations may see a resource (the one that registered it, and those that registered it again).
CREATE TABLE resource_orgs (
  type text NOT NULL,
  id text NOT NULL,
  org text NOT NULL,
  PRIMARY KEY (type, id, org)
);
CREATE INDEX resource_orgs_org ON resource_orgs (org, type);

-- Search index: one row per searchable value of a resource.
CREATE TABLE resource_tokens (
  type text NOT NULL,
  id text NOT NULL,
  param text NOT NULL,
  system text NOT NULL DEFAULT '',
  value text NOT NULL
);
CREATE INDEX resource_tokens_lookup ON resource_tokens (type, param, value);
CREATE INDEX resource_tokens_owner ON resource_tokens (type, id);

-- Agency systems allowed to ask for tokens.
CREATE TABLE clients (
  client_id text PRIMARY KEY,
  role text NOT NULL,
  organization text NOT NULL,
  jwks jsonb NOT NULL,
  active boolean NOT NULL DEFAULT true
);

-- Client-assertion ids already used (replay protection), kept until they expire.
CREATE TABLE used_jti (
  client_id text NOT NULL,
  jti text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);

-- The gateway's own signing key, shared by every process on this database.
CREATE TABLE gateway_keys (
  kid text PRIMARY KEY,
  private_jwk jsonb NOT NULL,
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The audit log: append-only, each row chained to its predecessor by hash.
CREATE TABLE audit_events (
  seq bigint PRIMARY KEY,
  id text NOT NULL UNIQUE,
  recorded timestamptz NOT NULL,
  action text NOT NULL,
  subtype text NOT NULL,
  outcome text NOT NULL,
  patient text,
  agent_org text,
  recipient_org text,
  purpose text,
  legal_basis text,
  content jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_events_patient ON audit_events (patient, recorded);
CREATE INDEX audit_events_recorded ON audit_events (recorded);

CREATE TABLE audit_chain_head (
  id integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, 'genesis');

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Transactional outbox: a delivery job is committed with its decision and audit record.
CREATE TABLE delivery_jobs (
  id text PRIMARY KEY,
  task_id text NOT NULL,
  sender_org text NOT NULL,
  recipient_org text NOT NULL,
  endpoint_url text NOT NULL,
  bundle jsonb,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  deadline timestamptz NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_jobs_due ON delivery_jobs (status, next_attempt_at);

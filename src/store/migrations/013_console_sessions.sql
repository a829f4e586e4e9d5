-- Sign-in sessions of people using the console (OpenID Connect): kept here, never in the browser. The browser holds
-- only a random id in an HttpOnly cookie; the table keeps its SHA-256, so a copy of the table opens no session.
CREATE TABLE console_sessions (
  id_hash      text PRIMARY KEY,
  -- 'login': a sign-in under way (state, nonce, PKCE verifier); 'officer' or 'person' once signed in.
  kind         text NOT NULL CHECK (kind IN ('login', 'officer', 'person')),
  subject      text,
  display_name text,
  bsn          text,
  login        jsonb,
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

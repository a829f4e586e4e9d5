-- Coordination trajectories as the municipal report counts them: nothing that identifies a family, one row per
-- trajectory of a recording organisation (key: HMAC-SHA256 with the pseudonym key over the organisation and its own
-- trajectory id), replaced when the organisation records the trajectory again (at closure, say).
CREATE TABLE report_trajectories (
  key text PRIMARY KEY,
  org text NOT NULL,
  municipality text NOT NULL,
  trajectory_type text NOT NULL,
  coordination_level text,
  framework text,
  referral_source text,
  started date NOT NULL,
  ended date,
  closure_reason text,
  life_domains text[] NOT NULL DEFAULT '{}',
  recorded timestamptz NOT NULL DEFAULT now(),
  CHECK (ended IS NULL OR ended >= started)
);
CREATE INDEX report_trajectories_period ON report_trajectories (municipality, started);

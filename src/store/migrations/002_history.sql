-- Every version of every person-index resource, with the period it was current: decisions can be replayed as of a past moment.
CREATE TABLE resource_history (
  type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  content jsonb NOT NULL,
  PRIMARY KEY (type, id, version_id)
);
CREATE INDEX resource_history_patient ON resource_history (type, (content -> 'patient' ->> 'reference'), valid_from);

INSERT INTO resource_history (type, id, version_id, valid_from, content)
  SELECT type, id, version_id, last_updated, content FROM resources;

-- The version of the facts decisions rest on: persons, parents, families, consents, the directory, who registered
-- them, and open registration disputes. Every transaction that changes one of them moves the version once, before it
-- commits, so a gateway process that keeps facts in memory can tell with one small read whether what it holds is
-- still current, whichever process made the change. The writer holds the row until it commits: a reader sees either
-- the old version (and the old facts) or the new version and the new facts, never the new version with old facts.
CREATE TABLE fact_version (
  id integer PRIMARY KEY CHECK (id = 1),
  version bigint NOT NULL
);
INSERT INTO fact_version (id, version) VALUES (1, 0);

-- Moves the version once per transaction (a transaction-local setting remembers that it did).
CREATE FUNCTION fact_version_move() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('ketenpoort.fact_version_moved', true) IS DISTINCT FROM 'yes' THEN
    UPDATE fact_version SET version = version + 1 WHERE id = 1;
    PERFORM set_config('ketenpoort.fact_version_moved', 'yes', true);
  END IF;
END $$;

CREATE FUNCTION fact_version_on_resource() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  kind text := COALESCE(NEW.type, OLD.type);
BEGIN
  IF kind IN ('Patient', 'RelatedPerson', 'Group', 'Consent', 'Organization', 'Endpoint')
     OR (kind = 'Task' AND COALESCE(NEW.unique_key, OLD.unique_key, '') LIKE 'registration-conflict|%') THEN
    PERFORM fact_version_move();
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION fact_version_on_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF COALESCE(NEW.type, OLD.type) IN ('Patient', 'RelatedPerson', 'Group', 'Consent') THEN
    PERFORM fact_version_move();
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER resources_fact_version AFTER INSERT OR UPDATE OR DELETE ON resources
  FOR EACH ROW EXECUTE FUNCTION fact_version_on_resource();
CREATE TRIGGER resource_orgs_fact_version AFTER INSERT OR UPDATE OR DELETE ON resource_orgs
  FOR EACH ROW EXECUTE FUNCTION fact_version_on_owner();

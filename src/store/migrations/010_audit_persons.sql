-- An audit event can concern several persons (a family exchange, a search that returns several people, a parent's
-- registration read for a child): `patient` keeps the first BSN, `patients` every BSN when there is more than one.
-- The access report and the search by patient:identifier look in both. The column is an index, like `patient`; the
-- event itself (in the hash chain) names every person as an entity.
ALTER TABLE audit_events ADD COLUMN patients text[];
CREATE INDEX audit_events_patients ON audit_events USING gin (patients) WHERE patients IS NOT NULL;

-- audit_append of migration 007, now also copying `patients` out of each item.
CREATE OR REPLACE FUNCTION audit_append(items json, max_chain integer, want integer)
RETURNS TABLE (chain_id integer, chain_link bigint, chain_hash text) AS $$
DECLARE
  head record;
  r record;
  pos bigint;
  prev text;
  h text;
BEGIN
  IF want IS NOT NULL THEN
    SELECT a.id, a.link, a.hash INTO head FROM audit_chain_head a WHERE a.id = want FOR UPDATE;
  ELSE
    SELECT a.id, a.link, a.hash INTO head FROM audit_chain_head a WHERE a.id <= max_chain ORDER BY a.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      pos := 1 + floor(random() * max_chain)::integer;
      SELECT a.id, a.link, a.hash INTO head FROM audit_chain_head a WHERE a.id = pos FOR UPDATE;
    END IF;
  END IF;
  IF head.id IS NULL THEN
    RAISE EXCEPTION 'audit chain head missing';
  END IF;
  pos := head.link;
  prev := head.hash;
  FOR r IN SELECT * FROM json_to_recordset(items) AS x(id text, recorded timestamptz, action text, subtype text,
      outcome text, patient text, patients text[], agent_org text, recipient_org text, purpose text, legal_basis text,
      content json) LOOP
    pos := pos + 1;
    h := encode(sha256(convert_to(prev || E'\n' || pos::text || E'\n' || r.content::text, 'UTF8')), 'hex');
    INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, patient, patients, agent_org,
                              recipient_org, purpose, legal_basis, content, prev_hash, hash)
    VALUES (nextval('audit_events_seq'), head.id, pos, r.id, r.recorded, r.action, r.subtype, r.outcome, r.patient,
            r.patients, r.agent_org, r.recipient_org, r.purpose, r.legal_basis, r.content, prev, h);
    prev := h;
  END LOOP;
  UPDATE audit_chain_head SET link = pos, hash = prev WHERE id = head.id;
  chain_id := head.id;
  chain_link := pos;
  chain_hash := prev;
  RETURN NEXT;
END;
$$ LANGUAGE plpgsql;

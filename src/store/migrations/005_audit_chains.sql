-- Several audit chains side by side, so that concurrent writers do not wait for each other's commits. Each chain has
-- its own head, its own gapless positions (link) and its own checkpoints; seq stays one global order for searching.
ALTER TABLE audit_chain_head DROP CONSTRAINT IF EXISTS audit_chain_head_id_check;
ALTER TABLE audit_chain_head RENAME COLUMN seq TO link;
INSERT INTO audit_chain_head (id, link, hash) SELECT g, 0, 'genesis/' || g FROM generate_series(2, 16) AS g ON CONFLICT (id) DO NOTHING;

ALTER TABLE audit_events ADD COLUMN chain integer NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN link bigint;
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
UPDATE audit_events SET link = seq;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;
ALTER TABLE audit_events ALTER COLUMN link SET NOT NULL;
CREATE UNIQUE INDEX audit_events_chain_link ON audit_events (chain, link);
CREATE SEQUENCE audit_events_seq;
SELECT setval('audit_events_seq', coalesce((SELECT max(seq) FROM audit_events), 0) + 1, false);

ALTER TABLE audit_checkpoints ADD COLUMN chain integer NOT NULL DEFAULT 1;
ALTER TABLE audit_checkpoints RENAME COLUMN seq TO link;
ALTER TABLE audit_checkpoints DROP CONSTRAINT audit_checkpoints_pkey;
ALTER TABLE audit_checkpoints ADD PRIMARY KEY (chain, link);

-- Appends a batch of events to one chain: the head given (waiting for it), else the first head no other transaction
-- holds, else (all taken) one at random, waiting for it. PL/pgSQL keeps its plans per connection, so an append costs
-- one short statement. The hash is the one HASH_SQL in src/audit/chain.ts describes.
CREATE FUNCTION audit_append(items jsonb, max_chain integer, want integer)
RETURNS TABLE (chain_id integer, chain_link bigint, chain_hash text) AS $$
DECLARE
  head record;
  item jsonb;
  pos bigint;
  prev text;
  prevs text[] := '{}';
  hashes text[] := '{}';
BEGIN
  IF want IS NOT NULL THEN
    SELECT h.id, h.link, h.hash INTO head FROM audit_chain_head h WHERE h.id = want FOR UPDATE;
  ELSE
    SELECT h.id, h.link, h.hash INTO head FROM audit_chain_head h WHERE h.id <= max_chain ORDER BY h.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      pos := 1 + floor(random() * max_chain)::integer;
      SELECT h.id, h.link, h.hash INTO head FROM audit_chain_head h WHERE h.id = pos FOR UPDATE;
    END IF;
  END IF;
  IF head.id IS NULL THEN
    RAISE EXCEPTION 'audit chain head missing';
  END IF;
  pos := head.link;
  prev := head.hash;
  -- The hashes one after another (each needs the one before), then all rows in one INSERT.
  FOR item IN SELECT value FROM jsonb_array_elements(items) LOOP
    pos := pos + 1;
    prevs := prevs || prev;
    prev := encode(sha256(convert_to(prev || E'\n' || pos::text || E'\n' || (item->'content')::text, 'UTF8')), 'hex');
    hashes := hashes || prev;
  END LOOP;
  INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, patient, agent_org, recipient_org, purpose, legal_basis, content, prev_hash, hash)
  SELECT nextval('audit_events_seq'), head.id, head.link + e.n, e.item->>'id', (e.item->>'recorded')::timestamptz, e.item->>'action',
         e.item->>'subtype', e.item->>'outcome', e.item->>'patient', e.item->>'agent_org', e.item->>'recipient_org', e.item->>'purpose',
         e.item->>'legal_basis', e.item->'content', prevs[e.n], hashes[e.n]
  FROM jsonb_array_elements(items) WITH ORDINALITY AS e(item, n)
  ORDER BY e.n;
  UPDATE audit_chain_head SET link = pos, hash = prev WHERE id = head.id;
  chain_id := head.id;
  chain_link := pos;
  chain_hash := prev;
  RETURN NEXT;
END;
$$ LANGUAGE plpgsql;

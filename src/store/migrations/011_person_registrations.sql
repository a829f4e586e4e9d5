-- One registration of a person per organisation: a Patient's unique key names the organisation that registered it
-- (`Patient|<organisation>|<BSN>`), so that another organisation's conditional create makes a registration of its own
-- instead of matching (and being granted) this one.
UPDATE resources r
SET unique_key = 'Patient|' || o.org || '|' || substring(r.unique_key FROM 9)
FROM (
  SELECT type, id, min(org) AS org FROM resource_orgs WHERE type = 'Patient' GROUP BY type, id
) o
WHERE r.type = 'Patient' AND o.id = r.id AND r.unique_key LIKE 'Patient|%' AND r.unique_key NOT LIKE 'Patient|Organization/%';

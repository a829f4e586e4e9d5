-- Delivery leases: each claim of a job carries a token, so that only its claimer extends the lease while a post is in
-- flight, and a claimer whose lease was taken over cannot extend the new one.
ALTER TABLE delivery_jobs ADD COLUMN lease_id text;

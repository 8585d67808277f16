-- One runner at a time across replicas (the PeeringDB re-sync): a named
-- lease, held until expires_at and renewed by its holder while it works; a
-- holder that dies lets it expire and another replica takes over.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

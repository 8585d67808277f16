-- Requests made to PeeringDB per minute, by every replica together
-- (PeeringDB rate-limits per address): logins record theirs, the re-sync
-- takes what they leave under PEERINGDB_REQUESTS_PER_MINUTE.
CREATE TABLE peeringdb_budget (
    minute BIGINT PRIMARY KEY,
    used   BIGINT  NOT NULL
);

-- What PeerPortal keeps of a person's PeeringDB link between logins: the
-- refresh token, sealed (never in clear: see server/src/keys.rs), and the
-- state of the re-sync that uses it.
CREATE TABLE peeringdb_links (
    user_id        BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    refresh_token  TEXT,
    updated_at     TIMESTAMPTZ NOT NULL,
    last_synced_at TIMESTAMPTZ,
    stale_since    TIMESTAMPTZ,
    last_error     TEXT
);

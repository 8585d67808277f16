-- Sessions keyed by a hash of their id (a leaked table holds no usable
-- cookie), with the times that bound them (absolute lifetime from
-- created_at, idle timeout from last_seen_at) and what lets a person
-- recognise them on their account page. Sessions stored under the old,
-- clear ids are dropped: everyone signs in once more.
DROP TABLE sessions;
CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,
    user_id      BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    data         TEXT    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    user_agent   TEXT,
    ip           TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

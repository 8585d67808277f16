-- PeerPortal schema (SQLite). Mirrors migrations/postgres/0001_initial.sql:
-- the two must stay equivalent, because every query runs on both.
-- Timestamps are UTC text written by sqlx from time::OffsetDateTime (always
-- offset +00:00, so they sort and compare as strings); TIMESTAMPTZ on PostgreSQL.

CREATE TABLE customers (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL,
    shortname           TEXT    NOT NULL UNIQUE,
    type                TEXT    NOT NULL CHECK (type IN ('full', 'associate', 'probono', 'internal')),
    status              TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'left')),
    peeringdb_login     BOOLEAN NOT NULL DEFAULT TRUE,
    peeringdb_max_role  TEXT    CHECK (peeringdb_max_role IN ('member', 'admin')),
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL
);
CREATE INDEX customers_name ON customers (name);

CREATE TABLE customer_asns (
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    asn         BIGINT  NOT NULL CHECK (asn BETWEEN 1 AND 4294967295),
    UNIQUE (customer_id, asn)
);
CREATE INDEX customer_asns_asn ON customer_asns (asn);

CREATE TABLE users (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    username                 TEXT    NOT NULL UNIQUE,
    name                     TEXT    NOT NULL,
    email                    TEXT    NOT NULL,
    password_hash            TEXT,
    is_superadmin            BOOLEAN NOT NULL DEFAULT FALSE,
    disabled                 BOOLEAN NOT NULL DEFAULT FALSE,
    peeringdb_id             BIGINT  UNIQUE,
    peeringdb_login_allowed  BOOLEAN NOT NULL DEFAULT TRUE,
    created_via              TEXT    NOT NULL CHECK (created_via IN ('cli', 'admin', 'peeringdb')),
    created_at               TEXT    NOT NULL,
    last_login_at            TEXT,
    last_login_via           TEXT    CHECK (last_login_via IN ('password', 'peeringdb'))
);

CREATE TABLE affiliations (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    source      TEXT    NOT NULL CHECK (source IN ('manual', 'peeringdb')),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (user_id, customer_id)
);
CREATE INDEX affiliations_customer ON affiliations (customer_id);

-- tower-sessions records. user_id is copied out of the record so that all
-- sessions of one user can be ended at once (disable, de-provisioning).
CREATE TABLE sessions (
    id          TEXT    PRIMARY KEY,
    user_id     INTEGER,
    data        TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- PeeringDB logins between the redirect out and the callback back in.
-- Keyed by a hash of the browser-binding cookie, never the raw value.
CREATE TABLE pending_logins (
    id             TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    next_path      TEXT,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
CREATE INDEX pending_logins_expires ON pending_logins (expires_at);

-- Failed-login counters, shared by every replica through the database.
CREATE TABLE login_throttle (
    key           TEXT    PRIMARY KEY,
    failures      BIGINT  NOT NULL,
    window_start  TEXT    NOT NULL
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    user_id      INTEGER,
    customer_id  INTEGER,
    details      TEXT    NOT NULL DEFAULT '{}',
    ip           TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);
CREATE INDEX audit_log_customer ON audit_log (customer_id, at);
CREATE INDEX audit_log_event ON audit_log (event, at);

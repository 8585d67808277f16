-- Mail waits here, written in the same transaction as the change that
-- causes it, until the outbox worker has handed it to the SMTP server.
-- A sent mail keeps its envelope (who, what, when) for the console, and
-- loses its bodies: they may hold a single-use link.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL CHECK (kind IN ('welcome', 'access_changed', 'password_reset', 'invitation', 'no_password')),
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_text       TEXT,
    body_html       TEXT,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      TEXT    NOT NULL,
    next_attempt_at TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_created ON outbox (created_at);

-- Password reset links: only the SHA-256 of the token (256 random bits)
-- is stored; a link works once, for 30 minutes.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_at    TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- A customer admin's invitation of a person (by email) with a role; the
-- token is stored hashed, works once, for 7 days.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT    NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('member', 'admin')),
    invited_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    accepted_at TEXT,
    accepted_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    withdrawn_at TEXT
);
CREATE INDEX invitations_customer ON invitations (customer_id, created_at);

-- The operator can keep a customer's admins from changing the customer's
-- PeeringDB settings (login on or off, the role cap).
ALTER TABLE customers ADD COLUMN peeringdb_locked BOOLEAN NOT NULL DEFAULT FALSE;

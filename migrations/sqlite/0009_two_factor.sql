-- Two-factor authentication for password accounts (TOTP, RFC 6238). The
-- secret is sealed like a refresh token (server/src/keys.rs); `last_step`
-- is the last time step accepted, so no code works twice. A row without
-- `confirmed_at` is an enrolment not yet confirmed with a code.
CREATE TABLE user_totp (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       TEXT    NOT NULL,
    confirmed_at TEXT,
    last_step    BIGINT,
    created_at   TEXT    NOT NULL
);

-- Single-use recovery codes, stored as SHA-256 hashes (each carries 79
-- random bits: the hashes cannot be searched; tries go through the login
-- throttle).
CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
);

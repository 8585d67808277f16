-- OpenID Connect: the nonce a pending login sent in its authorization
-- request, compared with the ID token's (NULL when PEERINGDB_OIDC=off).
ALTER TABLE pending_logins ADD COLUMN nonce TEXT;
-- A customer may require a second factor at PeeringDB of its people.
ALTER TABLE customers ADD COLUMN peeringdb_require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
-- Whether the person's last PeeringDB login used a second factor: a
-- re-sync is no authentication, so it keeps the MFA policy of that login.
ALTER TABLE peeringdb_links ADD COLUMN mfa BOOLEAN NOT NULL DEFAULT FALSE;

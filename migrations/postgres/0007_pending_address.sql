-- The client address that started a pending PeeringDB login: one address
-- may have only so many unfinished at once (checked in the insert itself).
ALTER TABLE pending_logins ADD COLUMN address TEXT;
CREATE INDEX pending_logins_address ON pending_logins (address, expires_at);

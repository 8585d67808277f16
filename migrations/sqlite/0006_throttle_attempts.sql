-- The throttle counts attempts, taken before the password is checked (and
-- given back when it was right), no longer failures recorded afterwards.
ALTER TABLE login_throttle RENAME COLUMN failures TO attempts;

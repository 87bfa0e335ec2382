-- Numbers from outside that the archive keeps only as sent (ARCHITECTURE.md,
-- "Numbers from outside"): a count that is negative, fractional, beyond
-- 2^53-1 or not a number, a duration that is not finite. Its column is NULL
-- and nothing adds it; the session's JSON keeps it byte for byte. A session
-- total that passes 2^63-1 stops there and is noted here too.
ALTER TABLE sessions ADD COLUMN number_faults TEXT; -- what, in one line; NULL when every number was kept
CREATE INDEX sessions_with_number_faults ON sessions(number_faults) WHERE number_faults IS NOT NULL;

-- `sessions --order tokens`: the costliest sessions read from an index in
-- order, the first N and no more, instead of sorting every session.
CREATE INDEX IF NOT EXISTS sessions_by_tokens ON sessions(input_tokens + output_tokens DESC, last_updated_at DESC);

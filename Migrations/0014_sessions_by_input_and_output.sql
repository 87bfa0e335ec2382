-- The costliest sessions by price: read in order of input and of output
-- tokens, each a bound on a session's cost (the README's schema section).
CREATE INDEX IF NOT EXISTS sessions_by_input_tokens ON sessions(input_tokens DESC);
CREATE INDEX IF NOT EXISTS sessions_by_output_tokens ON sessions(output_tokens DESC);

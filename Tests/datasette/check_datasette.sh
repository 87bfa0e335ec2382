#!/usr/bin/env bash
# Datasette, served as docs/datasette.md serves it, over an archive of many
# sessions: every page datasette.yml names or the database page links (each
# table and view with its default sort and its next page, the search box for
# a common and a rare word, every canned query, a session's row page) must
# answer 200 within the limit and show the session planted for it.
#   Tests/datasette/check_datasette.sh                  # 20,000 sessions, 0.5 s a page (.ci/run)
#   Tests/datasette/check_datasette.sh --db FILE --limit 1.0   # an archive of your own (a copy: the planted session is imported into it)
# Installs Datasette into a virtual environment of its own (.build-venv).
db="" sessions=20000 limit=0.5
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    *) echo "usage: $0 [--db FILE] [--sessions N] [--limit SECONDS]" >&2; exit 64 ;;
  esac
done
. "$(dirname "$0")/../check_prelude.sh" datasette 'import datasette' datasette
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -z "$db" ]; then
  db=$work/scale.db
  "$(dirname "$archive")/chat-simulator" --corpus "$work/corpus.jsonl" --sessions "$sessions" --seed 2026 >/dev/null
  "$archive" import "$work/corpus.jsonl" --db "$db" >/dev/null
fi
planted=ses-datasette-planted
cat >"$work/planted.jsonl" <<JSON
{"session_id":"$planted","last_updated_at":"2026-11-18T09:30:00Z","generated_title":"Planted: the zyzzogeton renewal clause","events":[{"type":"user_input","content":"Where is the zyzzogeton renewal clause?"},{"type":"tool_call","call_id":"call-planted","name":"search_index","arguments":{"query":"zyzzogeton"}},{"type":"tool_result","call_id":"call-planted","name":"search_index","result":"Error: index unavailable"},{"type":"text","content":"Clause 14 renews the zyzzogeton contract."},{"type":"stop","usage":{"input_tokens":1200,"output_tokens":300}}]}
JSON
"$archive" import "$work/planted.jsonl" --db "$db" --project planted-project >/dev/null
# The database key is the file's name without .db, as datasette.yml expects.
mkdir -p "$work/serve" && ln -sf "$(cd "$(dirname "$db")" && pwd)/$(basename "$db")" "$work/serve/archive.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/datasette" serve "$work/serve/archive.db" -m datasette.yml --setting suggest_facets off \
  --host 127.0.0.1 --port "$port" >"$work/datasette.log" 2>&1 &
server=$!
python3 Tests/datasette/pages.py "http://127.0.0.1:$port" "$limit" "$planted"

#!/usr/bin/env bash
# Datasette on a demo archive with datasette.yml: its search box finds text
# through the contentless search index, and the canned queries answer.
# Installs Datasette into a virtual environment of its own (.build-venv).
. "$(dirname "$0")/../check_prelude.sh" datasette 'import datasette' datasette
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/datasette" serve "$work/archive.db" -m datasette.yml --host 127.0.0.1 --port "$port" >"$work/datasette.log" 2>&1 &
server=$!
python3 - "$port" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
def get(path):
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as response:
                return json.load(response)
        except OSError:
            time.sleep(0.2)
    sys.exit(f"datasette did not answer {path}")
failures = []
def check(name, ok):
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        failures.append(name)
rows = get("/archive/events.json?_search=renewal&_shape=array")
check("the events search box finds 'renewal'", len(rows) > 0 and all("renew" in json.dumps(r).lower() for r in rows))
none = get("/archive/events.json?_search=zyzzyvaqq&_shape=array")
check("a word nobody wrote finds nothing", none == [])
found = get("/archive/find_session.json?words=renewal&_shape=array")
check("the canned search names sessions", len(found) > 0 and all(r["session_id"] for r in found))
days = get("/archive/tokens_per_day.json?_shape=array")
check("tokens per day answers", len(days) > 0 and sum(d["runs"] for d in days) > 0)
month = get("/archive/tokens_per_project_last_month.json?_shape=array")
check("tokens per project last month answers", isinstance(month, list))
tools = get("/archive/failing_tools.json?_shape=array")
check("failing tools answers", len(tools) > 0)
sys.exit(1 if failures else 0)
PY

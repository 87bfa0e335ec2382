"""Fetches every page of the archive's Datasette that datasette.yml names or
the database page links, times each, and fails on a status other than 200, a
page slower than the limit, or a page that does not show the planted session.
Used by check_datasette.sh: pages.py BASE_URL LIMIT_SECONDS PLANTED_SESSION_ID"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base, limit, planted = sys.argv[1], float(sys.argv[2]), sys.argv[3]
failures = []


def fetch(path):
    """(status, seconds, body) of one GET, waiting for the server to start."""
    for _ in range(150):
        started = time.monotonic()
        try:
            with urllib.request.urlopen(base + path, timeout=30) as response:
                body = response.read().decode()
                return response.status, time.monotonic() - started, body
        except urllib.error.HTTPError as error:
            return error.code, time.monotonic() - started, error.read().decode(errors="replace")
        except OSError:
            time.sleep(0.2)
    sys.exit(f"datasette did not answer {path}")


def page(name, path, shows=None):
    """Times the HTML page a person would open; returns its body."""
    status, seconds, body = fetch(path)
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    if seconds > limit:
        problems.append(f"over {limit} s")
    if shows is not None and shows not in body:
        problems.append(f"does not show {shows!r}")
    print(f"{'FAIL' if problems else 'ok  '} {seconds:6.3f} s  {name}  {path}  {'; '.join(problems)}")
    if problems:
        failures.append(f"{name}: {'; '.join(problems)}")
    return body


def json_of(path):
    status, _, body = fetch(path)
    if status != 200:
        sys.exit(f"{path} answered {status}: {body[:300]}")
    return json.loads(body)


def query(values):
    return "?" + urllib.parse.urlencode(values)


fetch("/-/versions.json")  # waits for the server
database = json_of("/archive.json")
page("database page", "/archive")
shadow = {t["name"] for t in database["tables"] if t["name"].startswith("search_index")}
tables = [t["name"] for t in database["tables"] if t["name"] not in shadow]
views = [v["name"] for v in database["views"]]
for name in tables + views:
    path = "/archive/" + urllib.parse.quote(name)
    page(f"{name}, first page", path)
    following = json_of(path + ".json?_nofacet=1&_nocount=1").get("next")
    if following:
        page(f"{name}, next page", path + query({"_next": following}))

page("search box, a common word", "/archive/events" + query({"_search": "renewal"}))
page("search box, a rare word", "/archive/events" + query({"_search": "zyzzogeton"}), shows=planted)
planted_row = json_of("/archive/sessions.json" + query({"session_id": planted, "_shape": "array"}))
if not planted_row:
    sys.exit(f"the planted session {planted} is not in the archive")
key = planted_row[0]["session_key"]
page("a session's row page", f"/archive/sessions/{key}", shows="zyzzogeton renewal clause")

prices = {"input_usd_per_million": "3", "output_usd_per_million": "15"}
canned = {
    "transcript": ({"session_id": planted}, "Clause 14 renews"),
    "find_session": ({"words": "zyzzogeton", "project": "", "since": "", "until": ""}, planted),
    "costliest_sessions_of_month": ({"month": "2026-11", **prices}, planted),
    "project_spend_by_week": ({"project": "planted-project", **prices}, "2026-11-16"),
    "failing_tools": ({}, planted),
    "tokens_per_project_last_month": ({}, None),
    "tokens_per_day": ({}, "2026-11-18"),
    "failed_runs": ({}, None),
    "deleted_sessions": ({}, None),
}
named = {q["name"] for q in database.get("queries", [])}
for name in sorted(named - set(canned)):
    failures.append(f"canned query {name} is not checked here: add it to pages.py")
for name, (values, shows) in canned.items():
    page(f"canned query {name}", f"/archive/{name}" + query(values), shows=shows)
# Search with filters on a common word: one that leaves many and one that leaves only the planted session.
page("find_session, common word, any project", "/archive/find_session" + query({"words": "renewal", "project": "", "since": "", "until": ""}))
page("find_session, common word, one small project", "/archive/find_session" + query(
    {"words": "renewal", "project": "planted-project", "since": "2026-11-01", "until": "2026-12-01"}), shows=planted)

if failures:
    print("\n".join(["", "failed:"] + failures))
sys.exit(1 if failures else 0)

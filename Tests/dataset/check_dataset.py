"""DuckDB and ClickHouse (chdb) load a dataset exported from a demo archive,
then again after changes, rewrites and forgotten sessions and an incremental
export (which rewrites the files that held the forgotten sessions); their latest snapshots (minus tombstones) must give the archive's own
answers: tokens by project and month, and the counts of sessions, events and
tool calls. Spark too when pyspark is importable (it is not installed by default).
usage: check_dataset.py ARCHIVE_BINARY WORK_FOLDER"""
import copy, gzip, hashlib, json, os, subprocess, sys, time

archive, work = sys.argv[1], sys.argv[2]
db = os.path.join(work, "archive.db")
dataset = os.path.join(work, "dataset")
failures = []

def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)

def cli(*args):
    result = subprocess.run([archive, *args, "--db", db], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"archive {' '.join(args)} failed: {result.stderr}")
    return result.stdout

def expected():
    tokens = json.loads(cli("tokens", "--by", "project,month", "--tz", "UTC", "--json"))
    status = json.loads(cli("status", "--json"))
    by = {(row["project_id"] if row["project_id"] != "(default)" else None, row["month"]):
          (row["input_tokens"], row["output_tokens"]) for row in tokens["rows"]}
    return by, (status["sessions"], status["events"], status["tool_calls"])

# The latest snapshot of each session (its source and id), minus the sessions whose tombstone is newer.
LATEST = """
WITH marks AS (
  SELECT source, session_id, snapshot_at, 0 AS tombstone FROM {sessions}
  UNION ALL SELECT source, session_id, snapshot_at, 1 AS tombstone FROM {deletions}
), ranked AS (
  SELECT source, session_id, snapshot_at, tombstone,
         row_number() OVER (PARTITION BY source, session_id ORDER BY snapshot_at DESC, tombstone DESC) AS n
  FROM marks
)
SELECT source, session_id, snapshot_at FROM ranked WHERE n = 1 AND tombstone = 0
"""

def queries(source, month):
    latest = LATEST.format(sessions=source("sessions"), deletions=source("deletions"))
    count = lambda table: f"""
        WITH latest AS ({latest})
        SELECT count(*) FROM {source(table)} t
        JOIN latest l ON t.source = l.source AND t.session_id = l.session_id AND t.snapshot_at = l.snapshot_at"""
    tokens = f"""
        WITH latest AS ({latest}),
        s AS (SELECT s.source, s.session_id, s.snapshot_at, s.project_id FROM {source("sessions")} s
              JOIN latest l ON s.source = l.source AND s.session_id = l.session_id AND s.snapshot_at = l.snapshot_at)
        SELECT s.project_id, {month("u.occurred_at")} AS month,
               sum(coalesce(u.input_tokens, 0)), sum(coalesce(u.output_tokens, 0))
        FROM {source("usage")} u JOIN s ON u.source = s.source AND u.session_id = s.session_id AND u.snapshot_at = s.snapshot_at
        GROUP BY 1, 2"""
    return count("sessions"), count("events"), count("tool_calls"), tokens

def load_duckdb():
    import duckdb
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")  # times are read as TIMESTAMPTZ; months are UTC months
    def source(table):
        files = os.path.join(dataset, table, "*", "*.jsonl.gz")
        if not os.path.isdir(os.path.join(dataset, table)):
            return "(SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS session_id, NULL::VARCHAR AS snapshot_at WHERE false)"
        return f"read_json('{files}', format = 'newline_delimited', hive_partitioning = true, union_by_name = true)"
    sessions, events, calls, tokens = queries(source, lambda column: f"strftime({column}, '%Y-%m')")
    one = lambda sql: connection.execute(sql).fetchone()[0]
    rows = connection.execute(tokens).fetchall()
    return {(p, m): (int(i), int(o)) for p, m, i, o in rows}, (one(sessions), one(events), one(calls))

def load_chdb():
    import chdb
    def source(table):
        if not os.path.isdir(os.path.join(dataset, table)):
            return "(SELECT '' AS source, '' AS session_id, '' AS snapshot_at WHERE 0)"
        return f"file('{os.path.join(dataset, table, '*', '*.jsonl.gz')}', JSONEachRow)"
    # Times stay the exported strings (fixed width: text order is time order).
    sessions, events, calls, tokens = queries(source, lambda column: f"substr({column}, 1, 7)")
    def run(sql):
        out = chdb.query(sql + " SETTINGS use_hive_partitioning = 1, input_format_try_infer_datetimes = 0", "JSONCompact")
        return json.loads(out.bytes())["data"]
    rows = run(tokens)
    by = {(p, m): (int(i), int(o)) for p, m, i, o in rows}
    return by, tuple(int(run(sql)[0][0]) for sql in (sessions, events, calls))

def load_spark():
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[1]").appName("dataset-check")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for table in ("sessions", "events", "tool_calls", "usage", "deletions"):
        path = os.path.join(dataset, table)
        if os.path.isdir(path):
            spark.read.json(path).createOrReplaceTempView(table)
        else:
            spark.sql("SELECT CAST(NULL AS STRING) AS source, CAST(NULL AS STRING) AS session_id, CAST(NULL AS STRING) AS snapshot_at WHERE false").createOrReplaceTempView(table)
    sessions, events, calls, tokens = queries(lambda table: table, lambda column: f"substr({column}, 1, 7)")
    by = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in spark.sql(tokens).collect()}
    counts = tuple(int(spark.sql(sql).collect()[0][0]) for sql in (sessions, events, calls))
    spark.stop()
    return by, counts

engines = [("DuckDB", load_duckdb), ("ClickHouse (chdb)", load_chdb)]
try:
    import pyspark  # noqa: F401
    engines.append(("Spark", load_spark))
except ImportError:
    print("note Spark: pyspark is not installed; skipped")

def verify(stage):
    want_tokens, want_counts = expected()
    for name, load in engines:
        started = time.perf_counter()
        tokens, counts = load()
        seconds = time.perf_counter() - started
        check(f"{stage}: {name} counts sessions, events, tool calls as status does ({seconds:.1f} s)",
              counts == want_counts, f"{counts} != {want_counts}")
        check(f"{stage}: {name} sums tokens by project and month as `archive tokens` does",
              tokens == want_tokens, f"{sorted(tokens.items(), key=str)} != {sorted(want_tokens.items(), key=str)}")

def manifest():
    with open(os.path.join(dataset, "_manifest.json")) as f:
        return json.load(f)

def digests_hold(m):
    for entry in m["files"]:
        with open(os.path.join(dataset, entry["path"]), "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["bytes"]:
            return False
        if sum(1 for _ in gzip.decompress(data).splitlines()) != entry["rows"]:
            return False
    return True

first = json.loads(cli("export", "--dataset", dataset, "--json"))
check("a first export writes every session", first["full"] and first["sessions"] > 0, first)
m1 = manifest()
check("the manifest's sizes, digests and row counts hold", digests_hold(m1))
verify("first export")

# A second round of syncs: the demo again on the same archive, against a new
# simulator of the same seed, so that the sessions the first round extended
# come back rewritten, the one it deleted comes back and goes again.
demo = subprocess.run([archive, "demo", "--db", db], capture_output=True, text=True)
check("a second round of syncs runs", demo.returncode == 0, demo.stderr)
# Then changes into April and forgotten sessions, through the same save path.
sessions = [json.loads(line) for line in cli("export").splitlines()]
live = [s for s in sessions if s.get("events")]
changed = []
for i, session in enumerate(live[:12]):
    s = copy.deepcopy(session)
    s["last_updated_at"] = "2026-04-%02dT10:%02d:00Z" % (1 + i % 2, i)  # two days: a day's partition per table each
    if i < 8:  # a run added
        s["events"] += [{"type": "user_input", "content": f"one more question {i}"},
                        {"type": "stop", "usage": {"total_input_tokens": 1000 + i, "total_output_tokens": 10 + i}}]
    else:      # the history rewritten
        s["events"][0] = {"type": "user_input", "content": f"a rewritten question {i}"}
    changed.append(s)
changes = os.path.join(work, "changes.jsonl")
with open(changes, "w") as f:
    f.write("\n".join(json.dumps(s) for s in changed) + "\n")
cli("import", changes)
# Another region's sessions under ids this archive holds already: a session is its source and its id.
eu = os.path.join(work, "eu.jsonl")
with open(eu, "w") as f:
    for i, session in enumerate(live[30:36]):
        s = copy.deepcopy(session)
        s["last_updated_at"] = "2026-04-03T09:%02d:00Z" % i
        s["events"] = [{"type": "user_input", "content": f"an eu question {i}"},
                       {"type": "stop", "usage": {"total_input_tokens": 5000 + i, "total_output_tokens": 50}}]
        f.write(json.dumps(s) + "\n")
cli("import", "--source", "eu", eu)
cli("forget", *[s["session_id"] for s in live[20:25]])
before = {entry["path"]: entry["sha256"] for entry in m1["files"]}
second = json.loads(cli("export", "--dataset", dataset, "--json"))
check("the second export is incremental: the changed sessions and the tombstones",
      not second["full"] and 18 < second["sessions"] < 46 and second["deletions"] == 5, second)
m2 = manifest()
replaced = set(m2["exports"][-1]["replaced"])
check("of the files written before, only those that held forgotten sessions were rewritten",
      replaced and all(p in replaced or hashlib.sha256(open(os.path.join(dataset, p), "rb").read()).hexdigest() == h
                       for p, h in before.items()), sorted(replaced)[:5])
forgotten = [s["session_id"] for s in live[20:25]]
holding = []
for folder_path, _, names in os.walk(dataset):
    for name in names:
        path = os.path.join(folder_path, name)
        relative = os.path.relpath(path, dataset)
        if relative.startswith(("deletions/", "_index/")):
            continue  # the tombstones and the index keep the ids, never the text
        data = gzip.open(path).read() if name.endswith(".gz") else open(path, "rb").read()
        holding += [relative for session_id in forgotten if session_id.encode() in data]
check("no file but the tombstones and the index names a forgotten session", not holding, holding[:5])
new_files = [e for e in m2["files"] if e["path"] not in before]
check(f"the incremental export wrote a handful of files ({len(new_files)}, of {len(m2['files'])})",
      0 < len(new_files) <= 30, len(new_files))
check("the manifest's digests still hold", digests_hold(m2))
verify("after changes")
third = json.loads(cli("export", "--dataset", dataset, "--json"))
check("an export with nothing changed writes nothing", third["files"] == 0 and manifest() == m2, third)
sys.exit(1 if failures else 0)

#!/usr/bin/env bash
# `archive mcp` through the official Python MCP SDK's stdio client, on a demo
# archive: initialise, list the tools, call each with good and bad
# arguments, and compare the answers with the CLI's --format json for the
# same question. Installs the SDK into a virtual environment of its own
# (.build-venv/mcp). Prints the start-up and call latencies.
. "$(dirname "$0")/../check_prelude.sh" mcp 'import mcp' mcp
"$venv/bin/python" - "$archive" "$work/archive.db" <<'PY'
import asyncio, json, subprocess, sys, time
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

archive, db = sys.argv[1], sys.argv[2]
failures = []
def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)

def cli(*args):
    out = subprocess.run([archive, *args, "--db", db], check=True, capture_output=True, text=True).stdout
    value = json.loads(out)
    return value if isinstance(value, dict) else {"rows": value}

async def main():
    params = StdioServerParameters(command=archive, args=["mcp", "--db", db], env={"TZ": "UTC"})
    started = time.monotonic()
    async with stdio_client(params) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            init = await session.initialize()
            print(f"start-up to the first answer: {1000 * (time.monotonic() - started):.0f} ms (protocol {init.protocol_version})")
            check("initialize names the server", init.server_info.name == "llamacloud-archive")
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            check("six tools", sorted(tools) == ["list_sessions", "search", "show_session", "sql", "tokens", "tools_report"], sorted(tools))
            check("every tool has an input schema", all(t.input_schema.get("type") == "object" for t in tools.values()))

            async def call(name, arguments):
                began = time.monotonic()
                result = await session.call_tool(name, arguments)
                return result, 1000 * (time.monotonic() - began)

            def same(name, result, expected):
                got = result.structured_content or {}
                ok = not result.is_error and len(expected.get("rows", [])) > 0 and got.get("rows") == expected.get("rows") and got.get("totals") == expected.get("totals")
                check(name + " equals the CLI's --format json", ok, json.dumps(got)[:300] + " vs " + json.dumps(expected)[:300])

            result, ms = await call("tokens", {"by": "project", "price_input": 3, "price_output": 15, "tz": "UTC"})
            same("tokens by project", result, cli("tokens", "--by", "project", "--price-input", "3", "--price-output", "15", "--tz", "UTC", "--format", "json"))
            print(f"tokens latency: {ms:.0f} ms")
            result, ms = await call("tokens", {"by": "project,month", "tz": "UTC"})
            same("tokens by project,month", result, cli("tokens", "--by", "project,month", "--tz", "UTC", "--format", "json"))
            result, ms = await call("search", {"query": "renewal clause"})
            same("search", result, cli("search", "renewal clause", "--format", "json"))
            print(f"search latency: {ms:.0f} ms")
            result, _ = await call("list_sessions", {"order": "tokens", "limit": 10, "tz": "UTC"})
            same("list_sessions by tokens", result, cli("sessions", "--order", "tokens", "--limit", "10", "--tz", "UTC", "--format", "json"))
            result, _ = await call("tools_report", {})
            same("tools_report", result, cli("tools", "--format", "json"))
            result, _ = await call("sql", {"query": "SELECT project_id, count(*) AS n FROM sessions GROUP BY 1 ORDER BY 1"})
            same("sql", result, cli("sql", "SELECT project_id, count(*) AS n FROM sessions GROUP BY 1 ORDER BY 1", "--format", "json"))

            busiest = cli("sessions", "--order", "tokens", "--limit", "1", "--format", "json")["rows"][0]["session_id"]
            api = json.loads(subprocess.run([archive, "show", busiest, "--db", db, "--format", "json"], check=True, capture_output=True, text=True).stdout)
            asked = [e.get("content") for e in api["events"] if e.get("type") == "user_input"]
            result, _ = await call("show_session", {"id": busiest[:12], "runs": 50})
            shown = result.structured_content or {}
            check("show_session finds a session by a unique start of its id", shown.get("session_id") == busiest)
            check("show_session has every run the API sent, with what the user asked",
                  [r["user_input"] for r in shown.get("runs", [])] == asked, f"{len(shown.get('runs', []))} runs vs {len(asked)}")
            result, _ = await call("show_session", {"id": busiest, "runs": 1})
            check("show_session pages by runs", len(result.structured_content["runs"]) == 1 and result.structured_content["next_run"] == 2)

            async def refused(name, arguments, what):
                try:
                    result = await session.call_tool(name, arguments)
                except Exception as error:
                    check(what + " is a protocol error", True)
                    return str(error)
                check(what + " is a protocol error", False, str(result)[:200])

            await refused("nope", {}, "an unknown tool")
            await refused("search", {"query": 42}, "a wrong argument type")
            await refused("search", {"query": "x", "limit": 100000}, "a huge page")
            await refused("search", {"query": "x", "colour": "red"}, "an unknown argument")
            result, _ = await call("sql", {"query": "DELETE FROM sessions"})
            check("a sql that writes is a tool error", result.is_error and "refused" in result.content[0].text, str(result)[:200])
            result, _ = await call("sql", {"query": "ATTACH DATABASE '/tmp/x.db' AS x"})
            check("a sql that attaches is a tool error", result.is_error)
            result, _ = await call("tokens", {"since": "someday"})
            check("a bad date is a tool error naming the argument", result.is_error and "since" in result.content[0].text, str(result)[:200])
            result, _ = await call("sql", {"query": "SELECT * FROM events", "max_rows": 5})
            check("a capped sql says so", len(result.structured_content["rows"]) == 5 and result.structured_content.get("truncated") is True)
            result, _ = await call("tokens", {"by": "day", "tz": "UTC"})
            check("the server goes on serving after errors", not result.is_error and len(result.structured_content["rows"]) > 0)
    # An assistant's runaway queries, under a 2 s limit: each ends as a tool error within the limit and a second, the next call is answered at once.
    bounded = StdioServerParameters(command=archive, args=["mcp", "--db", db, "--max-seconds", "2"], env={"TZ": "UTC"})
    async with stdio_client(bounded) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            for what, query in [("an endless recursive query", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"),
                                ("a cross join of events with itself", "SELECT count(*) FROM events a, events b, events c"),
                                ("a LIKE over every event's text, many times", "SELECT count(*) FROM events a, events b WHERE a.content LIKE '%' || b.kind || '%zz%'")]:
                began = time.monotonic()
                result = await session.call_tool("sql", {"query": query})
                took = time.monotonic() - began
                text = result.content[0].text if result.content else ""
                check(f"{what} ends as a tool error naming its limit within 3 s ({took:.2f} s)",
                      result.is_error and "time limit of 2 s" in text and "\n" not in text and took < 3, f"{took:.2f} s: {text[:200]}")
                began = time.monotonic()
                result = await session.call_tool("sql", {"query": "SELECT count(*) AS n FROM sessions"})
                took = time.monotonic() - began
                check(f"the next call is answered at once ({1000 * took:.0f} ms)", not result.is_error and took < 0.5, f"{took:.2f} s")
            for guard in ["PRAGMA writable_schema=ON", "SELECT load_extension('x')", "VACUUM INTO '/tmp/llamacloud-mcp-copy.db'",
                          "SELECT 1; DELETE FROM sessions", "DETACH DATABASE main", "SELECT fts3_tokenizer('simple')"]:
                result = await session.call_tool("sql", {"query": guard})
                check(f"{guard} is refused as a tool error", result.is_error, str(result)[:200])
    count = subprocess.run([archive, "sql", "SELECT count(*) AS n FROM sessions", "--db", db, "--format", "json"], check=True, capture_output=True, text=True)
    check("the archive is unchanged", json.loads(count.stdout)[0]["n"] > 0)

asyncio.run(main())

# The server ends with its client, whatever runs: its input ended, its output no longer read, or SIGTERM.
import signal
endless = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "sql", "arguments": {
    "query": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"}}}) + "\n"
for how in ["its input ends", "its output is closed", "SIGTERM"]:
    server = subprocess.Popen([archive, "mcp", "--db", db, "--max-seconds", "600", "--max-million-rows", "1000000"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    server.stdin.write(endless.encode()); server.stdin.flush()
    time.sleep(0.5)
    began = time.monotonic()
    if how == "its input ends": server.stdin.close()
    elif how == "its output is closed": server.stdout.close()
    else: server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=5)
        took = time.monotonic() - began
        check(f"an endless query running, the server is gone {took:.2f} s after {how}", took < 1.5, f"{took:.2f} s")
    except subprocess.TimeoutExpired:
        server.kill()
        check(f"the server is gone after {how}", False, "still running after 5 s")
if failures:
    sys.exit(f"{len(failures)} MCP checks failed")
PY

#!/usr/bin/env python3
"""Proves the simulator faithful: the official SDK (llama-cloud 2.19.0) lists,
summarises and retrieves every session from it, each answer passes the SDK's
strict validation (unknown-type events aside), what it decodes matches the
simulator's raw JSON, and the shapes real sessions come in all occur.
usage: check_simulator_with_sdk.py SIMULATOR_BINARY"""
import json, subprocess, sys, urllib.parse, urllib.request
from llama_cloud import LlamaCloud
from llama_cloud.types.chat_get_summary_response import ChatGetSummaryResponse
from llama_cloud.types.chat_list_response import ChatListResponse
from llama_cloud.types.chat_retrieve_response import ChatRetrieveResponse

KNOWN = {"user_input", "thinking_delta", "thinking", "text_delta", "text", "tool_call", "tool_result", "stop"}
binary = sys.argv[1]
proc = subprocess.Popen([binary, "--sessions", "150", "--projects", "proj-a,proj-b", "--key", "sdk-key"],
                        stdout=subprocess.PIPE, text=True)


def raw(base, path, **query):
    url = f"{base}{path}?{urllib.parse.urlencode(query)}"
    return json.loads(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer sdk-key"})).read())


try:
    base = proc.stdout.readline().strip()
    client = LlamaCloud(api_key="sdk-key", base_url=base, max_retries=0)
    seen = events = 0
    shapes = dict.fromkeys([
        "token with + / =", "content before type", "timestamp without fraction", "non-UTC offset", "null title",
        "null job_metadata", "never run", "export_config_ids", "skipped_index_ids", "usage field missing",
        "error run with tokens", "two text blocks", "text without deltas", "deltas not joining", "untyped content",
        "tool_result without image_attachment"], 0)
    for project in ["proj-a", "proj-b"]:
        token = None
        while True:  # the raw pages, to validate every list item strictly
            page = raw(base, "/api/v1/chat", project_id=project, page_size=7, **({"page_token": token} if token else {}))
            for item in page["items"]:
                ChatListResponse.model_validate(item, strict=True)
            token = page["next_page_token"]
            if not token:
                break
            if any(c in token for c in "+/="):
                shapes["token with + / ="] += 1
        for summary in client.chat.list(project_id=project, page_size=7):  # the SDK's own paging
            sid = summary.session_id
            ChatGetSummaryResponse.model_validate(raw(base, f"/api/v1/chat/{sid}/summary", project_id=project), strict=True)
            assert client.chat.get_summary(sid, project_id=project).session_id == sid
            full = client.chat.retrieve(sid, project_id=project)
            original = raw(base, f"/api/v1/chat/{sid}", project_id=project)
            ChatRetrieveResponse.model_validate({**original, "events": [e for e in original["events"] if e.get("type") in KNOWN]},
                                                strict=True)
            assert full.session_id == original["session_id"] == sid
            assert len(full.events) == len(original["events"])
            for decoded, event in zip(full.events, original["events"]):
                for key, value in decoded.model_dump(mode="json", exclude_unset=True).items():
                    assert event.get(key) == value, (sid, key, value, event.get(key))
            updated = original["last_updated_at"]
            shapes["timestamp without fraction"] += "." not in updated
            shapes["non-UTC offset"] += updated.endswith(("+05:30", "-08:00"))
            shapes["null title"] += original["generated_title"] is None
            shapes["null job_metadata"] += original["job_metadata"] is None
            shapes["never run"] += not original["events"]
            shapes["export_config_ids"] += bool((original["job_metadata"] or {}).get("export_config_ids"))
            kinds = [e.get("type") for e in original["events"]]
            for i, e in enumerate(original["events"]):
                shapes["content before type"] += list(e)[:2] == ["content", "type"]
                shapes["skipped_index_ids"] += bool(e.get("skipped_index_ids"))
                shapes["untyped content"] += list(e) == ["content"]
                shapes["tool_result without image_attachment"] += e.get("type") == "tool_result" and "image_attachment" not in e
                if e.get("type") == "stop":
                    u = e["usage"]
                    shapes["usage field missing"] += not {"duration_ms", "turns", "total_output_tokens"} <= set(u)
                    shapes["error run with tokens"] += e["is_error"] and u.get("total_input_tokens") is not None
                if e.get("type") == "text":
                    shapes["text without deltas"] += i == 0 or kinds[i - 1] != "text_delta"
                    start = i
                    while start > 0 and kinds[start - 1] == "text_delta":
                        start -= 1
                    if start < i:
                        shapes["deltas not joining"] += "".join(d["content"] for d in original["events"][start:i]) != e["content"]
            run_texts = 0
            for kind in kinds:
                run_texts = 0 if kind == "user_input" else run_texts + (kind == "text")
                if run_texts == 2:
                    shapes["two text blocks"] += 1
            seen += 1
            events += len(original["events"])
    assert seen == 300, seen
    missing = [name for name, count in shapes.items() if count == 0]
    assert not missing, f"the simulator never sent: {missing}"
    try:
        LlamaCloud(api_key="wrong", base_url=base, max_retries=0).chat.retrieve("x")
        raise SystemExit("a wrong key was accepted")
    except Exception as error:
        assert "401" in str(error) or "Authentication" in type(error).__name__, error
    print(f"sdk check: {seen} sessions, {events} events listed, summarised and retrieved with strict validation; "
          f"every shape seen ({min(shapes.values())}+ each)")
finally:
    proc.kill()

"""Drives Data Connector's MCP server with the official Python SDK (`mcp` on PyPI), the way an AI
client does: initialize, list tools, call every tool on SQLite and MariaDB, and the refusals.

Run by tests/mcp/main.rs, which sets up the data (see `fixture` there) and checks afterwards what
this cannot see (files and tables unchanged, the query log). Exits non-zero with the failed check.

    client.py http  --url http://127.0.0.1:PORT/mcp --api URL --key KEY --maria-db DB
    client.py stdio --command BIN --data-dir DIR --api URL --key KEY --maria-db DB
"""

import argparse
import asyncio
import json
import os
import sys

import httpx2
from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

FIXED_TOOLS = {"list_connections", "list_tables", "describe_table", "run_query"}
SAVED_TOOLS = {"query_cheap_items", "query_maria_totals"}


class Check:
    def __init__(self):
        self.count = 0

    def __call__(self, condition, what, detail=None):
        self.count += 1
        if not condition:
            raise AssertionError(f"{what}: {detail!r}")


check = Check()


def text_of(result):
    return "\n".join(block.text for block in result.content if block.type == "text")


async def call(session, name, arguments=None, *, error=False):
    result = await session.call_tool(name, arguments or {})
    check(result.is_error == error, f"{name}({arguments}) is_error should be {error}", text_of(result))
    return result


async def scenario(session, api, key, maria_db, notifications):
    init = session.initialize_result
    check(init.server_info.name == "data-connector", "server name", init.server_info)
    check(init.capabilities.tools is not None and init.capabilities.tools.list_changed, "tools.listChanged", init.capabilities)
    check("read-only" in (init.instructions or "").lower(), "instructions say read-only", init.instructions)

    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    check(FIXED_TOOLS | SAVED_TOOLS <= set(tools), "tool names", sorted(tools))
    for tool in tools.values():
        check(tool.description and len(tool.description) > 20, f"{tool.name} has a description", tool.description)
        check(tool.input_schema.get("type") == "object", f"{tool.name} schema is an object", tool.input_schema)
        check(tool.annotations and tool.annotations.read_only_hint, f"{tool.name} is marked read-only", tool.annotations)
    run_schema = tools["run_query"].input_schema
    check({"connection", "sql", "params", "limit", "format"} <= set(run_schema["properties"]), "run_query arguments", run_schema)
    check(set(run_schema.get("required", [])) == {"connection", "sql"}, "run_query required", run_schema)
    check(set(tools["describe_table"].input_schema.get("required", [])) == {"connection", "table"}, "describe_table required", tools["describe_table"].input_schema)
    cheap = tools["query_cheap_items"].input_schema
    check(cheap["properties"]["param_1"]["type"] == "number" and cheap["properties"]["param_1"]["default"] == 5.0, "saved query parameter schema", cheap)
    totals = tools["query_maria_totals"].input_schema
    check(set(totals["properties"]) == {"limit", "format"}, "a saved query without parameters takes only row options", totals)

    # Connections and schemas, on SQLite and MariaDB.
    listed = await call(session, "list_connections")
    names = {c["name"] for c in listed.structured_content["connections"]}
    check(names == {"shop", "maria"}, "connections", listed.structured_content)
    check("shop" in text_of(listed) and "| sqlite |" in text_of(listed), "connections as a table", text_of(listed))
    for connection, schema in [("shop", "main"), ("maria", maria_db)]:
        # MariaDB is shared with other tests, whose databases may have `items` tables too.
        tables = await call(session, "list_tables", {"connection": connection, "schema": schema})
        found = [t for t in tables.structured_content["tables"] if t["name"] == "items"]
        check(len(found) == 1 and found[0]["schema"] == schema, f"{connection} lists items", tables.structured_content)
        # Without a schema, the connection's own database wins over same-named tables elsewhere.
        described = await call(session, "describe_table", {"connection": connection, "table": "items"})
        check(described.structured_content["schema"] == schema, "the default schema", described.structured_content["schema"])
        columns = {c["name"]: c for c in described.structured_content["columns"]}
        check(set(columns) >= {"id", "name", "price"}, f"{connection} columns", columns)
        check(columns["name"]["nullable"] is False and columns["price"]["nullable"] is True, "nullability", columns)
        check("dec" in columns["price"]["type"].lower() or "real" in columns["price"]["type"].lower(), "types", columns)
        sample = described.structured_content["sample"]
        check(0 < sample["row_count"] <= 5, f"{connection} sample rows", sample)
        check(f"A sample of {sample['row_count']} rows:" in text_of(described), "sample in the text", text_of(described))
    qualified = await call(session, "describe_table", {"connection": "shop", "table": "main.items"})
    check(qualified.structured_content["table"] == "items", "schema.table", qualified.structured_content)
    missing = await call(session, "describe_table", {"connection": "shop", "table": "nope"}, error=True)
    check("main.items" in text_of(missing), "a missing table names the tables", text_of(missing))

    # Queries with bound parameters.
    n = await call(session, "run_query", {"connection": "shop", "sql": "SELECT count(*) AS n FROM items"})
    check(n.structured_content["rows"] == [{"n": 300}], "count on SQLite", n.structured_content)
    one = await call(session, "run_query", {"connection": "shop", "sql": "SELECT name FROM items WHERE id = ?", "params": [7]})
    check(one.structured_content["rows"] == [{"name": "item 7"}], "a bound parameter", one.structured_content)
    maria = await call(session, "run_query", {"connection": "maria", "sql": "SELECT id, name, price FROM items WHERE id > ? ORDER BY id", "params": [0]})
    check([r["name"] for r in maria.structured_content["rows"]] == ["alpha", "beta", "gamma"], "MariaDB rows", maria.structured_content)
    check("| 1 | alpha | 1.50 |" in text_of(maria), "MariaDB decimals keep their digits", text_of(maria))
    csv = await call(session, "run_query", {"connection": "maria", "sql": "SELECT name, note FROM items ORDER BY id", "format": "csv"})
    check(text_of(csv).endswith('name,note\nalpha,"a, b"\nbeta,"x|y\nz"\ngamma,\n'), "CSV quoting and NULL", text_of(csv))
    escaped = await call(session, "run_query", {"connection": "maria", "sql": "SELECT note FROM items WHERE id = 2"})
    check("| x\\|y<br>z |" in text_of(escaped), "markdown escaping", text_of(escaped))

    # The row cap: 200 by default, said plainly; a limit up to the maximum; a wide cell cut.
    capped = await call(session, "run_query", {"connection": "shop", "sql": "SELECT id FROM items ORDER BY id"})
    s = capped.structured_content
    check(s["row_count"] == 200 and s["truncated"] is True and s["row_limit"] == 200, "default row cap", {k: s[k] for k in ("row_count", "truncated", "row_limit")})
    check("more rows exist" in text_of(capped).splitlines()[0], "the cap is said plainly", text_of(capped)[:300])
    wider = await call(session, "run_query", {"connection": "shop", "sql": "SELECT id FROM items", "limit": 250})
    check(wider.structured_content["row_count"] == 250, "a larger limit", wider.structured_content["row_count"])
    whole = await call(session, "run_query", {"connection": "shop", "sql": "SELECT id FROM items", "limit": 1000})
    check(whole.structured_content["row_count"] == 300 and whole.structured_content["truncated"] is False, "under the limit", whole.structured_content["truncated"])
    too_many = await call(session, "run_query", {"connection": "shop", "sql": "SELECT 1", "limit": 5000}, error=True)
    check("between 1 and 1000" in text_of(too_many), "the maximum limit", text_of(too_many))
    wide = await call(session, "run_query", {"connection": "shop", "sql": "SELECT note FROM items WHERE id = 1"})
    check("…[cut: 100 more characters]" in text_of(wide) and "1 long value was cut" in text_of(wide), "a wide cell is cut", text_of(wide)[-200:])

    # Never a write, on connections that allow writes.
    for connection, sql, expected in [
        ("shop", "DELETE FROM items", "this request is read-only"),
        ("shop", "WITH x AS (SELECT 1) DELETE FROM items", "would write"),
        ("shop", "UPDATE items SET price = 0", "this request is read-only"),
        ("shop", "CREATE TABLE agent_was_here (x)", "this request is read-only"),
        ("shop", "SELECT 1; DROP TABLE items", "only one SQL statement"),
        ("maria", "UPDATE items SET price = 0", "this request is read-only"),
        ("maria", "DROP TABLE items", "this request is read-only"),
        ("maria", "SELECT bump()", "READ ONLY"),
        ("maria", "SELECT * FROM items INTO OUTFILE '/tmp/dc_mcp_out'", "this request is read-only"),
    ]:
        refused = await call(session, "run_query", {"connection": connection, "sql": sql}, error=True)
        check(expected.lower() in text_of(refused).lower(), f"{connection}: {sql} refused", text_of(refused))

    # Errors the model can read and act on.
    unknown = await call(session, "run_query", {"connection": "nope", "sql": "SELECT 1"}, error=True)
    check('"shop"' in text_of(unknown) and '"maria"' in text_of(unknown), "an unknown connection names the known ones", text_of(unknown))
    for name in ("list_tables", "describe_table"):
        await call(session, name, {"connection": "nope", "table": "t"} if name == "describe_table" else {"connection": "nope"}, error=True)
    syntax = await call(session, "run_query", {"connection": "shop", "sql": "SELECT nope FROM items"}, error=True)
    check("no such column: nope" in text_of(syntax), "the database's own message", text_of(syntax))
    bad_param = await call(session, "run_query", {"connection": "shop", "sql": "SELECT ?", "params": [[1, 2]]}, error=True)
    check("params[0]" in text_of(bad_param), "a bad parameter", text_of(bad_param))
    extra = await call(session, "run_query", {"connection": "shop", "sql": "SELECT 1", "rows": 3}, error=True)
    check("rows" in text_of(extra), "an unknown argument", text_of(extra))
    stale = await call(session, "query_that_was_deleted", {}, error=True)
    check("list the tools again" in text_of(stale), "an unknown tool", text_of(stale))

    # Saved queries as tools: defaults, a parameter, and the row options.
    cheap_rows = await call(session, "query_cheap_items")
    check(cheap_rows.structured_content["row_count"] == 9, "saved query with its default", cheap_rows.structured_content["row_count"])
    cheaper = await call(session, "query_cheap_items", {"param_1": 2, "format": "csv", "limit": 2})
    check(cheaper.structured_content["row_count"] == 2 and cheaper.structured_content["truncated"] is True, "saved query with a parameter and a limit", cheaper.structured_content)
    check(text_of(cheaper).splitlines()[2] == "id,name,price", "saved query as CSV", text_of(cheaper))
    wrong = await call(session, "query_cheap_items", {"symbol": "x"}, error=True)
    check("param_1" in text_of(wrong), "a saved query names its parameters", text_of(wrong))
    totals_rows = await call(session, "query_maria_totals")
    check(totals_rows.structured_content["rows"][0]["n"] == 3, "saved query on MariaDB", totals_rows.structured_content)

    # A saved query added elsewhere becomes a tool, and an open session hears about it.
    headers = {"X-API-KEY": key}
    async with httpx2.AsyncClient(headers=headers) as http:
        created = await http.post(f"{api}/api/v1/queries", json={"connection": "shop", "name": "Fresh one!", "sql": "SELECT 1 AS one"})
        check(created.status_code == 201, "saved query created", created.text)
        try:
            for _ in range(100):
                if notifications:
                    break
                await asyncio.sleep(0.1)
            check(notifications, "notifications/tools/list_changed", notifications)
            fresh = {tool.name for tool in (await session.list_tools()).tools}
            check("query_fresh_one" in fresh, "the new saved query is a tool", sorted(fresh))
            one_row = await call(session, "query_fresh_one")
            check(one_row.structured_content["rows"] == [{"one": 1}], "the new tool runs", one_row.structured_content)
        finally:
            await http.delete(f"{api}/api/v1/queries/{created.json()['id']}")


def on_message(notifications):
    async def handler(message):
        if isinstance(message, types.ToolListChangedNotification):
            notifications.append(message.method)
        elif isinstance(message, Exception):
            print(f"transport error: {message!r}", file=sys.stderr)

    return handler


async def over_http(args):
    notifications = []
    headers = {"X-API-KEY": args.key}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60, read=300)) as http:
        async with streamable_http_client(args.url, http_client=http) as (read, write):
            async with ClientSession(read, write, message_handler=on_message(notifications)) as session:
                await session.initialize()
                await scenario(session, args.api, args.key, args.maria_db, notifications)
    # A client on the newest revision (2026-07-28) opens with server/discover and no session.
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with streamable_http_client(args.url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                discovered = await session.discover()
                check(session.protocol_version == "2026-07-28", "the newest revision", session.protocol_version)
                check(discovered.capabilities.tools is not None, "discover names the tools capability", discovered)
                fresh = {tool.name for tool in (await session.list_tools()).tools}
                check(FIXED_TOOLS | SAVED_TOOLS <= fresh, "tools without a session", sorted(fresh))
                n = await call(session, "run_query", {"connection": "maria", "sql": "SELECT count(*) AS n FROM items"})
                check(n.structured_content["rows"] == [{"n": 3}], "a query without a session", n.structured_content)
                refused = await call(session, "run_query", {"connection": "maria", "sql": "DELETE FROM items"}, error=True)
                check("this request is read-only" in text_of(refused), "a write without a session", text_of(refused))
    # The key also works as a bearer token (what Workspace's Copilot sends for token servers).
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {args.key}"}, timeout=60) as http:
        async with streamable_http_client(args.url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = await call(session, "list_connections")
                check(len(listed.structured_content["connections"]) == 2, "bearer token", listed.structured_content)
    # Without the key, the SDK's own first request is refused.
    async with httpx2.AsyncClient(timeout=30) as http:
        refused = None
        try:
            async with streamable_http_client(args.url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await asyncio.wait_for(session.initialize(), 30)
        except BaseException as error:  # the SDK wraps the 401 in an exception group
            refused = error
        check(refused is not None, "initialize without the API key must fail", None)
        raw = await http.post(args.url, json=initialize_message(), headers={"Accept": "application/json, text/event-stream"})
        check(raw.status_code == 401 and "X-API-KEY" in raw.json()["detail"], "401 without the key", (raw.status_code, raw.text))
        wrong = await http.post(args.url, json=initialize_message(), headers={"X-API-KEY": "wrong", "Accept": "application/json, text/event-stream"})
        check(wrong.status_code == 401, "401 with a wrong key", wrong.status_code)
    # A page on a foreign origin, and a DNS-rebinding Host, are refused before the key is asked.
    accept = {"X-API-KEY": args.key, "Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient(timeout=30) as http:
        foreign = await http.post(args.url, json=initialize_message(), headers={**accept, "Origin": "https://evil.example"})
        check(foreign.status_code == 403 and "evil.example" in foreign.json()["detail"], "403 for a foreign Origin", (foreign.status_code, foreign.text))
        port = args.url.split(":")[2].split("/")[0]
        rebound = await http.post(args.url, json=initialize_message(), headers={**accept, "Host": f"attacker.example:{port}"})
        check(rebound.status_code == 403 and "DNS rebinding" in rebound.json()["detail"], "403 for a rebinding Host", (rebound.status_code, rebound.text))
        workspace = await http.post(args.url, json=initialize_message(), headers={**accept, "Origin": "https://pro.openbb.co"})
        check(workspace.status_code == 200, "Workspace's origin is let through", (workspace.status_code, workspace.text))
        check("mcp-session-id" in workspace.headers.get("access-control-expose-headers", "").lower(), "the session header is readable by the page", dict(workspace.headers))
    async with httpx2.AsyncClient(headers={**accept, "Origin": "https://evil.example"}, timeout=30) as http:
        refused = None
        try:
            async with streamable_http_client(args.url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await asyncio.wait_for(session.initialize(), 30)
        except BaseException as error:
            refused = error
        check(refused is not None, "the SDK from a foreign origin must fail", None)


def initialize_message():
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
    }


async def over_stdio(args):
    notifications = []
    params = StdioServerParameters(
        command=args.command,
        args=["mcp", "--data-dir", args.data_dir],
        env={k: v for k, v in os.environ.items() if k.startswith(("DBUS", "XDG", "HOME", "PATH", "DATA_CONNECTOR"))},
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, message_handler=on_message(notifications)) as session:
            await session.initialize()
            await scenario(session, args.api, args.key, args.maria_db, notifications)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["http", "stdio"])
    parser.add_argument("--url")
    parser.add_argument("--command")
    parser.add_argument("--data-dir")
    parser.add_argument("--api", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--maria-db", required=True)
    args = parser.parse_args()
    asyncio.run(over_http(args) if args.transport == "http" else over_stdio(args))
    print(json.dumps({"ok": True, "transport": args.transport, "checks": check.count}))


if __name__ == "__main__":
    main()

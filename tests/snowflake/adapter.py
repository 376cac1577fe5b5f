#!/usr/bin/env python3
"""Test-only HTTP adapter in front of fakesnow's server mode.

fakesnow 0.12.1 answers SELECT/SHOW/DDL with Arrow rowsets, while snowflake-connector-rs reads
Snowflake's JSON rowsets only. This process runs fakesnow's own request handlers in-process and:

* re-encodes every Arrow result the way Snowflake's JSON rowset does (all values are strings:
  FIXED/REAL as decimal text, BOOLEAN "1"/"0", DATE as days since the epoch, TIME as seconds with
  fraction, TIMESTAMP_* as epoch seconds with fraction plus "<1440+offset minutes>" for TZ,
  BINARY as hex, VARIANT as its JSON text);
* splits results longer than --chunk-rows into an inline part plus gzip chunks that it serves
  itself at /fs_chunks/{id}, so the client exercises Snowflake's multi-chunk download path;
* adds what fakesnow leaves out and the tests need, all opt-in per registered user so that
  unregistered logins behave exactly like fakesnow (which accepts any credentials):
  password / MFA passcode / key-pair JWT (RS256 signature and public-key fingerprint checked) /
  OAuth checks with Snowflake's error codes, accounts that do not exist (HTTP 404, like
  Snowflake's front door), the "no active warehouse" error, "insufficient privileges" errors,
  CURRENT_AVAILABLE_ROLES(), slow statements (/* adapter:sleep=SECONDS */) and a record of
  abort requests.

Test control endpoints: POST /_adapter/setup, POST /_adapter/expire, GET /_adapter/state,
GET /_adapter/health.
Never use this against anything but tests: it exists to emulate Snowflake, not to secure it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import datetime
import decimal
import gzip
import hashlib
import importlib
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from typing import Any

import pyarrow as pa
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# `fakesnow.server` the attribute is a context manager; the module holds the handlers.
fakesnow_server = importlib.import_module("fakesnow.server")

EPOCH_DATE = datetime.date(1970, 1, 1)
# Chunks kept for download; a client fetches each chunk right after the query, so older ones
# only matter for retries.
MAX_STORED_CHUNKS = 2000


class State:
    def __init__(self, chunk_rows: int) -> None:
        self.chunk_rows = chunk_rows
        # (ACCOUNT, USER) -> registration; see setup()
        self.users: dict[tuple[str, str], dict[str, Any]] = {}
        self.unknown_accounts: set[str] = set()
        # session token -> {"user": (ACCOUNT, USER) | None, "warehouse": str | None, "role": ...}
        self.sessions: dict[str, dict[str, Any]] = {}
        # tokens Snowflake would consider expired (see /_adapter/expire)
        self.expired: set[str] = set()
        self.logins: list[dict[str, Any]] = []
        self.aborts: list[str] = []
        self.running: dict[str, asyncio.Event] = {}
        self.chunks: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self.chunks_owner: dict[str, str] = {}
        # per chunked result: {"sql": ..., "chunks": n, "served": n}
        self.results: dict[str, dict[str, Any]] = {}


STATE = State(0)


def sf_error(code: str, sql_state: str, message: str, status: int = 200) -> JSONResponse:
    """An error shaped like Snowflake's: HTTP 200, success false, code and sqlState in data."""
    return JSONResponse(
        {
            "data": {
                "internalError": False,
                "errorCode": code,
                "age": 0,
                "sqlState": sql_state,
                "queryId": str(uuid.uuid4()),
                "line": -1,
                "pos": -1,
                "type": "COMPILATION",
            },
            "code": code,
            "message": message,
            "success": False,
            "headers": None,
        },
        status_code=status,
    )


def login_error(code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "data": {"nextAction": "RETRY_LOGIN", "authnMethod": "PASSWORD", "signInOptions": {}},
            "code": code,
            "message": message,
            "success": False,
            "headers": None,
        }
    )


async def read_json_body(request: Request) -> Any:
    raw = await request.body()
    if request.headers.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def replace_json_body(request: Request, body: Any) -> None:
    """Makes fakesnow's handler read `body` instead of what the client sent."""
    raw = json.dumps(body).encode()
    if request.headers.get("Content-Encoding") == "gzip":
        raw = gzip.compress(raw)
    request._body = raw  # noqa: SLF001 - Starlette caches the body here


# ---------------------------------------------------------------------------------------------
# Authentication


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_fingerprint(public_pem: str) -> str:
    key = serialization.load_pem_public_key(public_pem.encode())
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def check_jwt(token: str, account: str, user: str, public_pem: str) -> str | None:
    """Snowflake's key-pair checks: RS256 signature, issuer with the key's fingerprint, subject, expiry."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        payload = json.loads(b64url_decode(payload_b64))
        if header.get("alg") != "RS256":
            return "unsupported JWT algorithm"
        key = serialization.load_pem_public_key(public_pem.encode())
        key.verify(
            b64url_decode(signature_b64),
            f"{header_b64}.{payload_b64}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (ValueError, InvalidSignature, json.JSONDecodeError):
        return "bad signature"
    account_part = account.split(".")[0]
    if payload.get("iss") != f"{account_part}.{user}.{public_key_fingerprint(public_pem)}":
        return "issuer does not match the registered key"
    if payload.get("sub") != f"{account_part}.{user}":
        return "subject does not match"
    now = time.time()
    if not (payload.get("iat", 0) - 60 <= now <= payload.get("exp", 0)):
        return "expired"
    return None


def check_credentials(reg: dict[str, Any], account: str, user: str, data: dict[str, Any]) -> JSONResponse | None:
    authenticator = (data.get("AUTHENTICATOR") or "SNOWFLAKE").upper()
    if authenticator == "SNOWFLAKE_JWT":
        public_pem = reg.get("public_key")
        problem = "no public key registered" if not public_pem else check_jwt(data.get("TOKEN", ""), account, user, public_pem)
        if problem:
            return login_error("390144", f"JWT token is invalid. [{uuid.uuid4()}]")
        return None
    if authenticator == "OAUTH":
        if not reg.get("oauth_token") or data.get("TOKEN") != reg["oauth_token"]:
            return login_error("390303", "Invalid OAuth access token. [{}]".format(uuid.uuid4()))
        return None
    if reg.get("password") is None or data.get("PASSWORD") != reg["password"]:
        return login_error("390100", "Incorrect username or password was specified.")
    if reg.get("passcode") is not None and data.get("PASSCODE") != reg["passcode"]:
        return login_error("394507", "Failed to authenticate: MFA with TOTP is required. To authenticate, provide both your password and a current TOTP passcode.")
    return None


async def login_request(request: Request) -> Response:
    body = await read_json_body(request)
    data = body.setdefault("data", {})
    account = str(data.get("ACCOUNT_NAME") or "").upper()
    user = str(data.get("LOGIN_NAME") or "").upper()
    STATE.logins.append(
        {
            "account": account,
            "user": user,
            "authenticator": (data.get("AUTHENTICATOR") or "SNOWFLAKE").upper(),
            "session_parameters": data.get("SESSION_PARAMETERS"),
            "query": dict(request.query_params),
        }
    )
    if account in STATE.unknown_accounts:
        # What Snowflake's front door answers for a host whose account does not exist.
        return Response("<html><body><h1>404 Not Found</h1></body></html>", status_code=404, media_type="text/html")
    reg = STATE.users.get((account, user))
    if reg is not None and (error := check_credentials(reg, account, user, data)) is not None:
        return error
    # fakesnow fails with KeyError without SESSION_PARAMETERS; Snowflake treats it as optional.
    data.setdefault("SESSION_PARAMETERS", {})
    replace_json_body(request, body)
    response = await fakesnow_server.login_request(request)
    token = json.loads(response.body)["data"]["token"]
    STATE.sessions[token] = {
        "user": (account, user) if reg is not None else None,
        "warehouse": request.query_params.get("warehouse"),
        "role": request.query_params.get("roleName"),
    }
    return response


# ---------------------------------------------------------------------------------------------
# Arrow -> Snowflake JSON rowset


def scaled_decimal(total: int, scale: int) -> str:
    """`total` units of 10^-scale as Snowflake prints it: sign, integer part, exactly `scale` digits."""
    sign = "-" if total < 0 else ""
    total = abs(total)
    if scale == 0:
        return f"{sign}{total}"
    whole, frac = divmod(total, 10**scale)
    return f"{sign}{whole}.{frac:0{scale}d}"


def epoch_nanos(value: Any) -> int:
    if isinstance(value, dict):
        return int(value["epoch"]) * 10**9 + int(value.get("fraction") or 0)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    return int(value)


def encode_value(value: Any, rowtype: dict[str, Any]) -> str | None:
    # A NULL timestamp arrives as a struct whose fields are null.
    if value is None or (isinstance(value, dict) and value.get("epoch") is None):
        return None
    kind = str(rowtype.get("type", "")).lower()
    scale = rowtype.get("scale")
    if kind == "fixed":
        if isinstance(value, decimal.Decimal):
            return format(value, "f")
        if scale:
            return scaled_decimal(int(value), int(scale))
        return str(int(value))
    if kind == "real":
        return repr(float(value))
    if kind == "boolean":
        return "1" if value else "0"
    if kind == "date":
        if isinstance(value, datetime.date):
            return str((value - EPOCH_DATE).days)
        return str(int(value))
    if kind == "time":
        digits = 9 if scale is None else int(scale)
        if isinstance(value, datetime.time):
            nanos = ((value.hour * 60 + value.minute) * 60 + value.second) * 10**9 + value.microsecond * 1000
        else:
            nanos = int(value)
        return scaled_decimal(nanos // 10 ** (9 - digits), digits)
    if kind in ("timestamp_ntz", "timestamp_ltz", "timestamp_tz"):
        digits = 9 if scale is None else int(scale)
        text = scaled_decimal(epoch_nanos(value) // 10 ** (9 - digits), digits)
        if kind == "timestamp_tz":
            timezone = value.get("timezone", 1440) if isinstance(value, dict) else 1440
            text = f"{text} {timezone}"
        return text
    if kind == "binary":
        return bytes(value).hex().upper()
    if kind in ("variant", "object", "array") and not isinstance(value, str):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def arrow_to_rows(rowset_b64: str, rowtype: list[dict[str, Any]]) -> list[list[str | None]]:
    if not rowset_b64:
        return []
    table = pa.ipc.open_stream(base64.b64decode(rowset_b64)).read_all()
    columns = [
        [encode_value(v, rt) for v in table.column(i).to_pylist()] for i, rt in enumerate(rowtype)
    ]
    return [list(row) for row in zip(*columns)] if columns else []


def store_chunk(data: bytes, result_id: str) -> str:
    chunk_id = uuid.uuid4().hex
    STATE.chunks[chunk_id] = data
    STATE.chunks_owner[chunk_id] = result_id
    while len(STATE.chunks) > MAX_STORED_CHUNKS:
        old, _ = STATE.chunks.popitem(last=False)
        STATE.chunks_owner.pop(old, None)
    return chunk_id


def attach_rows(request: Request, data: dict[str, Any], rows: list[list[str | None]], sql: str) -> None:
    data["queryResultFormat"] = "json"
    data["total"] = len(rows)
    limit = STATE.chunk_rows
    if limit <= 0 or len(rows) <= limit:
        data["rowset"] = rows
        data["returned"] = len(rows)
        return
    base = f"{request.url.scheme}://{request.url.netloc}"
    result_id = uuid.uuid4().hex
    chunks = []
    for start in range(limit, len(rows), limit):
        part = rows[start : start + limit]
        # Snowflake's JSON chunk body: rows separated by commas, without the enclosing brackets.
        text = ",".join(json.dumps(row, separators=(",", ":")) for row in part).encode()
        packed = gzip.compress(text, compresslevel=1)
        chunk_id = store_chunk(packed, result_id)
        chunks.append(
            {
                "url": f"{base}/fs_chunks/{chunk_id}",
                "rowCount": len(part),
                "uncompressedSize": len(text),
                "compressedSize": len(packed),
            }
        )
    STATE.results[result_id] = {"sql": sql, "chunks": len(chunks), "served": 0}
    data["rowset"] = rows[:limit]
    data["returned"] = limit
    data["chunks"] = chunks
    # Presence (even empty) tells the client not to derive SSE-C headers from a qrmk.
    data["chunkHeaders"] = {}


async def chunk_download(request: Request) -> Response:
    chunk_id = request.path_params["chunk_id"]
    data = STATE.chunks.get(chunk_id)
    if data is None:
        return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
    owner = STATE.chunks_owner.get(chunk_id)
    if owner in STATE.results:
        STATE.results[owner]["served"] += 1
    # Served like S3 serves Snowflake's chunks: gzip bytes without a Content-Encoding header.
    return Response(data, media_type="application/octet-stream")


# ---------------------------------------------------------------------------------------------
# Queries

SLEEP_HOOK = re.compile(r"/\*\s*adapter:sleep=([0-9.]+)\s*\*/")
# Statements that read table data need a running warehouse; SHOW/DESCRIBE and FROM-less
# SELECTs (constants, context functions) are answered by Snowflake's cloud services.
NEEDS_WAREHOUSE = re.compile(r"^(?!\s*(show|desc|describe|use)\b).*\bfrom\b", re.IGNORECASE | re.DOTALL)
AVAILABLE_ROLES = re.compile(r"^\s*select\s+current_available_roles\s*\(\s*\)\s*;?\s*$", re.IGNORECASE)


def single_value_result(name: str, value: str) -> JSONResponse:
    return JSONResponse(
        {
            "data": {
                "parameters": [{"name": "TIMEZONE", "value": "Etc/UTC"}],
                "rowtype": [
                    {
                        "name": name,
                        "database": "",
                        "schema": "",
                        "table": "",
                        "nullable": False,
                        "type": "text",
                        "length": 16777216,
                        "byteLength": 16777216,
                        "precision": None,
                        "scale": None,
                        "collation": None,
                    }
                ],
                "rowset": [[value]],
                "total": 1,
                "returned": 1,
                "queryId": str(uuid.uuid4()),
                "queryResultFormat": "json",
            },
            "success": True,
        }
    )


async def query_request(request: Request) -> Response:
    token = request.headers.get("Authorization", "")[17:-1]
    session = STATE.sessions.get(token)
    body = await read_json_body(request)
    sql = str(body.get("sqlText", ""))
    request_id = request.query_params.get("requestId", "")
    if token in STATE.expired:
        return JSONResponse(
            {"data": None, "code": "390112", "message": "Your session has expired. Please login again.", "success": False}
        )

    reg = STATE.users.get(session["user"]) if session and session.get("user") else None
    if reg is not None:
        for pattern in reg.get("denied", []):
            if re.search(pattern, sql, re.IGNORECASE):
                return sf_error(
                    "003001",
                    "42501",
                    f"SQL access control error:\nInsufficient privileges to operate on table '{pattern.upper()}'",
                )
        warehouses = reg.get("warehouses")
        if warehouses is not None and NEEDS_WAREHOUSE.match(sql):
            current = (session.get("warehouse") or "").upper()
            if current not in {w.upper() for w in warehouses}:
                return sf_error(
                    "000606",
                    "57P03",
                    "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.\n",
                )
        if AVAILABLE_ROLES.match(sql):
            return single_value_result("CURRENT_AVAILABLE_ROLES()", json.dumps(reg.get("roles", ["PUBLIC"])))

    if match := SLEEP_HOOK.search(sql):
        event = asyncio.Event()
        STATE.running[request_id] = event
        try:
            await asyncio.wait_for(event.wait(), float(match.group(1)))
            aborted = True
        except asyncio.TimeoutError:
            aborted = False
        finally:
            STATE.running.pop(request_id, None)
        if aborted:
            return sf_error("000604", "57014", "SQL execution canceled")

    response = await fakesnow_server.query_request(request)
    payload = json.loads(response.body)
    data = payload.get("data") or {}
    if payload.get("success") and data.get("queryResultFormat") == "arrow":
        # Off the event loop, so abort and control requests are answered during big conversions.
        rows = await run_in_threadpool(arrow_to_rows, data.pop("rowsetBase64", ""), data.get("rowtype") or [])
        await run_in_threadpool(attach_rows, request, data, rows, sql)
    elif payload.get("success") and "rowset" in data:
        data.setdefault("returned", len(data["rowset"]))
    elif not payload.get("success") and isinstance(payload.get("data"), dict):
        # Snowflake's errors carry the query id; fakesnow's do not, and clients may require it.
        payload["data"].setdefault("queryId", str(uuid.uuid4()))
    return JSONResponse(payload, status_code=response.status_code)


async def abort_request(request: Request) -> Response:
    body = await read_json_body(request)
    request_id = str(body.get("requestId", ""))
    STATE.aborts.append(request_id)
    if (event := STATE.running.get(request_id)) is not None:
        event.set()
    return JSONResponse({"data": None, "code": None, "message": None, "success": True})


# ---------------------------------------------------------------------------------------------
# Test control


async def setup(request: Request) -> Response:
    """Registers users ({account, user, password?, passcode?, public_key?, oauth_token?, roles?,
    warehouses?, denied?}) and accounts that must not exist ({unknown_accounts: [...]})."""
    body = await request.json()
    for user in body.get("users", []):
        STATE.users[(user["account"].upper(), user["user"].upper())] = user
    STATE.unknown_accounts.update(a.upper() for a in body.get("unknown_accounts", []))
    return JSONResponse({"ok": True})


async def expire(request: Request) -> Response:
    """Expires every session of one registered user ({account, user}), as Snowflake does after
    the token's validity (the client must log in again)."""
    body = await request.json()
    key = (body["account"].upper(), body["user"].upper())
    tokens = [t for t, s in STATE.sessions.items() if s.get("user") == key]
    STATE.expired.update(tokens)
    return JSONResponse({"expired": len(tokens)})


async def state(_: Request) -> Response:
    return JSONResponse(
        {
            "logins": STATE.logins,
            "aborts": STATE.aborts,
            "running": list(STATE.running),
            "results": list(STATE.results.values()),
        }
    )


async def health(_: Request) -> Response:
    return JSONResponse({"ok": True})


def build_app() -> Starlette:
    ours = {
        "/session/v1/login-request": login_request,
        "/queries/v1/query-request": query_request,
        "/queries/v1/abort-request": abort_request,
    }
    routes = [
        Route(r.path, ours[r.path], methods=["POST"]) if r.path in ours else r
        for r in fakesnow_server.routes
    ]
    routes += [
        Route("/fs_chunks/{chunk_id}", chunk_download, methods=["GET"]),
        Route("/_adapter/setup", setup, methods=["POST"]),
        Route("/_adapter/expire", expire, methods=["POST"]),
        Route("/_adapter/state", state, methods=["GET"]),
        Route("/_adapter/health", health, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def exit_when_stdin_closes() -> None:
    """The Rust tests hold our stdin open; when their process ends, however it ends, we go too."""
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose")
    parser.add_argument("--chunk-rows", type=int, default=5000, help="rows per result part; 0 sends every result inline")
    parser.add_argument("--url-file", help="also write the adapter URL to this file once it accepts connections")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin reaches EOF")
    args = parser.parse_args()

    STATE.chunk_rows = args.chunk_rows

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    url = f"http://{args.host}:{sock.getsockname()[1]}"

    config = uvicorn.Config(build_app(), log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started:
            time.sleep(0.02)
        if args.url_file:
            tmp = args.url_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(url + "\n")
            os.replace(tmp, args.url_file)
        print(f"ADAPTER_URL={url}", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    if args.exit_with_stdin:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()

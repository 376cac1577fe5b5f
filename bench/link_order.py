#!/usr/bin/env python3
"""Writes bench/link-order.txt: the functions a serving process runs, which the linker then
places next to each other (the build scripts pass it to lld as --symbol-ordering-file).

Why (bench/link_order.rs, which both build scripts include): the binary holds about 87 MB of
code, most of it DuckDB's C++, and the kernel maps file pages around every page a process
touches. Code run at start-up (DuckDB's static initializers) and per query, spread over the
whole text, kept 23 MB of code resident; placed together, under 4 MB (README, "Speed").

    bench/link_order.py --bin target/release/data-connector [--data /tmp/dc-bench]

Runs the release server under valgrind's callgrind (which records every function that runs)
through what a user does: start, add SQLite, MariaDB and PostgreSQL connections, query each as
JSON, Arrow and CSV, an indexed query, list connections and tables. Keeps the names `nm` finds in
the binary, sorted so the file diffs well. Needs valgrind, MariaDB and PostgreSQL on 127.0.0.1;
it uses the bench's data and databases (made as bench.py makes them). Regenerate after large changes to
the code a query runs, and after changing the release profile (LTO inlines and renames functions:
of 4,659 names recorded without it, 1,236 were left); a stale name is skipped by the linker, so a
stale file only helps less.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "link-order.txt")


def call(url, path, payload=None, accept="application/json"):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method="GET" if data is None else "POST",
                                     headers={"content-type": "application/json", "accept": accept})
    with urllib.request.urlopen(request, timeout=600) as response:
        body = response.read()
        if response.status >= 300:
            sys.exit(f"{path}: HTTP {response.status}")
        return body


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "dc-bench"))
    parser.add_argument("--rows", type=int, default=1_000_000, help="the bench's data set (bench.py --rows)")
    parser.add_argument("--limit", type=int, default=20_000, help="rows per query")
    args = parser.parse_args()

    os.makedirs(args.data, exist_ok=True)
    db = os.path.join(args.data, f"prices_{args.rows}.db")
    if not os.path.exists(db):
        bench.generate(db + ".partial", args.rows)
        os.rename(db + ".partial", db)
    bench.load_mysql(db, args.rows)
    bench.load_postgres(db, args.rows)

    with tempfile.TemporaryDirectory() as work:
        profile = os.path.join(work, "callgrind.out")
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no", "--dump-instr=no",
             f"--callgrind-out-file={profile}", args.bin, "serve", "--port", "auto", "--ephemeral-secrets",
             "--data-dir", work, "--max-rows", "5000000"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            server.kill()
            sys.exit(f"server did not start under valgrind: {line!r}")
        url = line.removeprefix("listening on ")
        try:
            call(url, "/api/v1/connections", {"name": "sqlite", "kind": "sqlite", "path": db})
            call(url, "/api/v1/connections", {"name": "mariadb", "kind": "mysql", "host": "127.0.0.1",
                                              "user": "root", "database": "dc_bench", "tls": "disable"})
            call(url, "/api/v1/connections", {"name": "pg", "kind": "postgres", "host": "127.0.0.1",
                                              "user": "postgres", "database": "dc_bench", "tls": "disable"})
            for name in ("sqlite", "mariadb", "pg"):
                for accept in ("application/json", "application/vnd.apache.arrow.stream", "text/csv"):
                    # Longer than the held-back window, so the streaming path and its probe run too.
                    call(url, "/api/v1/query", {"connection": name, "sql": "SELECT * FROM prices",
                                                "limit": args.limit}, accept)
                call(url, "/api/v1/query", {"connection": name, "limit": 100,
                                            "sql": "SELECT * FROM prices WHERE ticker BETWEEN 'T0001' AND 'T0005'"})
                call(url, f"/api/v1/connections/{name}/tables")
            call(url, "/api/v1/connections")
        finally:
            server.send_signal(2)
            try:
                server.wait(timeout=120)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        # Give valgrind a moment to finish writing after the server has exited.
        time.sleep(1)
        ran = set()
        with open(profile, errors="replace") as out:
            for line in out:
                if line.startswith(("fn=", "cfn=")):
                    name = line.split("=", 1)[1].strip()
                    if name.startswith("("):
                        name = name.split(") ", 1)[-1]
                    ran.add(name)
    defined = subprocess.run(["nm", "--defined-only", args.bin], capture_output=True, text=True, check=True)
    in_binary = {p[2] for p in (l.split(" ", 2) for l in defined.stdout.splitlines())
                 if len(p) == 3 and p[1] in "tTwW"}
    names = sorted(ran & in_binary)
    if len(names) < 1000:
        sys.exit(f"only {len(names)} functions recorded; is the binary built with symbols?")
    with open(OUT, "w") as out:
        out.write("\n".join(names) + "\n")
    print(f"{OUT}: {len(names)} functions")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""End-to-end benchmark: our server streaming SQL results over HTTP, measured with curl, side by
side with the databases' own command-line clients on the same data. README.md, "Speed", states
the targets and the latest figures.

    bench/run.sh                # builds the release binary, then runs this
    bench/bench.py --bin target/release/data-connector [--rows 1000000] [--runs 5] [--skip-mysql]

Data: the peers' generator (peers.md): `prices(ticker, date, open, high, low, close, volume,
adj_close)`, 500 tickers x N/500 dates, seed 20240501, indexed by ticker. Every figure is the
median wall time of `--runs` runs after one warm-up, each run one whole curl (or client) process.
Peak RSS is the server's VmHWM over the SQLite series, then (reset) over the MariaDB series.
"""

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta

SEED = 20240501
TICKERS = 500
TARGETS = {"sqlite_1m_s": 0.75, "sqlite_10k_ms": 35.0, "rss_mib": 32.0, "mysql_1m_s": 1.3}


def generate(path, rows):
    days = rows // TICKERS
    rng = random.Random(SEED)
    dates = []
    d = date(2015, 1, 2)
    while len(dates) < days:
        if d.weekday() < 5:
            dates.append(d.isoformat())
        d += timedelta(days=1)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE prices (ticker TEXT, date TEXT, open REAL, high REAL, low REAL, close REAL, "
        "volume INTEGER, adj_close REAL)"
    )
    price = {f"T{i:04d}": 20 + rng.random() * 480 for i in range(1, TICKERS + 1)}

    def batch():
        for day in dates:
            for ticker in price:
                p = price[ticker] * (1 + rng.gauss(0, 0.02))
                price[ticker] = p
                o = round(p * (1 + rng.gauss(0, 0.005)), 3)
                c = round(p, 3)
                yield (ticker, day, o, round(max(o, c) * 1.01, 3), round(min(o, c) * 0.99, 3), c,
                       rng.randint(10_000, 5_000_000), round(c * 0.98, 3))

    conn.executemany("INSERT INTO prices VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch())
    conn.execute("CREATE INDEX idx_prices_ticker ON prices (ticker)")
    conn.commit()
    conn.close()


def timed(cmd, runs):
    """Median/min/max seconds of `cmd` writing to /dev/null (as the peers were measured), and
    its output size from one more, untimed run."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        elapsed = time.perf_counter() - start
        if i > 0:
            times.append(elapsed)
    size = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        while chunk := proc.stdout.read(1 << 20):
            size += len(chunk)
    return statistics.median(times), min(times), max(times), size


def curl_query(url, connection, sql, limit, runs, accept="application/json"):
    body = json.dumps({"connection": connection, "sql": sql, "limit": limit})
    # curl writes the body to stdout so the size is measured the same way as the CLI clients'.
    cmd = ["curl", "-sS", "--fail", "-X", "POST", "-H", "content-type: application/json", "-H",
           f"accept: {accept}", "--data", body, f"{url}/api/v1/query"]
    return timed(cmd, runs)


def start_server(binary, data_dir):
    proc = subprocess.Popen(
        [binary, "serve", "--port", "auto", "--ephemeral-secrets", "--data-dir", data_dir,
         "--max-rows", "5000000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"server did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def post(url, path, payload):
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(payload).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss(pid):
    """Resets VmHWM so the next series is measured on its own (Linux clear_refs, value 5)."""
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")


def load_mysql(db_path, rows):
    """Copies the SQLite data into MariaDB database dc_bench (LOAD DATA from a TSV)."""
    mysql = ["mariadb", "-h", "127.0.0.1", "-u", "root", "--local-infile=1"]
    have = subprocess.run(mysql + ["-N", "-e", "SELECT count(*) FROM dc_bench.prices"],
                          capture_output=True, text=True)
    if have.returncode == 0 and have.stdout.strip() == str(rows):
        return
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as tsv:
        for row in sqlite3.connect(db_path).execute("SELECT * FROM prices"):
            tsv.write("\t".join(map(str, row)) + "\n")
    subprocess.run(mysql + ["-e",
        "DROP DATABASE IF EXISTS dc_bench; CREATE DATABASE dc_bench; "
        "CREATE TABLE dc_bench.prices (ticker VARCHAR(8), date DATE, open DOUBLE, high DOUBLE, "
        "low DOUBLE, close DOUBLE, volume BIGINT, adj_close DOUBLE, KEY (ticker)); "
        f"LOAD DATA LOCAL INFILE '{tsv.name}' INTO TABLE dc_bench.prices"], check=True)
    os.unlink(tsv.name)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="target/release/data-connector")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "dc-bench"))
    parser.add_argument("--skip-mysql", action="store_true", help="leave out the MariaDB series")
    args = parser.parse_args()

    os.makedirs(args.data, exist_ok=True)
    db = os.path.join(args.data, f"prices_{args.rows}.db")
    if not os.path.exists(db):
        print(f"generating {args.rows} rows into {db} ...", file=sys.stderr)
        generate(db + ".partial", args.rows)
        os.rename(db + ".partial", db)

    results = []

    def record(name, tool, rows, measured):
        median, low, high, size = measured
        results.append({"case": name, "tool": tool, "rows": rows, "median_s": median, "min_s": low,
                        "max_s": high, "bytes": size, "rows_per_s": rows / median})

    all_sql = "SELECT * FROM prices"
    ten_k_sql = "SELECT * FROM prices WHERE ticker BETWEEN 'T0001' AND 'T0005'"
    ten_k_rows = 5 * (args.rows // TICKERS)

    with tempfile.TemporaryDirectory() as data_dir:
        server, url = start_server(args.bin, data_dir)
        try:
            post(url, "/api/v1/connections", {"name": "bench", "kind": "sqlite", "path": db})
            # Small queries first: right after a few GB have streamed through the machine, every
            # process on it (not just this server) answers them ~20% slower for a while.
            record("sqlite 10K", "data-connector (HTTP, JSON)", ten_k_rows,
                   curl_query(url, "bench", ten_k_sql, args.rows, max(args.runs, 20)))
            record("sqlite ALL", "data-connector (HTTP, JSON)", args.rows,
                   curl_query(url, "bench", all_sql, args.rows, args.runs))
            record("sqlite ALL", "data-connector (HTTP, CSV)", args.rows,
                   curl_query(url, "bench", all_sql, args.rows, args.runs, "text/csv"))
            rss = {"SQLite": peak_rss_mib(server.pid)}
            if not args.skip_mysql:
                reset_peak_rss(server.pid)
                load_mysql(db, args.rows)
                post(url, "/api/v1/connections", {"name": "mariadb", "kind": "mysql", "host": "127.0.0.1",
                                                  "user": "root", "database": "dc_bench", "tls": "disable"})
                record("mysql ALL", "data-connector (HTTP, JSON)", args.rows,
                       curl_query(url, "mariadb", all_sql, args.rows, args.runs))
                rss["MariaDB"] = peak_rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait()

    record("sqlite 10K", "sqlite3 -json (no HTTP)", ten_k_rows,
           timed(["sqlite3", "-json", db, ten_k_sql], max(args.runs, 20)))
    record("sqlite ALL", "sqlite3 -json (no HTTP)", args.rows, timed(["sqlite3", "-json", db, all_sql], args.runs))
    if not args.skip_mysql:
        record("mysql ALL", "mariadb --batch --quick (TSV)", args.rows,
               timed(["mariadb", "-h", "127.0.0.1", "-u", "root", "--batch", "--quick", "-e",
                      "SELECT * FROM dc_bench.prices"], args.runs))

    print(f"| case | tool | rows | median s (min-max) | rows/s | bytes |")
    print(f"|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['case']} | {r['tool']} | {r['rows']:,} | {r['median_s']:.3f} ({r['min_s']:.3f}-{r['max_s']:.3f}) "
              f"| {r['rows_per_s'] / 1e6:.2f}M | {r['bytes']:,} |")
    for engine, mib in rss.items():
        print(f"\nserver peak RSS during the {engine} series (VmHWM): {mib:.1f} MiB")

    def ours(case):
        return next(r for r in results if r["case"] == case and r["tool"] == "data-connector (HTTP, JSON)")

    checks = [("1M SQLite rows", ours("sqlite ALL")["median_s"], TARGETS["sqlite_1m_s"], "s"),
              ("10k SQLite rows", ours("sqlite 10K")["median_s"] * 1000, TARGETS["sqlite_10k_ms"], "ms"),
              ("server peak RSS, SQLite series", rss["SQLite"], TARGETS["rss_mib"], "MiB")]
    if not args.skip_mysql:
        checks.append(("1M MariaDB rows", ours("mysql ALL")["median_s"], TARGETS["mysql_1m_s"], "s"))
    print("\n| target | measured | limit | |\n|---|---|---|---|")
    for name, value, limit, unit in checks:
        print(f"| {name} | {value:.3f} {unit} | {limit} {unit} | {'met' if value <= limit else 'MISSED'} |")


if __name__ == "__main__":
    main()

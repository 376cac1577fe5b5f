#!/usr/bin/env python3
"""End-to-end benchmark: our server streaming SQL results over HTTP, measured with curl, side by
side with ROAPI 0.12.7 (from PyPI, serving the same SQLite file from its in-memory snapshot) and
the databases' own command-line clients on the same data. Prints every figure, our ratio to
each reference, and the SPEC §8 targets as met/MISSED. README.md, "Speed", holds the latest run.

    bench/run.sh                # builds the release binary, then runs this
    bench/bench.py --bin target/release/data-connector [--rows 1000000] [--runs 5]
                   [--skip-roapi] [--skip-mysql] [--skip-postgres] [--skip-snowflake]
                   [--burst-seconds 5]

Data: the peers' generator (peers.md): `prices(ticker, date, open, high, low, close, volume,
adj_close)`, 500 tickers x N/500 dates, seed 20240501, indexed by ticker; copied into MariaDB and
PostgreSQL databases `dc_bench` for their series. Snowflake has no peer here: its series runs
against fakesnow behind the tests' JSON adapter (tests/fixtures/fakesnow, venv made by its
start.sh), on a table of the same shape that SQL generates there (values differ; the bytes are
within 2%), and reports the CPU our server and the adapter each spent per request. Every figure
is the median wall time of `--runs` runs (20 for the 10k queries) after one warm-up, each run one
whole curl (or client) process. Both servers get the same SQLite series in the same order (10k
fresh, 1M JSON, 1M Arrow, 10k right after the big results, 1M CSV), and within each case our
runs and each peer's alternate (A B, B A, ...), so load that drifts on this shared machine
weighs on both sides of a ratio alike. Peak RSS is each server's VmHWM over a series (reset
between series). The burst is 64 keep-alive clients each sending its next small query as soon
as the last is answered. A full run took 2 min 18 s on the README's machine (the Snowflake
series about 40 s of it); ROAPI's venv is made once under --data (pip, bounded to 10 minutes).
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
ROAPI_VERSION = "0.12.7"
MARIADB_CLI = "mariadb --batch --quick (TSV)"
PSQL_CLI = "psql --csv"
# SPEC §8, wave 2: our time over the reference's, measured in the same run (rss in MiB).
TARGETS = {"sqlite_1m_vs_roapi": 0.75, "sqlite_10k_vs_roapi": 1.1, "arrow_vs_roapi": 2.0, "cli_ratio": 0.65,
           "rss_mib": 32.0}


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


def output_size(cmd):
    size = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        while chunk := proc.stdout.read(1 << 20):
            size += len(chunk)
    return size


def run_once(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - start


def timed(cmd, runs):
    """Median/min/max seconds of `cmd` writing to /dev/null (as the peers were measured), and
    its output size from one more, untimed run."""
    return side_by_side([("", cmd)], runs)[""]


def side_by_side(cmds, runs):
    """`timed` for several tools at once, their runs interleaved (A B, then B A, ...) so that the
    machine's load drifting during a series (it is shared) weighs on every tool alike. Each tool
    runs once untimed first. Returns {tool: (median, min, max, bytes)}."""
    for _, cmd in cmds:
        run_once(cmd)
    times = {tool: [] for tool, _ in cmds}
    for i in range(runs):
        for tool, cmd in (cmds if i % 2 == 0 else cmds[::-1]):
            times[tool].append(run_once(cmd))
    return {tool: (statistics.median(times[tool]), min(times[tool]), max(times[tool]), output_size(cmd))
            for tool, cmd in cmds}


def curl_command(url, connection, sql, limit, accept="application/json"):
    body = json.dumps({"connection": connection, "sql": sql, "limit": limit})
    # curl writes the body to stdout so the size is measured the same way as the CLI clients'.
    return ["curl", "-sS", "--fail", "-X", "POST", "-H", "content-type: application/json", "-H",
            f"accept: {accept}", "--data", body, f"{url}/api/v1/query"]


def curl_query(url, connection, sql, limit, runs, accept="application/json"):
    return timed(curl_command(url, connection, sql, limit, accept), runs)


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


SNOWFLAKE_PRICES = """CREATE OR REPLACE TABLE PRICES AS SELECT
 'T' || LPAD(TO_VARCHAR(MOD(SEQ4(), {tickers}) + 1), 4, '0') AS TICKER,
 TO_VARCHAR(DATEADD(DAY, FLOOR(SEQ4() / {tickers}), '2015-01-02'::DATE)) AS DATE,
 (20 + MOD(SEQ4() * 7919, 48000) / 100.0)::FLOAT AS OPEN,
 (21 + MOD(SEQ4() * 7907, 48000) / 100.0)::FLOAT AS HIGH,
 (19 + MOD(SEQ4() * 7901, 48000) / 100.0)::FLOAT AS LOW,
 (20 + MOD(SEQ4() * 7883, 48000) / 100.0)::FLOAT AS CLOSE,
 10000 + MOD(SEQ4() * 104729, 4990000) AS VOLUME,
 (19.6 + MOD(SEQ4() * 7879, 48000) / 100.0)::FLOAT AS ADJ_CLOSE
FROM TABLE(GENERATOR(ROWCOUNT => {rows}))"""
# fakesnow answers 1M rows in about 10 s (its adapter re-encodes every value in Python), so this
# series runs fewer times than the others.
SNOWFLAKE_RUNS = 2


def start_snowflake_adapter(data_dir):
    """fakesnow's server behind the tests' JSON adapter, on a free port; its venv is made (or
    checked) by tests/fixtures/fakesnow/start.sh. Returns the process and its URL."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fixtures = os.path.join(root, "tests", "fixtures", "fakesnow")
    subprocess.run([os.path.join(fixtures, "start.sh"), "setup"], check=True, stdout=subprocess.DEVNULL,
                   timeout=600)
    venv = os.environ.get("DC_FAKESNOW_VENV", os.path.join(root, ".venv-fakesnow"))
    url_file = os.path.join(data_dir, "adapter.url")
    proc = subprocess.Popen(
        [os.path.join(venv, "bin", "python"), os.path.join(fixtures, "adapter.py"), "--port", "0",
         "--chunk-rows", "5000", "--url-file", url_file, "--exit-with-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not os.path.exists(url_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit("the fakesnow adapter did not start (tests/fixtures/fakesnow/start.sh start shows its log)")
        time.sleep(0.2)
    with open(url_file) as f:
        return proc, f.read().strip()


def cpu_seconds(pid):
    """User and system CPU a process has used so far, its finished threads included."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def roapi_binary(data):
    """ROAPI 0.12.7 from PyPI in a venv of its own under the data folder (made once, bounded)."""
    venv = os.path.join(data, "roapi-venv")
    binary = os.path.join(venv, "bin", "roapi")
    if not os.path.exists(binary):
        print(f"installing roapi=={ROAPI_VERSION} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", f"roapi=={ROAPI_VERSION}"],
                       check=True, timeout=600)
    return binary


def start_roapi(binary, db):
    """ROAPI serving the same file; its pgwire and FlightSQL listeners get free ports so they
    never collide with a PostgreSQL on 5432. It copies the table into memory before answering."""
    port = free_port()
    proc = subprocess.Popen(
        [binary, "-a", f"127.0.0.1:{port}", "-p", f"127.0.0.1:{free_port()}",
         "--addr-flight-sql", f"127.0.0.1:{free_port()}", "-t", f"prices=sqlite://{db}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/tables/prices?limit=1", timeout=5):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                sys.exit("roapi exited during start-up")
            time.sleep(0.2)
    proc.kill()
    sys.exit("roapi did not load the table within 120 s")


def roapi_command(url, sql, accept="application/json"):
    return ["curl", "-sS", "--fail", "-X", "POST", "-H", f"accept: {accept}", "--data", sql, f"{url}/api/sql"]


def load_postgres(db_path, rows):
    """Copies the SQLite data into PostgreSQL database dc_bench (COPY from a TSV)."""
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    have = subprocess.run(psql + ["-d", "dc_bench", "-Atc", "SELECT count(*) FROM prices"],
                          capture_output=True, text=True)
    if have.returncode == 0 and have.stdout.strip() == str(rows):
        return
    subprocess.run(psql + ["-c", "DROP DATABASE IF EXISTS dc_bench", "-c", "CREATE DATABASE dc_bench"], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as tsv:
        for row in sqlite3.connect(db_path).execute("SELECT * FROM prices"):
            tsv.write("\t".join(map(str, row)) + "\n")
    subprocess.run(psql + ["-d", "dc_bench", "-c",
        "CREATE TABLE prices (ticker VARCHAR(8), date DATE, open DOUBLE PRECISION, high DOUBLE PRECISION, "
        "low DOUBLE PRECISION, close DOUBLE PRECISION, volume BIGINT, adj_close DOUBLE PRECISION)",
        "-c", f"\\copy prices FROM '{tsv.name}'", "-c", "CREATE INDEX ON prices (ticker)"], check=True)
    os.unlink(tsv.name)


async def burst_client(host, port, request, stop_at, latencies, failures):
    import asyncio
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if length is None:
                # Chunked: read to the terminating chunk.
                await reader.readuntil(b"0\r\n\r\n")
            else:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not status.startswith(b"2"):
                failures.append(status)
    finally:
        writer.close()


def burst(url, connection, sql, clients, seconds):
    """`clients` keep-alive connections, each sending its next query as soon as the last is
    answered (a Workspace dashboard's burst, as in tests/hardening/load.rs)."""
    import asyncio
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"connection": connection, "sql": sql}).encode()
    request = (f"POST /api/v1/query HTTP/1.1\r\nHost: {host}:{port}\r\ncontent-type: application/json\r\n"
               f"content-length: {len(body)}\r\n\r\n").encode() + body
    latencies, failures = [], []

    async def run():
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(burst_client(host, int(port), request, stop_at, latencies, failures)
                               for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return {"answers_per_s": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "non_2xx": len(failures)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="target/release/data-connector")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "dc-bench"))
    parser.add_argument("--skip-roapi", action="store_true", help="leave out ROAPI (no venv is made)")
    parser.add_argument("--skip-mysql", action="store_true", help="leave out the MariaDB series")
    parser.add_argument("--skip-postgres", action="store_true", help="leave out the PostgreSQL series")
    parser.add_argument("--skip-snowflake", action="store_true", help="leave out the Snowflake (fakesnow) series")
    parser.add_argument("--burst-seconds", type=int, default=5)
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
    small_runs = max(args.runs, 20)
    ours, roapi = "data-connector", f"ROAPI {ROAPI_VERSION}"
    arrow = "application/vnd.apache.arrow.stream"
    rss, bursts, notes = {}, {}, []

    def compare(name, rows, runs, cmds):
        for tool, measured in side_by_side(cmds, runs).items():
            record(name, tool, rows, measured)

    # Both servers (and the CLI clients) get the same series in the same order, their runs
    # interleaved: 10k fresh, 1M JSON, 1M Arrow, then 10k again right after the big results.
    roapi_proc = None
    with tempfile.TemporaryDirectory() as data_dir:
        server, url = start_server(args.bin, data_dir)
        try:
            if not args.skip_roapi:
                roapi_proc, roapi_url = start_roapi(roapi_binary(args.data), db)
            post(url, "/api/v1/connections", {"name": "bench", "kind": "sqlite", "path": db})

            def sqlite_case(name, sql, rows, runs, accept="application/json", roapi_accept=None, cli=False):
                cmds = [(ours, curl_command(url, "bench", sql, args.rows, accept))]
                if roapi_proc:
                    cmds.append((roapi, roapi_command(roapi_url, sql, roapi_accept or accept)))
                if cli:
                    cmds.append(("sqlite3 -json", ["sqlite3", "-json", db, sql]))
                compare(name, rows, runs, cmds)

            sqlite_case("sqlite 10K fresh", ten_k_sql, ten_k_rows, small_runs, cli=True)
            sqlite_case("sqlite ALL JSON", all_sql, args.rows, args.runs, cli=True)
            sqlite_case("sqlite ALL Arrow", all_sql, args.rows, args.runs, arrow)
            sqlite_case("sqlite 10K after 1M", ten_k_sql, ten_k_rows, small_runs)
            sqlite_case("sqlite ALL CSV", all_sql, args.rows, args.runs, "text/csv", "application/csv")
            rss["data-connector, SQLite series"] = peak_rss_mib(server.pid)
            if roapi_proc:
                rss["ROAPI, SQLite series"] = peak_rss_mib(roapi_proc.pid)
                roapi_proc.terminate()
                roapi_proc.wait()
                roapi_proc = None
            bursts["data-connector, 64 clients, SQLite 10 rows"] = burst(
                url, "bench", "SELECT * FROM prices WHERE ticker = 'T0001' LIMIT 10", 64, args.burst_seconds)
            if not args.skip_mysql:
                reset_peak_rss(server.pid)
                load_mysql(db, args.rows)
                post(url, "/api/v1/connections", {"name": "mariadb", "kind": "mysql", "host": "127.0.0.1",
                                                  "user": "root", "database": "dc_bench", "tls": "disable"})
                compare("mysql ALL JSON", args.rows, args.runs, [
                    (ours, curl_command(url, "mariadb", all_sql, args.rows)),
                    (MARIADB_CLI, ["mariadb", "-h", "127.0.0.1", "-u", "root", "--batch", "--quick", "-e",
                                   "SELECT * FROM dc_bench.prices"])])
                rss["data-connector, MariaDB series"] = peak_rss_mib(server.pid)
            if not args.skip_postgres:
                reset_peak_rss(server.pid)
                load_postgres(db, args.rows)
                post(url, "/api/v1/connections", {"name": "pg", "kind": "postgres", "host": "127.0.0.1",
                                                  "user": "postgres", "database": "dc_bench", "tls": "disable"})
                compare("postgres ALL JSON", args.rows, args.runs, [
                    (ours, curl_command(url, "pg", all_sql, args.rows)),
                    (PSQL_CLI, ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "dc_bench", "--csv", "-c",
                                all_sql])])
                rss["data-connector, PostgreSQL series"] = peak_rss_mib(server.pid)
            if not args.skip_snowflake:
                reset_peak_rss(server.pid)
                adapter, adapter_url = start_snowflake_adapter(data_dir)
                try:
                    # fakesnow takes any credentials from a user the adapter was not told about.
                    post(url, "/api/v1/connections", {"name": "snow", "kind": "snowflake", "account": "fake",
                                                      "base_url": adapter_url, "user": "BENCH", "password": "bench",
                                                      "database": "DC_BENCH", "schema": "PUBLIC", "read_only": False})
                    post(url, "/api/v1/query", {"connection": "snow",
                                                "sql": SNOWFLAKE_PRICES.format(tickers=TICKERS, rows=args.rows)})
                    before = cpu_seconds(server.pid), cpu_seconds(adapter.pid)
                    record("snowflake ALL JSON", ours, args.rows,
                           curl_query(url, "snow", all_sql, args.rows, SNOWFLAKE_RUNS))
                    # `timed` runs one warm-up first and one more request for the size.
                    requests = SNOWFLAKE_RUNS + 2
                    ours_cpu = (cpu_seconds(server.pid) - before[0]) / requests
                    adapter_cpu = (cpu_seconds(adapter.pid) - before[1]) / requests
                    rss["data-connector, Snowflake series"] = peak_rss_mib(server.pid)
                    notes.append(f"Snowflake (fakesnow 0.12.1 + the tests' JSON adapter), CPU per {args.rows:,}-row request: "
                                 f"data-connector {ours_cpu:.2f} s, adapter {adapter_cpu:.2f} s")
                finally:
                    adapter.stdin.close()
                    adapter.wait()
        finally:
            if roapi_proc:
                roapi_proc.terminate()
                roapi_proc.wait()
            server.terminate()
            server.wait()

    print("| case | tool | rows | median s (min-max) | rows/s | bytes | ratio ours/this |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        mine = next((o for o in results if o["case"] == r["case"] and o["tool"] == ours), None)
        ratio = f"{mine['median_s'] / r['median_s']:.2f}" if mine and r is not mine else ""
        print(f"| {r['case']} | {r['tool']} | {r['rows']:,} | {r['median_s']:.3f} ({r['min_s']:.3f}-{r['max_s']:.3f}) "
              f"| {r['rows_per_s'] / 1e6:.2f}M | {r['bytes']:,} | {ratio} |")
    print()
    for what, mib in rss.items():
        print(f"peak RSS (VmHWM), {what}: {mib:.1f} MiB")
    for what, b in bursts.items():
        print(f"burst, {what}: {b['answers_per_s']:.0f} answers/s, p50 {b['p50_ms']:.1f} ms, "
              f"p99 {b['p99_ms']:.1f} ms, non-2xx {b['non_2xx']}")
    for note in notes:
        print(note)

    def median(case, tool):
        return next((r["median_s"] for r in results if r["case"] == case and r["tool"] == tool), None)

    checks = []

    def ratio_check(name, case, other, limit):
        theirs, mine = median(case, other), median(case, ours)
        if theirs and mine:
            checks.append((name, mine / theirs, limit, "×"))

    ratio_check("1M SQLite rows, JSON vs ROAPI", "sqlite ALL JSON", roapi, TARGETS["sqlite_1m_vs_roapi"])
    ratio_check("10k SQLite rows after 1M vs ROAPI", "sqlite 10K after 1M", roapi, TARGETS["sqlite_10k_vs_roapi"])
    ratio_check("1M SQLite rows, Arrow vs ROAPI", "sqlite ALL Arrow", roapi, TARGETS["arrow_vs_roapi"])
    ratio_check("1M MariaDB rows vs mariadb CLI", "mysql ALL JSON", MARIADB_CLI, TARGETS["cli_ratio"])
    ratio_check("1M PostgreSQL rows vs psql --csv", "postgres ALL JSON", PSQL_CLI, TARGETS["cli_ratio"])
    checks.append(("peak RSS, SQLite series", rss["data-connector, SQLite series"], TARGETS["rss_mib"], "MiB"))
    print("\n| target | measured | limit | |\n|---|---|---|---|")
    for name, value, limit, unit in checks:
        print(f"| {name} | {value:.2f} {unit} | {limit} {unit} | {'met' if value <= limit else 'MISSED'} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark ctq against DuckDB and jq on one generated trail, on this machine.

Usage: python3 bench/run.py [--trail DIR] [--days N] [--runs N] [--skip-peers] [--scale10] [--ctq BIN]

Builds ctq and ctq-trailgen in release, generates the trail once (deterministic, seeded), then
runs each target query several times with each tool and prints median wall time, peak resident
memory (from /usr/bin/time) and the ratio of each peer to ctq. DuckDB is installed with pip when
missing; jq is used when present. With --scale10, ctq's queries also run over a trail ten times
longer (peers are left out there: they take many minutes a run).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/ctq-target"))
ARN = "arn:aws:iam::111111111111:user/user19"
WINDOW = ("2019-10-29T06:40:00Z", "2019-10-29T06:55:00Z")
CTQ = None  # the binary under test, set from the command line
EVERYTHING = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, runs, shell=False):
    """Median wall seconds and max peak RSS (MB) of `runs` runs; None if the command fails."""
    times, peaks = [], []
    with tempfile.NamedTemporaryFile("r") as stats:
        for _ in range(runs):
            full = ["/usr/bin/time", "-f", "%e %M", "-o", stats.name]
            full += ["sh", "-c", cmd] if shell else cmd
            done = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode not in (0, 3):
                print(f"    failed: {' '.join(cmd) if not shell else cmd}\n    {done.stderr.strip()[-400:]}")
                return None
            stats.seek(0)
            seconds, kb = stats.read().split()[-2:]
            times.append(float(seconds))
            peaks.append(int(kb) / 1024)
    return statistics.median(times), max(peaks)


def duckdb_cmd(trail, sql):
    script = (
        "import duckdb,sys;con=duckdb.connect();con.execute('SET threads=2');"
        f"con.execute('''CREATE VIEW records AS SELECT unnest(Records) AS r FROM read_json('{trail}/AWSLogs/**/*.json.gz', maximum_object_size=67108864)''');"
        f"print(con.execute('''{sql}''').fetchall()[:3])"
    )
    return [sys.executable, "-c", script]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trail", default="/tmp/ctq-bench/trail")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--scale10", action="store_true", help="also run ctq over a trail 10 times longer")
    parser.add_argument("--ctq", help="time this ctq binary (another build, say) instead of building one")
    args = parser.parse_args()

    global CTQ
    CTQ = args.ctq or str(TARGET / "release/ctq")
    # All binaries at once: the same feature set as `cargo build --release`, so no second build of DataFusion.
    if not args.ctq:
        sh(["cargo", "build", "--release", "-q", "--workspace", "--bins"], cwd=ROOT)
    have_duckdb = have_jq = False
    if not args.skip_peers:
        try:
            import duckdb  # noqa: F401
            have_duckdb = True
        except ImportError:
            have_duckdb = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "duckdb"]).returncode == 0
        have_jq = shutil.which("jq") is not None
    bench(Path(args.trail), args.days, args.runs, have_duckdb, have_jq)
    if args.scale10:
        bench(Path(f"{args.trail}-x10"), args.days * 10, args.runs, False, False)


def generate(trail, days):
    if not (trail / "AWSLogs").is_dir():
        sh([str(TARGET / "release/ctq-trailgen"), str(trail), "--days", str(days)])


def bench(trail, days, runs, have_duckdb, have_jq):
    ctq = CTQ
    generate(trail, days)
    gz = sum(f.stat().st_size for f in trail.rglob("*.json.gz"))
    files = sum(1 for _ in trail.rglob("*.json.gz"))
    print(f"\ntrail: {trail} ({files} files, {gz / 1e6:.0f} MB gzip, {days} days), {runs} runs each, {os.cpu_count()} cores\n")

    denied = "r.errorCode IS NOT NULL AND (lower(r.errorCode) LIKE '%accessdenied%' OR lower(r.errorCode) LIKE '%unauthorized%')"
    cases = [
        (
            "denials-by-principal.sql, whole trail",
            [ctq, "query", "-q", "-f", str(ROOT / "queries/denials-by-principal.sql"), "-s", str(trail),
             "-p", f"from={EVERYTHING[0]}", "-p", f"to={EVERYTHING[1]}"],
            duckdb_cmd(trail, f"SELECT coalesce(r.userIdentity.arn, r.userIdentity.invokedBy), count(*) FROM records WHERE {denied} GROUP BY 1"),
            f"zcat $(find {trail}/AWSLogs -name '*.json.gz') | jq -r '.Records[] | select(.errorCode != null and (.errorCode | ascii_downcase | (contains(\"accessdenied\") or contains(\"unauthorized\")))) | (.userIdentity.arn // .userIdentity.invokedBy)' | sort | uniq -c",
        ),
        (
            "eventsource counts, every record",
            [ctq, "query", "-q", "SELECT eventsource, count(*) FROM cloudtrail GROUP BY 1", "-s", str(trail)],
            duckdb_cmd(trail, "SELECT r.eventSource, count(*) FROM records GROUP BY 1"),
            f"zcat $(find {trail}/AWSLogs -name '*.json.gz') | jq -r '.Records[].eventSource' | sort | uniq -c",
        ),
        (
            "the article's query, 15-minute window",
            [ctq, "query", "-q", "-f", str(ROOT / "queries/access-denied.sql"), "-s", str(trail),
             "-p", f"arn={ARN}", "-p", f"from={WINDOW[0]}", "-p", f"to={WINDOW[1]}"],
            duckdb_cmd(trail, f"SELECT CAST(r.eventTime AS VARCHAR), r.eventID FROM records WHERE r.userIdentity.arn = '{ARN}' AND r.eventTime >= '{WINDOW[0]}' AND r.eventTime < '{WINDOW[1]}' AND r.eventType = 'AwsApiCall' AND {denied}"),
            f"zcat $(find {trail}/AWSLogs -name '*.json.gz') | jq -r '.Records[] | select(.userIdentity.arn == \"{ARN}\" and .eventType == \"AwsApiCall\" and .eventTime >= \"{WINDOW[0]}\" and .eventTime < \"{WINDOW[1]}\" and .errorCode != null and (.errorCode | ascii_downcase | (contains(\"accessdenied\") or contains(\"unauthorized\")))) | [.eventTime, .eventID] | @csv'",
        ),
    ]

    print(f"| query | ctq | ctq peak RSS | DuckDB | jq |")
    print(f"|---|---|---|---|---|")
    for name, ctq_cmd, duck, jq in cases:
        mine = timed(ctq_cmd, runs)
        cells = [name, f"{mine[0]:.2f} s" if mine else "failed", f"{mine[1]:.0f} MB" if mine else ""]
        for enabled, cmd, shell in ((have_duckdb, duck, False), (have_jq, jq, True)):
            if not enabled:
                cells.append("not run")
                continue
            theirs = timed(cmd, max(1, runs // 5), shell=shell)
            if theirs and mine:
                cells.append(f"{theirs[0]:.1f} s, {theirs[1]:.0f} MB ({theirs[0] / mine[0]:.0f}x)")
            else:
                cells.append("failed")
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

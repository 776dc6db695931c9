#!/usr/bin/env python3
"""Benchmark ctq against the floor, chDB, DuckDB and jq on one generated trail, on this machine.

Usage: python3 bench/run.py [--trail DIR] [--days N] [--runs N] [--skip-peers] [--scale10]
                            [--ctq BIN] [--trailgen BIN]

Builds ctq and ctq-trailgen in release (or takes --ctq, with ctq-trailgen next to it), generates
the trail once (deterministic, seeded), then runs each case several times and prints median wall
time and peak resident memory (from /usr/bin/time). Every figure of a run is also given as a ratio
to the floor measured in the same run: libdeflate inflating every file of the trail, one process
per core, parsing nothing, which no reader of gzipped JSON can beat. Peers (chDB, ClickHouse in
process; DuckDB; jq) run the same aggregations, and their rows are checked against ctq's. The
command cases time `ctq explain` and `ctq hunt` over the first day, `ctq report` over the whole
trail, and `ctq ingest` of the whole trail into a new store. Python packages (deflate, chdb,
duckdb) are installed with pip when missing. With --scale10, ctq's queries also run over a trail
ten times longer.
"""

import argparse
import csv
import io
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
FIRST_DAY = ("2019-10-28T00:00:00Z", "2019-10-29T00:00:00Z")
EVERYTHING = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
CTQ = None  # the binary under test, set from the command line
TRAILGEN = None

# Inflates every file with libdeflate, one process per core: the floor.
FLOOR = """
import deflate, multiprocessing, sys
from pathlib import Path
def inflate(path):
    return len(deflate.gzip_decompress(Path(path).read_bytes()))
files = [str(p) for p in Path(sys.argv[1]).rglob('*.json.gz')]
with multiprocessing.Pool() as pool:
    print(sum(pool.map(inflate, files, chunksize=64)))
"""


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


def rows_of(cmd):
    """The (key, count) rows a command prints as CSV or TSV, as a sorted list."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for row in csv.reader(io.StringIO(out)):
        if len(row) >= 2 and row[-1].strip().isdigit():
            rows.append((row[0] or "", int(row[-1])))
    return sorted(rows)


def duckdb_cmd(trail, sql):
    script = (
        "import duckdb,sys;con=duckdb.connect();con.execute('SET threads=2');"
        f"con.execute('''CREATE VIEW records AS SELECT unnest(Records) AS r FROM read_json('{trail}/AWSLogs/**/*.json.gz', maximum_object_size=67108864)''');"
        f"print(con.execute('''{sql}''').fetchall()[:3])"
    )
    return [sys.executable, "-c", script]


def chdb_cmd(trail, sql):
    """chDB over the trail: each file read as one JSON string, its Records array joined."""
    records = (
        f"(SELECT r FROM file('{trail}/AWSLogs/**/*.json.gz', 'JSONAsString') "
        "ARRAY JOIN JSONExtractArrayRaw(json, 'Records') AS r)"
    )
    script = (
        "import chdb,sys;"
        f"sys.stdout.write(str(chdb.query('''{sql.replace('RECORDS', records)}''', 'CSV')))"
    )
    return [sys.executable, "-c", script]


def ensure_packages(names):
    missing = []
    for name in names:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing])
    have = {}
    for name in names:
        try:
            __import__(name)
            have[name] = True
        except ImportError:
            have[name] = False
    return have


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trail", default="/tmp/ctq-bench/trail")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--scale10", action="store_true", help="also run ctq over a trail 10 times longer")
    parser.add_argument("--ctq", help="time this ctq binary (another build, say) instead of building one")
    parser.add_argument("--trailgen", help="the ctq-trailgen binary; by default the one next to ctq")
    args = parser.parse_args()

    global CTQ, TRAILGEN
    CTQ = args.ctq or str(TARGET / "release/ctq")
    TRAILGEN = args.trailgen or str(Path(CTQ).parent / "ctq-trailgen")
    # All binaries at once: the same feature set as `cargo build --release`, so no second build of DataFusion.
    if not args.ctq:
        sh(["cargo", "build", "--release", "-q", "--workspace", "--bins"], cwd=ROOT)
    have = ensure_packages(["deflate"] + ([] if args.skip_peers else ["chdb", "duckdb"]))
    if not have["deflate"]:
        sys.exit("the floor needs the deflate package (libdeflate for Python): pip install deflate")
    have["jq"] = not args.skip_peers and shutil.which("jq") is not None
    bench(Path(args.trail), args.days, args.runs, have)
    if args.scale10:
        bench(Path(f"{args.trail}-x10"), args.days * 10, args.runs, {"chdb": False, "duckdb": False, "jq": False})


def generate(trail, days):
    if not (trail / "AWSLogs").is_dir():
        sh([TRAILGEN, str(trail), "--days", str(days)])


def bench(trail, days, runs, have):
    ctq = CTQ
    generate(trail, days)
    gz = sum(f.stat().st_size for f in trail.rglob("*.json.gz"))
    files = sum(1 for _ in trail.rglob("*.json.gz"))
    print(f"\ntrail: {trail} ({files} files, {gz / 1e6:.0f} MB gzip, {days} days), {runs} runs each, {os.cpu_count()} cores\n")

    floor = timed([sys.executable, "-c", FLOOR, str(trail)], runs)
    print(f"floor (libdeflate inflating every file, {os.cpu_count()} processes): {floor[0]:.2f} s, {floor[1]:.0f} MB\n")

    def ratio(result):
        return f"{result[0] / floor[0]:.2f}x" if result else ""

    denied = "r.errorCode IS NOT NULL AND (lower(r.errorCode) LIKE '%accessdenied%' OR lower(r.errorCode) LIKE '%unauthorized%')"
    ch_code = "JSONExtractString(r, 'errorCode')"
    ch_principal = (
        "if(JSONExtractString(r, 'userIdentity', 'arn') != '', JSONExtractString(r, 'userIdentity', 'arn'), "
        "JSONExtractString(r, 'userIdentity', 'invokedBy'))"
    )
    cases = [
        (
            "denial aggregation (denials-by-principal.sql, whole trail)",
            [ctq, "query", "-q", "-f", str(ROOT / "queries/denials-by-principal.sql"), "-s", str(trail),
             "-p", f"from={EVERYTHING[0]}", "-p", f"to={EVERYTHING[1]}", "--format", "csv"],
            [ctq, "query", "-q", "--format", "csv", "-s", str(trail),
             "SELECT coalesce(useridentity.arn, useridentity.invokedby) AS p, count(*) FROM cloudtrail "
             "WHERE errorcode IS NOT NULL AND (lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%') GROUP BY 1"],
            chdb_cmd(trail, f"SELECT {ch_principal} AS p, count(*) FROM RECORDS WHERE positionCaseInsensitive({ch_code}, 'accessdenied') > 0 OR positionCaseInsensitive({ch_code}, 'unauthorized') > 0 GROUP BY p"),
            duckdb_cmd(trail, f"SELECT coalesce(r.userIdentity.arn, r.userIdentity.invokedBy), count(*) FROM records WHERE {denied} GROUP BY 1"),
            f"zcat $(find {trail}/AWSLogs -name '*.json.gz') | jq -r '.Records[] | select(.errorCode != null and (.errorCode | ascii_downcase | (contains(\"accessdenied\") or contains(\"unauthorized\")))) | (.userIdentity.arn // .userIdentity.invokedBy)' | sort | uniq -c",
        ),
        (
            "every-record aggregation (eventsource counts)",
            [ctq, "query", "-q", "SELECT eventsource, count(*) FROM cloudtrail GROUP BY 1", "-s", str(trail), "--format", "csv"],
            [ctq, "query", "-q", "SELECT eventsource, count(*) FROM cloudtrail GROUP BY 1", "-s", str(trail), "--format", "csv"],
            chdb_cmd(trail, "SELECT JSONExtractString(r, 'eventSource') AS s, count(*) FROM RECORDS GROUP BY s"),
            duckdb_cmd(trail, "SELECT r.eventSource, count(*) FROM records GROUP BY 1"),
            f"zcat $(find {trail}/AWSLogs -name '*.json.gz') | jq -r '.Records[].eventSource' | sort | uniq -c",
        ),
        (
            # What every command over a raw trail pays before it builds a column: inflating,
            # delimiting and checking every record. The ratios above are bounded below by it.
            "every record read and checked, no column (count(*))",
            [ctq, "query", "-q", "SELECT count(*) FROM cloudtrail", "-s", str(trail), "--format", "csv"],
            None,
            None,
            None,
            None,
        ),
        (
            "the article's query, 15-minute window",
            [ctq, "query", "-q", "-f", str(ROOT / "queries/access-denied.sql"), "-s", str(trail),
             "-p", f"arn={ARN}", "-p", f"from={WINDOW[0]}", "-p", f"to={WINDOW[1]}"],
            None,
            None,
            duckdb_cmd(trail, f"SELECT CAST(r.eventTime AS VARCHAR), r.eventID FROM records WHERE r.userIdentity.arn = '{ARN}' AND r.eventTime >= '{WINDOW[0]}' AND r.eventTime < '{WINDOW[1]}' AND r.eventType = 'AwsApiCall' AND {denied}"),
            f"zcat $(find {trail}/AWSLogs -name '*.json.gz') | jq -r '.Records[] | select(.userIdentity.arn == \"{ARN}\" and .eventType == \"AwsApiCall\" and .eventTime >= \"{WINDOW[0]}\" and .eventTime < \"{WINDOW[1]}\" and .errorCode != null and (.errorCode | ascii_downcase | (contains(\"accessdenied\") or contains(\"unauthorized\")))) | [.eventTime, .eventID] | @csv'",
        ),
    ]

    print("| query | ctq | / floor | ctq peak RSS | chDB | DuckDB | jq | rows |")
    print("|---|---|---|---|---|---|---|---|")
    for name, ctq_cmd, ctq_rows, ch, duck, jq in cases:
        mine = timed(ctq_cmd, runs)
        cells = [name, f"{mine[0]:.2f} s" if mine else "failed", ratio(mine), f"{mine[1]:.0f} MB" if mine else ""]
        for enabled, cmd, shell in ((have.get("chdb"), ch, False), (have.get("duckdb"), duck, False), (have.get("jq"), jq, True)):
            if not enabled or cmd is None:
                cells.append("not run")
                continue
            theirs = timed(cmd, max(1, runs // 5), shell=shell)
            if theirs and mine:
                cells.append(f"{theirs[0]:.1f} s, {theirs[1]:.0f} MB ({theirs[0] / mine[0]:.1f}x ctq)")
            else:
                cells.append("failed")
        # ctq's rows against chDB's: the same keys and counts, or the figure means nothing.
        if ctq_rows and have.get("chdb") and ch:
            same = rows_of(ctq_rows) == rows_of(ch)
            cells.append("same as chDB" if same else "DIFFER from chDB")
        else:
            cells.append("")
        print("| " + " | ".join(cells) + " |", flush=True)

    print("\n| command | ctq | / floor | peak RSS | note |")
    print("|---|---|---|---|---|")
    day = ["--from", FIRST_DAY[0], "--to", FIRST_DAY[1]]
    explain = timed([ctq, "explain", "-q", "-s", str(trail), *day], runs)
    hunt = timed([ctq, "hunt", "-q", "-s", str(trail), *day], runs)
    report_dir = Path(tempfile.mkdtemp()) / "report"
    report = timed([ctq, "report", "-q", "-s", str(trail), "--from", EVERYTHING[0], "--to", EVERYTHING[1],
                    "--out", str(report_dir)], runs)
    store = Path(tempfile.mkdtemp()) / "store"
    ingest = timed(f"rm -rf {store} && exec {ctq} ingest -q --source {trail} --store {store}", max(1, runs // 2), shell=True)
    for name, result, note in (
        ("ctq explain, first day", explain, ""),
        ("ctq hunt, first day", hunt, f"{hunt[0] / explain[0]:.2f}x explain" if hunt and explain else ""),
        (f"ctq report, whole trail ({days} days)", report, ""),
        ("ctq ingest, whole trail, new store", ingest, ""),
    ):
        cells = [name, f"{result[0]:.2f} s" if result else "failed", ratio(result), f"{result[1]:.0f} MB" if result else "", note]
        print("| " + " | ".join(cells) + " |", flush=True)
    shutil.rmtree(report_dir.parent, ignore_errors=True)
    shutil.rmtree(store.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The Parquet export read by a real engine: DuckDB (the `duckdb` Python package).

1. `defender-tvm --demo --store TMP history export --format parquet --output DIR` writes the demo
   store (replayed from the demo timeline) as Parquet, and `... history remediation --format json`
   prints the SLA table the store computes.
2. The README's DuckDB query (the ```sql block after the marker comment in "Past one machine:
   Parquet"), run as it is with only its folder changed, must give the same table.
3. Hive partition values round-trip: the store copied, its tenant renamed to a hostile name
   (`../evil/x`, a space, `é`, `%`, `=`), exported again: one folder inside DIR, DuckDB's
   `tenant` (decoded from the path) is the name, and the README's query gives the same table.

Run from the repository root: `python3 .ci/parquet-engine.py` (needs `pip install duckdb`, the
version .ci/run pins). Prints "N passed, 0 failed" at the end; exits 1 on the first mismatch.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

import duckdb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = "<!-- .ci/parquet-engine.py runs this query -->"
HOSTILE = "../evil/x é a b 50%=half"
COLUMNS = ["key", "sla_days", "fixed", "median_days", "p90_days", "open", "open_past_sla",
           "oldest_open_days"]


def cli(*args):
    """Runs the command line and returns its standard output: the binary DEFENDER_TVM_BIN names
    (CI passes the one `cargo test` built), else through cargo."""
    binary = os.environ.get("DEFENDER_TVM_BIN")
    start = [binary] if binary else ["cargo", "run", "-q", "-p", "defender-tvm-cli", "--"]
    command = [*start, "--no-progress", *args]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, check=False)
    if done.returncode != 0:
        sys.exit(f"FAILED: {' '.join(args)} exited with {done.returncode}")
    return done.stdout


def readme_query():
    """The DuckDB query of the README: the ```sql block right after the marker."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme:
        text = readme.read()
    found = re.search(re.escape(MARKER) + r"\s*```sql\n(.*?)```", text, re.S)
    if not found:
        sys.exit(f"FAILED: README.md has no ```sql block after {MARKER}")
    return found.group(1)


def sla_table(query, lake):
    """The query's rows, its folder `lake/` replaced by `lake`, as dicts."""
    sql = query.replace("'lake/", "'" + lake.replace("'", "''") + "/")
    if sql == query:
        sys.exit("FAILED: the README's query does not read from 'lake/...'")
    relation = duckdb.sql(sql)
    names = [c[0] for c in relation.description]
    return [dict(zip(names, row)) for row in relation.fetchall()]


def same(actual, expected, what):
    """Checks the query's table against the CLI's groups, column by column."""
    want = [{c: g[c] for c in COLUMNS} for g in expected]
    got = [{c: row.get(c) for c in COLUMNS} for row in actual]
    if got != want:
        print(f"FAILED: {what}", file=sys.stderr)
        for g, w in zip(got, want):
            if g != w:
                print(f"  duckdb: {g}\n  store:  {w}", file=sys.stderr)
        if len(got) != len(want):
            print(f"  {len(got)} rows against {len(want)}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what} ({len(got)} severities)")


def main():
    # In order with the command line's lines on standard error.
    sys.stdout.reconfigure(line_buffering=True)
    started = time.monotonic()
    print(f"duckdb {duckdb.__version__}")
    query = readme_query()
    passed = 0
    with tempfile.TemporaryDirectory(prefix="defender-tvm-parquet-") as tmp:
        store, lake = os.path.join(tmp, "demo.sqlite"), os.path.join(tmp, "lake")
        cli("--demo", "--store", store, "history", "export", "--format", "parquet",
            "--output", lake)
        expected = json.loads(cli("--demo", "--store", store, "history", "remediation",
                                  "--format", "json"))["groups"]
        if not any(g["fixed"] and g["open"] for g in expected):
            sys.exit("FAILED: the demo store has nothing fixed and open to compare")
        same(sla_table(query, lake), expected, "the README's DuckDB query on the demo export")
        passed += 1

        # The same store, its tenant renamed to a hostile name, exported again.
        hostile_store = os.path.join(tmp, "hostile.sqlite")
        source, copy = sqlite3.connect(store), sqlite3.connect(hostile_store)
        source.backup(copy)
        source.close()
        copy.execute("UPDATE tenants SET name = ?", (HOSTILE,))
        copy.commit()
        copy.close()
        hostile_lake = os.path.join(tmp, "hostile-lake")
        cli("--store", hostile_store, "history", "export", "--output", hostile_lake)
        for dataset in ("exposures", "snapshots"):
            folders = os.listdir(os.path.join(hostile_lake, dataset))
            if len(folders) != 1 or not folders[0].startswith("tenant="):
                sys.exit(f"FAILED: {dataset} holds {folders}, not one tenant= folder")
        outside = sorted(set(os.listdir(tmp)) - {"demo.sqlite", "lake", "hostile.sqlite",
                                                  "hostile-lake"})
        if outside:
            sys.exit(f"FAILED: the export wrote outside its folder: {outside}")
        glob = os.path.join(hostile_lake, "exposures", "**", "*.parquet").replace("'", "''")
        from_path = duckdb.sql(
            f"SELECT DISTINCT tenant FROM read_parquet('{glob}', hive_partitioning = true, "
            "hive_types = {'tenant': VARCHAR, 'date': DATE})").fetchall()
        from_file = duckdb.sql(
            f"SELECT DISTINCT tenant FROM read_parquet('{glob}', hive_partitioning = false)"
        ).fetchall()
        if from_path != [(HOSTILE,)] or from_file != [(HOSTILE,)]:
            sys.exit(f"FAILED: tenant {HOSTILE!r} read back as {from_path} (partition) and "
                     f"{from_file} (column), in {folders[0]}")
        print(f"ok: the hostile tenant name round-trips through {folders[0]}")
        passed += 1
        same(sla_table(query, hostile_lake), expected,
             "the README's DuckDB query on the hostile tenant's export")
        passed += 1
    print(f"({time.monotonic() - started:.1f} s)")
    print(f"parquet-engine: {passed} passed, 0 failed")


if __name__ == "__main__":
    main()

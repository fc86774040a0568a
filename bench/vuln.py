#!/usr/bin/env python3
"""Vulnerability benchmark: `palisade db import` and `palisade vuln` on real OSV data.

Builds palisade in release mode, indexes the OSV record directories given (e.g. golang/vulndb's
`data/osv`, rustsec/advisory-db's `osv` branch `crates/`, pypa/advisory-database's `vulns/`,
exported from git checkouts), writes a deterministic CycloneDX SBOM of 500 packages taken from
those records (names that have advisories, at versions inside and outside their ranges), and
times matching it with the index and with the records read on the fly. Reports wall time and
peak resident memory of each run, and the index's size on disk.

usage: bench/vuln.py DIR [DIR...] [--packages 500] [--runs 5]
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out", "vuln")
PALISADE = os.path.join(ROOT, "target", "release", "palisade")
PURL_TYPES = {"Go": "golang", "crates.io": "cargo", "PyPI": "pypi", "npm": "npm", "Maven": "maven", "RubyGems": "gem", "NuGet": "nuget", "Packagist": "composer"}


def measure(command):
    """Runs command as a fresh child; returns (seconds, peak RSS in bytes)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({code}): {stderr.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024


def records(directories):
    for directory in directories:
        for folder, _, files in os.walk(directory):
            for name in sorted(files):
                if name.endswith(".json"):
                    with open(os.path.join(folder, name), encoding="utf-8") as handle:
                        try:
                            yield json.load(handle)
                        except ValueError:
                            continue


def sbom(directories, packages, path):
    """500 components named by the records' affected packages, at an `introduced` or `fixed`
    version of theirs (so both matches and near misses are asked)."""
    candidates = []
    for record in records(directories):
        for affected in record.get("affected", []):
            package = affected.get("package") or {}
            purl_type = PURL_TYPES.get(package.get("ecosystem", ""))
            versions = [value for rng in affected.get("ranges", []) if rng.get("type") != "GIT" for event in rng.get("events", []) for value in event.values() if value != "0"]
            if purl_type and package.get("name") and versions:
                candidates.append((purl_type, package["name"], sorted(set(versions))))
    rng = random.Random(42)
    rng.shuffle(candidates)
    components, seen = [], set()
    for purl_type, name, versions in candidates:
        if name in seen:
            continue
        seen.add(name)
        version = rng.choice(versions)
        if purl_type == "golang" and name == "stdlib":
            version = version.removeprefix("v")
        elif purl_type == "golang":
            version = "v" + version.removeprefix("v")
        components.append({"type": "library", "name": name, "version": version, "purl": f"pkg:{purl_type}/{name}@{version}"})
        if len(components) == packages:
            break
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}, handle)
    return len(components)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directories", nargs="+")
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    db = os.path.join(OUT, "db")
    count = sum(1 for directory in args.directories for _, _, files in os.walk(directory) for name in files if name.endswith((".json", ".yaml", ".yml")))
    seconds, rss = measure([PALISADE, "db", "import", *args.directories, "--db", db])
    size = sum(os.path.getsize(os.path.join(folder, name)) for folder, _, files in os.walk(db) for name in files)
    print(f"db import: {count} records in {seconds:.2f} s ({count / seconds:,.0f} records/s), {rss / 2**20:.0f} MiB peak, index {size / 2**20:.1f} MiB on disk")

    bom = os.path.join(OUT, "bench.cdx.json")
    components = sbom(args.directories, args.packages, bom)
    for label, database in [("index of all", db), (f"only {os.path.basename(args.directories[0])} read on the fly", args.directories[0])]:
        runs = [measure([PALISADE, "vuln", bom, "--db", database, "-f", "json", "-o", os.path.join(OUT, "report.json")]) for _ in range(args.runs)]
        best = min(runs)
        print(f"vuln, {components} packages, {label}: best {best[0] * 1000:.0f} ms of {args.runs}, {max(rss for _, rss in runs) / 2**20:.0f} MiB peak")
    with open(os.path.join(OUT, "report.json"), encoding="utf-8") as handle:
        print(f"(last report: {len(json.load(handle)['findings'])} findings)")


if __name__ == "__main__":
    main()

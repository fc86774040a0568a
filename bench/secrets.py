#!/usr/bin/env python3
"""Secrets benchmark: `palisade secrets` against a peer (detect-secrets) on the same trees.

For each directory given, runs both tools on the same cores (2 by default, pinned with taskset
when it is installed) and reports wall time, MB/s of the files in the tree and peak resident
memory of the child (from wait4's rusage), the best of --runs runs each.

    palisade:       $CARGO_TARGET_DIR/release/palisade secrets DIR --format json (default
                    target/; built first unless --no-build; output discarded)
    detect-secrets: bench/.venv/bin/detect-secrets --cores N scan --all-files, run in DIR (given
                    a path outside the working directory, detect-secrets 1.5 scans nothing)

Until the `secrets` command exists in the release binary, palisade's line is replaced by the
detector bench (crates/palisade-secrets/benches/detect.rs: one core, default rules, files read
into memory first), which is printed as it reports.

usage: bench/secrets.py DIR [DIR...] [--cores 2] [--runs 3] [--no-peer] [--no-build]
Corpora: any source tree, e.g. ~/.cargo/registry/src, or a repository snapshot exported with
`git --git-dir=REPO archive HEAD | tar -x -C /tmp/corpus/NAME`.
Peer: detect-secrets from PyPI in bench/.venv (`python3 -m venv bench/.venv &&
bench/.venv/bin/pip install detect-secrets`); skipped with a note when absent.
"""

import argparse
import json
import os
import subprocess
import sys

from measure import pinned, run_child

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PALISADE = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "palisade")
DETECT_SECRETS = os.path.join(ROOT, "bench", ".venv", "bin", "detect-secrets")


def tree_size(path):
    total = files = 0
    for directory, _, names in os.walk(path):
        for name in names:
            full = os.path.join(directory, name)
            if os.path.isfile(full) and not os.path.islink(full):
                total += os.path.getsize(full)
                files += 1
    return total, files


def line(label, size, seconds, peak, note=""):
    peak_text = f"peak {peak / 2**20:8.1f} MiB" if peak else " " * 18
    print(f"  {label:<16} {seconds:8.2f} s  {size / seconds / 1e6:8.1f} MB/s  {peak_text}  {note}")


def best(command, runs, cwd=None):
    results = [run_child(command, cwd=cwd) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results), results[-1][2]


def has_secrets_command():
    if not os.path.exists(PALISADE):
        return False
    probe = subprocess.run([PALISADE, "secrets", "--help"], capture_output=True)
    return probe.returncode == 0


def detector_bench(directory, cores):
    """The detector bench's rounds over the tree (one core), as it prints them."""
    env = dict(os.environ, PALISADE_SECRETS_BENCH=os.path.abspath(directory))
    env.pop("PALISADE_SECRETS_BENCH_RULES", None)
    command = pinned(["cargo", "bench", "-q", "-p", "palisade-secrets", "--bench", "detect"], cores)
    _, _, out = run_child(command, env)
    return [l for l in out.splitlines() if l.startswith("round")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", metavar="DIR")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    native = has_secrets_command()
    peer = os.path.exists(DETECT_SECRETS) and not args.no_peer
    if not peer and not args.no_peer:
        print(f"note: {DETECT_SECRETS} absent, detect-secrets skipped (see the docstring)")
    for directory in args.dirs:
        size, files = tree_size(directory)
        print(f"{directory}: {files} files, {size / 1e6:.1f} MB, {args.cores} cores, best of {args.runs}")
        if native:
            command = pinned([PALISADE, "secrets", directory, "--format", "json"], args.cores)
            seconds, peak, _ = best(command, args.runs)
            line("palisade", size, seconds, peak)
        else:
            rounds = detector_bench(directory, args.cores)
            print(f"  palisade: no `secrets` command in {PALISADE} yet; detector bench (one core):")
            for r in rounds:
                print(f"    {r}")
        if peer:
            command = pinned([DETECT_SECRETS, "--cores", str(args.cores), "scan", "--all-files"], args.cores)
            seconds, peak, out = best(command, args.runs, cwd=os.path.abspath(directory))
            report = json.loads(out)
            found = sum(len(v) for v in report.get("results", {}).values())
            line("detect-secrets", size, seconds, peak, f"{found} findings")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Scan benchmark: palisade against a peer (checkov) on the same generated manifests.

Builds palisade in release mode, generates a deterministic corpus (bench/gen_corpus.py), and
reports wall time, objects/s, MB/s of YAML and peak resident memory. The peer is slow, so it
runs on a subset; palisade runs on that same subset too and the ratio is printed side by side.

usage: bench/scan.py [--objects 100000] [--peer-objects 1000] [--no-peer] [--runs 3] [--select PREFIX,...]
Peer: checkov from PyPI in bench/.venv (`python3 -m venv bench/.venv &&
bench/.venv/bin/pip install checkov`); skipped with a note when absent.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
PALISADE = os.path.join(ROOT, "target", "release", "palisade")
CHECKOV = os.path.join(ROOT, "bench", ".venv", "bin", "checkov")


def measure(command):
    """Runs command as a fresh child; returns (seconds, that child's peak RSS in bytes)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{command[0]} failed ({code}): {stderr.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024


def corpus(objects, name):
    path = os.path.join(OUT, name)
    if not os.path.isdir(path):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_corpus.py"), path,
                        "--objects", str(objects)], check=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return path, size


def best(command, runs):
    results = [measure(command) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def line(label, objects, size, seconds, peak):
    print(f"  {label:<10} {seconds:8.3f} s  {objects / seconds:12,.0f} objects/s  "
          f"{size / seconds / 1e6:8.1f} MB/s  peak {peak / 2**20:8.1f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--peer-objects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--select", help="run only these rules (palisade scan --select), e.g. pss/")
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    scan = [PALISADE, "scan", "--format", "json", "-o", os.devnull, "--fail-on", "never"]
    if args.select:
        scan += ["--select", args.select]

    path, size = corpus(args.objects, f"corpus-{args.objects}")
    print(f"corpus: {args.objects:,} objects, {size / 1e6:.1f} MB of YAML, {os.cpu_count()} cores")
    seconds, peak = best(scan + [path], args.runs)
    line("palisade", args.objects, size, seconds, peak)

    if args.no_peer:
        return
    if not os.path.exists(CHECKOV):
        print("peer: checkov not installed in bench/.venv; skipped (see the usage above)")
        return
    path, size = corpus(args.peer_objects, f"corpus-{args.peer_objects}")
    print(f"\nside by side on {args.peer_objects:,} objects ({size / 1e6:.1f} MB), same files:")
    ours, our_peak = best(scan + [path], args.runs)
    line("palisade", args.peer_objects, size, ours, our_peak)
    theirs, their_peak = measure([CHECKOV, "-d", path, "--framework", "kubernetes", "--quiet",
                                  "--compact", "-o", "json", "--skip-download"])
    line("checkov", args.peer_objects, size, theirs, their_peak)
    print(f"  ratio: palisade is {theirs / ours:,.0f}x faster with {their_peak / max(our_peak, 1):,.1f}x "
          f"less peak memory")


if __name__ == "__main__":
    main()

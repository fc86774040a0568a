#!/usr/bin/env python3
"""Policy benchmark: `palisade scan --policy` with the Gatekeeper library's templates, or with
Kyverno's library policies (--engine kyverno).

Builds, under --work (default /tmp/palisade-policy-bench):
  policies/  gatekeeper: every library template that has a gator suite, with the constraint its
             suite's first test uses (the Gatekeeper library in crates/palisade-gatekeeper/tests),
             and more copies of those constraints under new names until there are --constraints;
             kyverno: --constraints ClusterPolicies of the Kyverno library's best-practices and
             pod-security folders (crates/palisade-kyverno/tests/kyverno-policies), copied under
             new names when more are asked for than there are;
  objects/   --objects manifests: Pods, Deployments, Services and Ingresses in 100 namespaces,
             in files of 1,000 objects, some violating the constraints and most not; each
             Service and Ingress has its own selector or host, one in 50 its neighbour's.
Then runs the release `palisade scan objects --policy policies --select gatekeeper/ -f json`
on the same cores (2 by default, taskset when installed), best of --runs, and prints wall time,
objects/s, evaluations/s and peak memory.

usage: bench/policies.py [--engine gatekeeper|kyverno] [--objects 100000] [--constraints 50] [--cores 2] [--runs 3] [--no-build]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KYVERNO = os.path.join(ROOT, "crates", "palisade-kyverno", "tests", "kyverno-policies")
LIBRARY = os.path.join(ROOT, "crates", "palisade-gatekeeper", "tests", "gatekeeper-library", "library")
PALISADE = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "palisade")


def suites():
    """(template path, constraint path) of each library suite's first test."""
    found = []
    for directory, _, files in sorted(os.walk(LIBRARY)):
        if "suite.yaml" not in files:
            continue
        text = open(os.path.join(directory, "suite.yaml")).read()
        template = constraint = None
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("template:") and template is None:
                template = stripped.split(":", 1)[1].strip()
            if stripped.startswith("constraint:") and constraint is None:
                constraint = stripped.split(":", 1)[1].strip()
        if template and constraint:
            found.append((os.path.join(directory, template), os.path.join(directory, constraint)))
    return found


def write_policies(path, count):
    os.makedirs(path)
    pairs = suites()
    for index, (template, _) in enumerate(pairs):
        shutil.copy(template, os.path.join(path, f"template-{index:03}.yaml"))
    written = 0
    while written < count:
        for index, (_, constraint) in enumerate(pairs):
            if written == count:
                break
            text = open(constraint).read()
            if written >= len(pairs):
                # A second copy of a constraint under another name.
                text = text.replace("\n  name: ", f"\n  name: copy{written}-", 1)
            open(os.path.join(path, f"constraint-{written:03}.yaml"), "w").write(text)
            written += 1


def write_kyverno_policies(path, count):
    """ClusterPolicies of the best-practices and pod-security folders, renamed copies as needed."""
    os.makedirs(path)
    found = []
    for folder in ("best-practices", "pod-security"):
        for directory, _, files in sorted(os.walk(os.path.join(KYVERNO, folder))):
            for name in sorted(files):
                text = open(os.path.join(directory, name)).read()
                if ".kyverno-test" not in directory and "kind: ClusterPolicy" in text and "mutate:" not in text and "generate:" not in text:
                    found.append(text)
    for index in range(count):
        text = found[index % len(found)]
        if index >= len(found):
            text = text.replace("\n  name: ", f"\n  name: copy{index}-", 1)
        open(os.path.join(path, f"policy-{index:03}.yaml"), "w").write(text)


def objects(count):
    for n in range(count):
        namespace = f"team-{n % 100}"
        kind = n % 4
        image = "nginx:latest" if n % 10 == 0 else f"registry.example.com/app{n % 7}@sha256:{'a' * 64}"
        if kind == 0:
            yield {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"pod-{n}", "namespace": namespace, "labels": {"app": f"a{n % 13}"}},
                   "spec": {"containers": [{"name": "app", "image": image, "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}
        elif kind == 1:
            yield {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"deploy-{n}", "namespace": namespace, "labels": {"app": f"a{n % 13}"}},
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": f"a{n % 13}"}},
                            "template": {"metadata": {"labels": {"app": f"a{n % 13}"}}, "spec": {"containers": [{"name": "app", "image": image}]}}}}
        elif kind == 2:
            # Each Service selects its own app, but one in 50 repeats the previous Service's selector.
            app = f"app-{n - 4 if n % 200 == 2 and n >= 4 else n}"
            yield {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{n}", "namespace": namespace},
                   "spec": {"type": "NodePort" if n % 20 == 2 else "ClusterIP", "selector": {"app": app}, "ports": [{"port": 80}]}}
        else:
            # Each Ingress has its own host, but one in 50 repeats the previous Ingress's host.
            host = f"h{n - 4 if n % 200 == 3 and n >= 4 else n}.example.com"
            yield {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": f"ing-{n}", "namespace": namespace},
                   "spec": {"rules": [{"host": host}]}}


def write_objects(path, count):
    os.makedirs(path)
    batch = []
    for n, obj in enumerate(objects(count)):
        batch.append(json.dumps(obj))
        if len(batch) == 1000:
            open(os.path.join(path, f"objects-{n // 1000:04}.yaml"), "w").write("\n---\n".join(batch) + "\n")
            batch = []
    if batch:
        open(os.path.join(path, "objects-last.yaml"), "w").write("\n---\n".join(batch) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--constraints", type=int, default=50)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default="/tmp/palisade-policy-bench")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--engine", choices=["gatekeeper", "kyverno"], default="gatekeeper")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    shutil.rmtree(args.work, ignore_errors=True)
    if args.engine == "kyverno":
        write_kyverno_policies(os.path.join(args.work, "policies"), args.constraints)
    else:
        write_policies(os.path.join(args.work, "policies"), args.constraints)
    write_objects(os.path.join(args.work, "objects"), args.objects)
    command = [PALISADE, "scan", "objects", "--policy", "policies", "--select", f"{args.engine}/", "-f", "json"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", f"0-{args.cores - 1}"] + command
    best = None
    for _ in range(args.runs):
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=args.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = child.communicate()
        seconds = time.perf_counter() - start
        if child.returncode not in (0, 1):
            sys.exit(f"palisade failed ({child.returncode}): {err.decode()[-2000:]}")
        findings = len(json.loads(out)["findings"])
        best = min(best or (seconds, findings), (seconds, findings))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    seconds, findings = best
    print(f"{args.objects} objects x {args.constraints} constraints, {args.cores} cores, best of {args.runs}: "
          f"{seconds:.2f} s, {args.objects / seconds:,.0f} objects/s, {findings} findings, peak {peak:.0f} MiB (largest run)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reachability benchmark: `palisade netpol reach` and `matrix` over many workloads and a mix of
NetworkPolicies and Cilium policies.

Builds, under --work (default /tmp/palisade-netpol-bench), one manifest file of:
  --workloads Deployments in 100 namespaces, each with its own app label, one of three tiers and
             a team label on its namespace;
  --policies  policies, half NetworkPolicies and half CiliumNetworkPolicies (one in ten of those
             clusterwide): a default deny per namespace, and allow rules between tiers, from
             other teams' namespaces, to kube-dns and to the outside world by CIDR or entity.
Then times the release binary (2 cores by default, taskset when installed), best of --runs:
`netpol reach` between two workloads, and `netpol matrix -f json` of every pair (reporting how
many pairs are allowed), with peak memory.

usage: bench/netpol.py [--workloads 5000] [--policies 2000] [--cores 2] [--runs 3] [--no-build]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PALISADE = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "palisade")
TIERS = ["web", "api", "db"]


def documents(workloads, policies):
    for n in range(100):
        yield {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns{n}", "labels": {"team": f"t{n % 10}"}}}
    for i in range(workloads):
        labels = {"app": f"a{i}", "tier": TIERS[i % 3]}
        yield {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"w{i}", "namespace": f"ns{i % 100}"},
               "spec": {"template": {"metadata": {"labels": labels},
                                     "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]}}}}
    for p in range(policies):
        namespace = f"ns{p % 100}"
        tier = TIERS[p % 3]
        upstream = TIERS[(p + 2) % 3]
        if p % 2 == 0:
            if p < 200:
                spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
            else:
                spec = {"podSelector": {"matchLabels": {"tier": tier}},
                        "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": upstream}}},
                                              {"namespaceSelector": {"matchLabels": {"team": f"t{p % 10}"}}}],
                                     "ports": [{"port": "http"}, {"port": 9090}]}],
                        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]},
                                   {"to": [{"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"team": f"t{(p + 3) % 10}"}}}]},
                                   {"ports": [{"port": 53, "protocol": "UDP"}]}]}
            yield {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": f"np{p}", "namespace": namespace}, "spec": spec}
        else:
            spec = {"endpointSelector": {"matchLabels": {"tier": tier}},
                    "ingress": [{"fromEndpoints": [{"matchLabels": {"tier": upstream}},
                                                   {"matchLabels": {"k8s:io.kubernetes.pod.namespace": f"ns{(p + 1) % 100}"}}],
                                 "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]}],
                    "egress": [{"toEndpoints": [{"matchLabels": {"io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
                                "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}], "rules": {"dns": [{"matchPattern": "*"}]}}]},
                               {"toEndpoints": [{}], "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]},
                               {"toEntities": ["kube-apiserver"]}, {"toFQDNs": [{"matchPattern": "*.example.com"}]}],
                    "egressDeny": [{"toCIDR": ["169.254.169.254/32"]}]}
            if p % 10 == 1:
                yield {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": f"ccnp{p}"}, "spec": spec}
            else:
                yield {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": f"cnp{p}", "namespace": namespace}, "spec": spec}


def timed(command, cwd, runs):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        if child.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed ({child.returncode}): {child.stderr.decode()[-2000:]}")
        best = seconds if best is None else min(best, seconds)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=2000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default="/tmp/palisade-netpol-bench")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    with open(os.path.join(args.work, "cluster.yaml"), "w") as out:
        out.write("\n---\n".join(json.dumps(document) for document in documents(args.workloads, args.policies)) + "\n")
    prefix = ["taskset", "-c", f"0-{args.cores - 1}"] if shutil.which("taskset") else []
    reach = timed(prefix + [PALISADE, "netpol", "reach", "--from", "ns1/w1", "--to", "ns2/w2", "cluster.yaml"], args.work, args.runs)
    matrix = timed(prefix + [PALISADE, "netpol", "matrix", "-f", "json", "cluster.yaml"], args.work, args.runs)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    listed = subprocess.run([PALISADE, "netpol", "matrix", "-f", "json", "cluster.yaml"], cwd=args.work, capture_output=True, check=True)
    edges = len(json.loads(listed.stdout)["edges"])
    print(f"{args.workloads} workloads, {args.policies} policies, {args.cores} cores, best of {args.runs}: "
          f"reach {reach:.2f} s, matrix ({args.workloads * args.workloads:,} pairs, {edges:,} allowed) {matrix:.2f} s, "
          f"peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()

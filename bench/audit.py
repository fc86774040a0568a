#!/usr/bin/env python3
"""Audit detection benchmark: `palisade audit` with Falco's k8s_audit_rules.yaml on a realistic
audit log, on one core and on two.

Writes, under --work (default /tmp/palisade-audit-bench), `audit.log`: --events JSON lines of
about 1 KB each, in the mix an API server's log backend writes with a usual audit policy
(ResponseComplete stage, Metadata level for most, Request level with the object for writes):
  - 62% get/list/watch from system components (kubelets, controller manager, scheduler,
    CoreDNS, operators) on pods, nodes, endpoints, configmaps, leases and the like;
  - 24% lease renewals (update in kube-node-lease and kube-system) by nodes and controllers;
  -  9% pod status patches by kubelets, 4% events created by components;
  -  1% that Falco's rules fire on: exec into pods, secrets read by people, ClusterRoleBindings
     to cluster-admin, privileged or hostNetwork pods, NodePort services, ConfigMaps with
     credentials.
The rules are Falco's own (`$PALISADE_UPSTREAM/falco/k8s_audit_rules.yaml`, default
../shared/upstream). Each run is `palisade audit --rules RULES audit.log`, alerts read and
dropped, pinned to the first N cores; the best of --runs is reported with events/s (per core
too), MB/s and the peak resident memory of the process.

With --serve, the same log is posted to `palisade serve audit` instead (TLS on 127.0.0.1, all
cores), as the API server's webhook backend posts it: EventLists of --batch events (400, the
backend's default batch size) over --connections keep-alive connections, a 429 retried after
10 ms; reported: events/s until every event was matched, and the server's peak resident memory.
The client shares the machine's cores with the server.

usage: bench/audit.py [--events 500000] [--cores 1,2] [--runs 3] [--no-build] [--work DIR]
       bench/audit.py --serve [--events 500000] [--batch 400] [--connections 4] [--server-option=--queue-bytes=N]... [--no-build]
"""

import argparse
import http.client
import json
import os
import random
import re
import ssl
import subprocess
import sys
import threading
import time

from measure import pinned, run_child

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PALISADE = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "palisade")
UPSTREAM = os.environ.get("PALISADE_UPSTREAM", os.path.join(ROOT, "..", "shared", "upstream"))

COMPONENTS = [
    ("system:kube-controller-manager", ["system:authenticated"], "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:generic-garbage-collector"),
    ("system:kube-scheduler", ["system:authenticated"], "kube-scheduler/v1.31.2 (linux/amd64) kubernetes/5864a46/scheduler"),
    ("system:serviceaccount:kube-system:coredns", ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"], "coredns/v1.11.3 (linux/amd64) kubernetes/1.11.3"),
    ("system:serviceaccount:ingress-nginx:ingress-nginx", ["system:serviceaccounts", "system:serviceaccounts:ingress-nginx", "system:authenticated"], "nginx-ingress-controller/v1.11.3 (linux/amd64) ingress-nginx/2e9e6e6"),
    ("system:serviceaccount:monitoring:prometheus", ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"], "Prometheus/2.54.1"),
]
READS = [("pods", "v1", ""), ("nodes", "v1", ""), ("endpoints", "v1", ""), ("configmaps", "v1", ""), ("services", "v1", ""),
         ("endpointslices", "v1", "discovery.k8s.io"), ("leases", "v1", "coordination.k8s.io"), ("deployments", "v1", "apps"),
         ("replicasets", "v1", "apps"), ("services", "v1", "")]
NAMESPACES = ["default", "kube-system", "shop", "payments", "monitoring", "ingress-nginx", "cert-manager", "logging"]


def timestamp(second):
    return f"2026-12-05T{10 + second // 3600 % 10:02}:{second // 60 % 60:02}:{second % 60:02}.{random.randrange(1000000):06}Z"


def event(n, verb, user, groups, agent, resource, api_version, group, namespace, name, level="Metadata", code=200, subresource=None, request_object=None, uri_extra=""):
    second = n // 2000
    base = f"/apis/{group}/{api_version}" if group else f"/api/{api_version}"
    path = f"{base}/namespaces/{namespace}/{resource}" if namespace else f"{base}/{resource}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    object_ref = {"resource": resource, "apiVersion": api_version}
    if group:
        object_ref["apiGroup"] = group
    if namespace:
        object_ref["namespace"] = namespace
    if name:
        object_ref["name"] = name
    if subresource:
        object_ref["subresource"] = subresource
    record = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": level,
        "auditID": f"{n:08x}-1f3c-4d2a-9b1e-{random.getrandbits(48):012x}",
        "stage": "ResponseComplete",
        "requestURI": path + uri_extra,
        "verb": verb,
        "user": {"username": user, "groups": groups},
        "sourceIPs": [f"10.0.{n % 7}.{n % 250 + 2}"],
        "userAgent": agent,
        "objectRef": object_ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": timestamp(second),
        "stageTimestamp": timestamp(second),
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": f"RBAC: allowed by ClusterRoleBinding \"system:{resource}-reader\" of ClusterRole \"system:{resource}-reader\" to User \"{user}\""},
    }
    if request_object is not None:
        record["requestObject"] = request_object
    return json.dumps(record, separators=(",", ":"))


def pod(name, namespace, privileged=False, host_network=False):
    container = {"name": "app", "image": f"registry.example.com/{namespace}/{name}:1.4.2", "ports": [{"containerPort": 8080}],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}
    if privileged:
        container["securityContext"] = {"privileged": True}
    spec = {"containers": [container], "serviceAccountName": name}
    if host_network:
        spec["hostNetwork"] = True
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}}, "spec": spec}


def firing(n, rng):
    person = rng.choice(["alice@example.com", "bob@example.com", "mallory@example.com"])
    groups = ["developers", "system:authenticated"]
    agent = "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"
    namespace = rng.choice(NAMESPACES)
    kind = n % 6
    if kind == 0:
        return event(n, "create", person, groups, agent, "pods", "v1", "", namespace, f"web-{n % 97}", code=101, subresource="exec", uri_extra="?command=sh&container=app&stdin=true&tty=true")
    if kind == 1:
        return event(n, "get", person, groups, agent, "secrets", "v1", "", namespace, f"db-credentials-{n % 13}")
    if kind == 2:
        binding = {"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": f"tmp-admin-{n}"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                   "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": person}]}
        return event(n, "create", person, groups, agent, "clusterrolebindings", "v1", "rbac.authorization.k8s.io", "", None, level="Request", code=201, request_object=binding)
    if kind == 3:
        return event(n, "create", person, groups, agent, "pods", "v1", "", namespace, None, level="Request", code=201, request_object=pod(f"debug-{n}", namespace, privileged=True))
    if kind == 4:
        service = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": f"expose-{n}", "namespace": namespace}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}}
        return event(n, "create", person, groups, agent, "services", "v1", "", namespace, None, level="Request", code=201, request_object=service)
    config_map = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": f"settings-{n}", "namespace": namespace}, "data": {"aws_access_key_id": "AKIAEXAMPLEEXAMPLE00", "region": "eu-west-1"}}
    return event(n, "create", person, groups, agent, "configmaps", "v1", "", namespace, None, level="Request", code=201, request_object=config_map)


def line(n, rng):
    roll = rng.random()
    node = f"node-{n % 40:02}"
    kubelet = (f"system:node:{node}", ["system:nodes", "system:authenticated"], f"kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46")
    if roll < 0.62:
        user, groups, agent = rng.choice(COMPONENTS + [kubelet])
        resource, version, group = rng.choice(READS)
        verb = rng.choice(["get", "get", "list", "watch"])
        namespace = "" if resource == "nodes" else rng.choice(NAMESPACES)
        name = None if verb in ("list", "watch") else (node if resource == "nodes" else f"{resource[:-1]}-{n % 211}")
        return event(n, verb, user, groups, agent, resource, version, group, namespace, name)
    if roll < 0.86:
        holder = rng.choice([kubelet, COMPONENTS[0], COMPONENTS[1]])
        namespace = "kube-node-lease" if holder is kubelet else "kube-system"
        name = node if holder is kubelet else holder[0].split(":")[-1]
        return event(n, "update", *holder, "leases", "v1", "coordination.k8s.io", namespace, name)
    if roll < 0.95:
        return event(n, "patch", *kubelet, "pods", "v1", "", rng.choice(NAMESPACES), f"web-{n % 97}-7d9f8b6c5-{n % 31:05x}", subresource="status")
    if roll < 0.99:
        user, groups, agent = rng.choice(COMPONENTS[:2] + [kubelet])
        return event(n, "create", user, groups, agent, "events", "v1", "", rng.choice(NAMESPACES), None)
    return firing(n, rng)


def write_log(path, count):
    rng = random.Random(7)
    random.seed(7)
    with open(path, "w") as out:
        for n in range(count):
            out.write(line(n, rng))
            out.write("\n")


def serve(log, rules, work, batch, connections, options):
    """Posts the log to `palisade serve audit`; returns (seconds, events, peak RSS bytes)."""
    subprocess.run([PALISADE, "certs", "--name", "localhost", "--days", "1", "-o", work], check=True, capture_output=True)
    server = subprocess.Popen(
        [PALISADE, "serve", "audit", "--listen", "127.0.0.1:0", "--allow-unauthenticated", "--no-stdout",
         "--output-file", os.path.join(work, "alerts.jsonl"), "--rules", rules,
         "--tls-cert", os.path.join(work, "tls.crt"), "--tls-key", os.path.join(work, "tls.key")] + options,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    for line in server.stderr:
        found = re.search(r'"url":"https://[^:]+:(\d+)/', line)
        if found:
            port = int(found.group(1))
            break
    if port is None:
        sys.exit("serve audit did not start")
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    with open(log) as lines:
        events = lines.read().splitlines()
    bodies = ['{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[' + ",".join(events[i:i + batch]) + "]}"
              for i in range(0, len(events), batch)]
    context = ssl.create_default_context(cafile=os.path.join(work, "ca.crt"))
    pending = list(reversed(bodies))
    lock = threading.Lock()

    def post_all():
        connection = http.client.HTTPSConnection("localhost", port, context=context)
        while True:
            with lock:
                if not pending:
                    return
                body = pending.pop()
            while True:
                try:
                    connection.request("POST", "/k8s-audit", body=body, headers={"Content-Type": "application/json"})
                    response = connection.getresponse()
                    response.read()
                    if response.status == 200:
                        break
                    time.sleep(0.01)
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPSConnection("localhost", port, context=context)

    def matched():
        connection = http.client.HTTPSConnection("localhost", port, context=context)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        found = re.search(r"^palisade_audit_events_total (\d+)$", text, re.M)
        return int(found.group(1)) if found else 0

    start = time.perf_counter()
    threads = [threading.Thread(target=post_all) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while matched() < len(events):
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    with open(f"/proc/{server.pid}/status") as status:
        peak = int(re.search(r"VmHWM:\s+(\d+) kB", status.read()).group(1)) * 1024
    server.terminate()
    server.wait()
    return seconds, len(events), peak


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--cores", default="1,2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default="/tmp/palisade-audit-bench")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--batch", type=int, default=400)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--server-option", action="append", default=[], help="passed to serve audit, e.g. --server-option=--queue-bytes=16777216")
    args = parser.parse_args()
    rules = os.path.join(UPSTREAM, "falco", "k8s_audit_rules.yaml")
    if not os.path.isfile(rules):
        sys.exit(f"Falco's rules are not at {rules}: set PALISADE_UPSTREAM")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    os.makedirs(args.work, exist_ok=True)
    log = os.path.join(args.work, f"audit-{args.events}.log")
    if not os.path.isfile(log):
        write_log(log + ".part", args.events)
        os.replace(log + ".part", log)
    size = os.path.getsize(log)
    print(f"{args.events:,} events, {size / 1e6:.0f} MB ({size / args.events:.0f} bytes per event), Falco's k8s_audit_rules.yaml")
    if args.serve:
        seconds, events, peak = serve(log, rules, args.work, args.batch, args.connections, args.server_option)
        print(f"serve audit, batches of {args.batch} over {args.connections} connections: {seconds:.2f} s, {events / seconds:,.0f} events/s, peak {peak / 2**20:.0f} MiB")
        return
    for cores in [int(text) for text in args.cores.split(",")]:
        command = pinned([PALISADE, "audit", "--rules", rules, log], cores)
        runs = [run_child(command, keep_stdout=False) for _ in range(args.runs)]
        seconds = min(run[0] for run in runs)
        peak = max(run[1] for run in runs)
        rate = args.events / seconds
        print(f"{cores} core{'s' if cores > 1 else ''}: {seconds:.2f} s, {rate:,.0f} events/s ({rate / cores:,.0f} per core), {size / 1e6 / seconds:.0f} MB/s, peak {peak / 2**20:.0f} MiB (best of {args.runs})")


if __name__ == "__main__":
    main()

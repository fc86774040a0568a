#!/usr/bin/env python3
"""Heavy attacks on `palisade serve admission`, on 127.0.0.1 only, with figures.

Each case starts a fresh webhook (so its peak RSS is its own), sends the attack, and prints the
answer time, the status and the process's peak resident memory (VmHWM). The bounds asserted are
the ones docs/admission.md states: every answer well under the API server's 10 s timeout, and
peak memory under the Deployment's limit.

    cargo build --release -p palisade
    python3 bench/attack/admission.py [--binary target/release/palisade] [--limit-mib 512]

Cases: a 3 MiB review whose object holds a 1.7M-element array; 10,000 privileged containers,
and as many as 3 MiB holds; 100,000 env vars of one name; four maximal reviews at once. /healthz
is probed throughout every case.
"""

import argparse
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

BODY_LIMIT = (3 << 20) + (256 << 10)


def review(obj, uid="attack"):
    return json.dumps({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE",
            "namespace": "default",
            "userInfo": {"username": "attacker"},
            "object": obj,
        },
    }, separators=(",", ":")).encode()


def pod(spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": spec}


def fill_to(limit, make):
    """The largest `make(n)` body under `limit` bytes, by doubling then bisection."""
    low, high = 1, 2
    while len(make(high)) <= limit:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if len(make(middle)) <= limit:
            low = middle
        else:
            high = middle
    return make(low), low


def big_array(n):
    # Compact JSON so that 3 MiB really carries ~1.5M elements.
    head = review(pod({"containers": [{"name": "c", "image": "nginx", "args": []}]}))
    return head.replace(b'"args":[]', b'"args":[' + b",".join([b"0"] * n) + b"]")


def privileged_containers(n):
    container = {"name": "app", "image": "nginx:latest",
                 "securityContext": {"privileged": True, "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]}},
                 "ports": [{"containerPort": 80, "hostPort": 80}]}
    return review(pod({"containers": [container] * n}))


def env_vars(n):
    env = [{"name": "X", "value": str(i)} for i in range(n)]
    return review(pod({"securityContext": {"privileged": True}, "containers": [{"name": "c", "image": "nginx", "env": env}]}))


class Webhook:
    def __init__(self, binary, workdir, memory_limit):
        subprocess.run([binary, "certs", "--name", "localhost", "-o", workdir], check=True, capture_output=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [binary, "serve", "admission", "--no-kube", f"--listen=127.0.0.1:{self.port}",
             f"--tls-cert={workdir}/tls.crt", f"--tls-key={workdir}/tls.key", "--request-timeout=8",
             "--shutdown-grace=0", "--drain-timeout=2", f"--memory-limit={memory_limit}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.context = ssl.create_default_context(cafile=f"{workdir}/ca.crt")
        for _ in range(200):
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("the webhook never became ready")

    def connection(self):
        return http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=30)

    def get(self, path):
        connection = self.connection()
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()

    def post(self, body):
        connection = self.connection()
        started = time.monotonic()
        connection.request("POST", "/validate", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        return response.status, time.monotonic() - started, data

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/release/palisade")
    parser.add_argument("--limit-mib", type=float, default=640, help="the Deployment's memory limit")
    parser.add_argument("--memory-limit", type=int, default=640 << 20, help="--memory-limit passed to the webhook")
    args = parser.parse_args()

    maximal, elements = fill_to(BODY_LIMIT - 4096, big_array)
    cases = [
        (f"3 MiB review, {elements:,}-element array", [maximal]),
        ("10,000 privileged containers", [privileged_containers(10_000)]),
        ("privileged containers up to 3 MiB", [fill_to(BODY_LIMIT - 4096, privileged_containers)[0]]),
        ("100,000 env vars of one name", [fill_to(BODY_LIMIT - 4096, env_vars)[0]]),
        ("four maximal reviews at once", [maximal] * 4),
    ]
    failures = 0
    for name, bodies in cases:
        with tempfile.TemporaryDirectory() as workdir:
            webhook = Webhook(args.binary, workdir, args.memory_limit)
            at_rest = webhook.peak_rss_mib()
            results = [None] * len(bodies)

            def send(index):
                results[index] = webhook.post(bodies[index])

            threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
            probes = []
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                started = time.monotonic()
                status, _ = webhook.get("/healthz")
                probes.append((status, time.monotonic() - started))
                time.sleep(0.1)
            for thread in threads:
                thread.join()
            peak = webhook.peak_rss_mib()
            webhook.stop()
        slowest = max(elapsed for _, elapsed, _ in results)
        statuses = sorted({status for status, _, _ in results})
        answer = json.loads(results[0][2]) if results[0][0] == 200 else {}
        response = answer.get("response", {})
        message = response.get("status", {}).get("message", "")
        slow_probe = max((elapsed for _, elapsed in probes), default=0)
        print(f"{name}: {len(bodies[0]):,} bytes; status {statuses}; slowest answer {slowest:.2f} s; "
              f"allowed={response.get('allowed')}; answer {len(results[0][2]):,} bytes, message {len(message):,} chars; "
              f"peak RSS {peak:.0f} MiB (at rest {at_rest:.0f}); /healthz {len(probes)} probes, "
              f"all 200: {all(status == 200 for status, _ in probes)}, slowest {slow_probe * 1000:.0f} ms")
        ok = slowest < 10 and peak < args.limit_mib and all(status == 200 for status, _ in probes)
        ok = ok and all(status in (200, 503) for status in statuses) and response.get("allowed") is not True
        if not ok:
            failures += 1
            print(f"  FAILED the bound (answer < 10 s, peak < {args.limit_mib} MiB, probes green, never allowed)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

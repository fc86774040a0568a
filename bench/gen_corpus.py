#!/usr/bin/env python3
"""Writes a deterministic corpus of realistic Kubernetes manifests for the scan benchmark.

The mix follows what real application repositories hold: mostly Deployments with their Services
and ConfigMaps, some StatefulSets, CronJobs, DaemonSets, Ingresses, RBAC and NetworkPolicies,
with a share of insecure settings so that rules actually report. Same arguments, same bytes.

usage: gen_corpus.py OUT_DIR [--objects N] [--per-file N] [--seed N]
"""

import argparse
import os
import random

IMAGES = ["nginx:1.27", "redis:7.2", "postgres:16", "ghcr.io/acme/api:2.4.1", "python:3.12-slim",
          "registry.example.com/shop/web@sha256:" + "ab" * 32, "busybox", "grafana/grafana:latest"]


def container(rng, name):
    hardened = rng.random() < 0.5
    lines = [f"      - name: {name}",
             f"        image: {rng.choice(IMAGES)}",
             "        ports:",
             f"        - containerPort: {rng.choice([80, 8080, 5432, 6379, 9090])}",
             "          name: http",
             "        env:",
             "        - name: LOG_LEVEL",
             f"          value: {rng.choice(['debug', 'info', 'warn'])}",
             "        - name: REGION",
             "          value: eu-west-1",
             "        - name: OTEL_EXPORTER_OTLP_ENDPOINT",
             "          value: http://otel-collector.observability.svc:4317",
             "        - name: POD_NAME",
             "          valueFrom:",
             "            fieldRef: {fieldPath: metadata.name}",
             "        - name: POD_NAMESPACE",
             "          valueFrom:",
             "            fieldRef: {fieldPath: metadata.namespace}",
             "        - name: GOMAXPROCS",
             "          valueFrom:",
             "            resourceFieldRef: {resource: limits.cpu}",
             "        volumeMounts:",
             "        - name: config",
             "          mountPath: /etc/app",
             "          readOnly: true",
             "        - name: tmp",
             "          mountPath: /tmp"]
    if rng.random() < 0.7:
        lines += ["        resources:",
                  "          requests: {cpu: 100m, memory: 128Mi}",
                  "          limits: {cpu: 500m, memory: 256Mi}"]
    if rng.random() < 0.6:
        lines += ["        livenessProbe:",
                  "          httpGet: {path: /healthz, port: http}",
                  "          initialDelaySeconds: 5",
                  "        readinessProbe:",
                  "          httpGet: {path: /ready, port: http}"]
    if hardened:
        lines += ["        securityContext:",
                  "          allowPrivilegeEscalation: false",
                  "          readOnlyRootFilesystem: true",
                  "          runAsNonRoot: true",
                  "          capabilities: {drop: [ALL]}",
                  "          seccompProfile: {type: RuntimeDefault}"]
    elif rng.random() < 0.2:
        lines += ["        securityContext:",
                  "          privileged: true",
                  "          capabilities: {add: [NET_ADMIN]}"]
    return lines


def pod_template(rng, app, indent):
    lines = ["  template:",
             "    metadata:",
             "      labels:",
             f"        app.kubernetes.io/name: {app}",
             "        app.kubernetes.io/part-of: shop",
             f"        app.kubernetes.io/version: \"{rng.randrange(1, 9)}.{rng.randrange(20)}.{rng.randrange(9)}\"",
             f"        tier: {rng.choice(['web', 'db', 'cache'])}",
             "      annotations:",
             f"        checksum/config: {rng.getrandbits(256):064x}",
             "        prometheus.io/scrape: \"true\"",
             "        prometheus.io/port: \"9090\"",
             "    spec:",
             "      terminationGracePeriodSeconds: 30",
             "      affinity:",
             "        podAntiAffinity:",
             "          preferredDuringSchedulingIgnoredDuringExecution:",
             "          - weight: 100",
             "            podAffinityTerm:",
             "              topologyKey: kubernetes.io/hostname",
             "              labelSelector:",
             f"                matchLabels: {{app.kubernetes.io/name: {app}}}",
             "      tolerations:",
             "      - key: dedicated",
             "        operator: Equal",
             "        value: apps",
             "        effect: NoSchedule"]
    if rng.random() < 0.1:
        lines.append("      hostNetwork: true")
    lines += ["      volumes:", "      - name: config", f"        configMap: {{name: {app}}}",
              "      - name: tmp", "        emptyDir: {sizeLimit: 64Mi}"]
    if rng.random() < 0.05:
        lines += ["      - name: host", "        hostPath: {path: /var/log}"]
    lines.append("      containers:")
    for index in range(rng.choice([1, 1, 2])):
        lines += container(rng, f"c{index}")
    return [" " * indent + line for line in lines]


def workload(rng, kind, name, namespace):
    head = [f"apiVersion: {'batch/v1' if kind == 'CronJob' else 'apps/v1'}", f"kind: {kind}",
            "metadata:", f"  name: {name}", f"  namespace: {namespace}",
            f"  labels: {{app: {name}, team: team-{rng.randrange(20)}}}", "spec:"]
    if kind == "CronJob":
        return head + ['  schedule: "*/15 * * * *"', "  jobTemplate:", "    spec:"] + [
            "    " + line for line in pod_template(rng, name, 0)]
    body = [f"  replicas: {rng.choice([1, 2, 3])}", f"  revisionHistoryLimit: {rng.choice([3, 10, 50])}",
            "  selector:", f"    matchLabels: {{app: {name}}}"]
    if kind == "StatefulSet":
        body.append(f"  serviceName: {name}")
    return head + body + pod_template(rng, name, 0)


def other(rng, kind, name, namespace):
    if kind == "Service":
        return ["apiVersion: v1", "kind: Service", "metadata:", f"  name: {name}",
                f"  namespace: {namespace}", "spec:", f"  type: {rng.choice(['ClusterIP', 'ClusterIP', 'NodePort'])}",
                f"  selector: {{app: {name}}}", "  ports:", "  - port: 80", "    targetPort: http"]
    if kind == "ConfigMap":
        return ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {name}",
                f"  namespace: {namespace}", "data:", "  settings.yaml: |", "    cache: true",
                f"    size: {rng.randrange(1000)}", "  mode: production"]
    if kind == "NetworkPolicy":
        return ["apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata:",
                f"  name: {name}", f"  namespace: {namespace}", "spec:",
                f"  podSelector: {{matchLabels: {{app: {name}}}}}", "  policyTypes: [Ingress]",
                "  ingress:", "  - from:", "    - podSelector: {matchLabels: {tier: web}}",
                "    ports:", "    - port: 8080"]
    if kind == "RoleBinding":
        return ["apiVersion: rbac.authorization.k8s.io/v1", "kind: RoleBinding", "metadata:",
                f"  name: {name}", f"  namespace: {namespace}", "subjects:",
                f"- kind: ServiceAccount", f"  name: {name}", f"  namespace: {namespace}",
                "roleRef:", "  apiGroup: rbac.authorization.k8s.io", "  kind: ClusterRole",
                f"  name: {rng.choice(['view', 'edit', 'admin'])}"]
    return ["apiVersion: networking.k8s.io/v1", "kind: Ingress", "metadata:", f"  name: {name}",
            f"  namespace: {namespace}", "spec:", "  rules:", f"  - host: {name}.example.com",
            "    http:", "      paths:", "      - path: /", "        pathType: Prefix",
            "        backend:", f"          service: {{name: {name}, port: {{number: 80}}}}"]


KINDS = [("Deployment", 30), ("Service", 25), ("ConfigMap", 20), ("StatefulSet", 5),
         ("CronJob", 5), ("DaemonSet", 3), ("NetworkPolicy", 5), ("RoleBinding", 4), ("Ingress", 3)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    os.makedirs(args.out, exist_ok=True)
    written = 0
    file_index = 0
    while written < args.objects:
        count = min(args.per_file, args.objects - written)
        namespace = f"ns-{file_index % 50}"
        documents = []
        for index in range(count):
            kind = rng.choice(kinds)
            name = f"app-{file_index}-{index}"
            if kind in ("Deployment", "StatefulSet", "CronJob", "DaemonSet"):
                lines = workload(rng, kind, name, namespace)
            else:
                lines = other(rng, kind, name, namespace)
            documents.append("\n".join(lines) + "\n")
        path = os.path.join(args.out, f"{file_index // 100:03d}", f"manifests-{file_index:05d}.yaml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("---\n".join(documents))
        written += count
        file_index += 1


if __name__ == "__main__":
    main()

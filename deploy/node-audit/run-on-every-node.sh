#!/bin/sh
# Runs the CIS node audit once on every node: one Job per node from 20-job.yaml, its NODE-NAME
# replaced. Apply 00-namespace.yaml, 10-rbac.yaml and 30-networkpolicy.yaml first. Each Job
# writes the ClusterPolicyReport palisade-node-<node>:
#   kubectl get clusterpolicyreports -l app.kubernetes.io/managed-by=palisade
set -eu
here=$(dirname "$0")
kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | while read -r node; do
  [ -n "$node" ] || continue
  sed "s/NODE-NAME/$node/g" "$here/20-job.yaml" | kubectl apply -f -
done

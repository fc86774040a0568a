#!/usr/bin/env bash
# The heavier attack variants of issue 10 against `palisade serve audit`, on 127.0.0.1 only,
# each a bounded loop. Prints the answer sizes, status codes, shutdown time and the receiver's
# peak memory (VmHWM) so they can be compared with docs/audit.md.
#
#   scripts/audit-attack.sh [PALISADE_BINARY]     (default target/release/palisade)
#
# Needs curl and python3. The receiver runs with the shipped settings (deploy/audit), except
# --body-limit 33 MiB so that the 32 MiB body of case 1 is read at all.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/palisade}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" certs --name localhost --days 1 -o "$work" >/dev/null
printf 'apiserver-token,kube-apiserver\nleaked-token,compromised\n' >"$work/tokens"
cat >"$work/rules.yaml" <<'EOF'
- rule: Secret read
  desc: d
  condition: ka.target.resource=secrets and ka.verb=get
  output: secret %ka.target.name read by %ka.user.name
  priority: WARNING
  source: k8s_audit
EOF

port=18765
"$bin" serve audit --listen "127.0.0.1:$port" --rules "$work/rules.yaml" \
  --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" --token-file "$work/tokens" \
  --queue 20000 --queue-bytes 67108864 --body-limit 34603008 --readers 2 --drain-timeout 20 \
  --no-stdout --output-file "$work/alerts.jsonl" 2>"$work/server.log" &
server=$!
post() { # token file-with-body -> "status bytes"
  curl -s -o "$work/answer" -w '%{http_code} %{size_download}' --cacert "$work/ca.crt" \
    -H "Authorization: Bearer $1" --data-binary "@$2" "https://localhost:$port/k8s-audit"
}
for _ in $(seq 100); do curl -s --cacert "$work/ca.crt" "https://localhost:$port/healthz" >/dev/null && break; sleep 0.1; done
peak() { awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$server/status"; }

echo "== 1. error amplification"
python3 -c "import sys; sys.stdout.write('1\n' * (4 << 20))" >"$work/ones8"
python3 -c "import sys; sys.stdout.write('1\n' * (16 << 20))" >"$work/ones32"
echo "unauthenticated 8 MiB of 1\\n: $(post nope "$work/ones8")"
echo "8 MiB of 1\\n: status and answer bytes $(post apiserver-token "$work/ones8"); peak $(peak)"
echo "32 MiB of 1\\n: status and answer bytes $(post apiserver-token "$work/ones32"); peak $(peak)"

echo "== 2. node-heavy events (queue in bytes, value cap)"
python3 - "$work/fat" <<'EOF'
import sys
zeros = ",".join(["0"] * 900_000)
items = [f'{{"auditID":"{i}","verb":"get","objectRef":{{"resource":"secrets","name":"f{i}"}},"pad":[{zeros}]}}' for i in range(8)]
open(sys.argv[1], "w").write('{"kind":"EventList","items":[' + ",".join(items) + "]}")
EOF
python3 - "$work/toomany" <<'EOF'
import sys
zeros = ",".join(["0"] * 1_500_000)
open(sys.argv[1], "w").write(f'{{"auditID":"x","verb":"get","pad":[{zeros}]}}')
EOF
echo "one event of 1.5M values: $(post apiserver-token "$work/toomany") ($(head -c 120 "$work/answer"))"
for round in $(seq 10); do
  for _ in 1 2 3 4; do post apiserver-token "$work/fat" >/dev/null & done
  wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true
done
echo "40 batches of 8 events x 900k values (14 MiB each), 4 at a time: peak $(peak)"

echo "== 3. forged flood with a leaked token"
python3 - "$work/forged" "$work/real" <<'EOF'
import sys
def batch(n, user):
    items = [f'{{"auditID":"{user}{i}","verb":"get","user":{{"username":"{user}"}},"objectRef":{{"resource":"secrets","name":"s{i}"}}}}' for i in range(n)]
    return '{"kind":"EventList","items":[' + ",".join(items) + "]}"
open(sys.argv[1], "w").write(batch(20000, "forger"))
open(sys.argv[2], "w").write(batch(400, "apiserver"))
EOF
(for _ in $(seq 50); do post leaked-token "$work/forged" >>"$work/forger-statuses"; echo >>"$work/forger-statuses"; done) &
flood=$!
ok=0; refused=0
for _ in $(seq 50); do
  status=$(post apiserver-token "$work/real" | cut -d' ' -f1)
  if [ "$status" = 200 ]; then ok=$((ok + 1)); else refused=$((refused + 1)); fi
done
wait "$flood"
echo "API server batches during the flood: $ok accepted, $refused refused (429 client_share only when it held its own share)"
echo "forger answers: $(cut -d' ' -f1 "$work/forger-statuses" | sort | uniq -c | tr '\n' ' ')"

echo "== 4. SIGTERM with a full queue"
for _ in $(seq 5); do post apiserver-token "$work/real" >/dev/null; done
curl -s --cacert "$work/ca.crt" -H "Authorization: Bearer apiserver-token" "https://localhost:$port/metrics" \
  | grep -E '^palisade_audit_(events_total|events_dropped|batches_rejected|event_errors)' || true
started=$(date +%s%N)
kill -TERM "$server"
wait "$server" || true
echo "exited $(( ($(date +%s%N) - started) / 1000000 )) ms after SIGTERM (drain deadline 20 s)"
echo "alerts written: $(wc -l <"$work/alerts.jsonl")"

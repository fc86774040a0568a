# Regenerates pod_security_kyverno.json from Kyverno's pkg/pss/evaluate_test.go (Apache-2.0, the Kyverno authors):
#   python3 pod_security_kyverno.py pod_security_kyverno.json   (needs the kyverno mirror below)
import json, re, subprocess, sys
src = subprocess.check_output(["git","-C","/work/.mirror/kyverno+kyverno/repo","show","111e07bbecc66abfde36ab99969af22d7a961003:pkg/pss/evaluate_test.go"]).decode()
tables = re.split(r'^var (\w+) = \[\]testCase\{$', src, flags=re.M)
cases = []
for i in range(1, len(tables), 2):
    table, body = tables[i], tables[i+1]
    body = body.split("\n}\n")[0]
    pat = re.compile(r'name:\s*"((?:[^"\\]|\\.)*)",\s*rawRule:\s*\[\]byte\(`(.*?)`\),\s*rawPod:\s*\[\]byte\(`(.*?)`\),\s*allowed:\s*(true|false),', re.S)
    n_open = len(re.findall(r'^\t\{\s*$', body, flags=re.M))
    found = pat.findall(body)
    if n_open != len(found):
        print("MISMATCH", table, n_open, len(found), file=sys.stderr)
    for name, rule, pod, allowed in found:
        cases.append({"table": table, "name": json.loads('"'+name+'"'), "rule": json.loads(rule), "pod": json.loads(pod), "allowed": allowed == "true"})
names = [c["name"] for c in cases]
print(len(cases), "cases", len(set(names)), "distinct names", file=sys.stderr)
out = {"source": "https://github.com/kyverno/kyverno pkg/pss/evaluate_test.go", "commit": "111e07bbecc66abfde36ab99969af22d7a961003", "licence": "Apache-2.0 (Copyright The Kyverno Authors); extracted as data by crates/palisade-kyverno/tests/pod_security_kyverno.py", "cases": cases}
json.dump(out, open(sys.argv[1], "w"), indent=1)

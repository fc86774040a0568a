//! `palisade netpol` on the command line: suggested policies written to standard output as
//! YAML for `kubectl apply`, what was left out said on standard error, and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shop(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-netpol/tests/fixtures/shop").join(name)
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

#[test]
fn suggest_writes_policies_that_reach_then_reads_as_allowing_the_observed_flows() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = shop("cluster.yaml");
    let output = palisade(&["netpol", "suggest", "--flows", shop("flows.jsonl").to_str().unwrap(), cluster.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("34 flows read") && stderr.contains("21 replies, 2 not forwarded, 1 without a port, 1 other events left out"), "{stderr}");
    let yaml = String::from_utf8(output.stdout).unwrap();
    // Hubble flows give Cilium policies unless asked otherwise.
    assert!(yaml.starts_with("---\napiVersion: \"cilium.io/v2\"\nkind: \"CiliumNetworkPolicy\"\n"), "{yaml}");
    let suggested = dir.path().join("suggested.yaml");
    std::fs::write(&suggested, &yaml).unwrap();

    let reach = |from: &str, to: &str, port: &str| {
        palisade(&["netpol", "reach", "--from", from, "--to", to, "--port", port, cluster.to_str().unwrap(), suggested.to_str().unwrap()]).status.code()
    };
    assert_eq!(reach("storefront/web", "checkout/api", "8443"), Some(0));
    assert_eq!(reach("payments/payments", "fqdn:api.stripe.com", "443"), Some(0));
    assert_eq!(reach("staging/web", "checkout/api", "8443"), Some(1));
    assert_eq!(reach("storefront/web", "data/postgres", "5432"), Some(1));
}

#[test]
fn suggest_network_policies_as_a_json_list() {
    let output = palisade(&["netpol", "suggest", "--flows", shop("flows.csv").to_str().unwrap(), "--format", "json", "-n", "data", shop("cluster.yaml").to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|item| item["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["default-deny", "allow-dns", "allow-postgres", "allow-redis"]);
    assert!(list["items"].as_array().unwrap().iter().all(|item| item["kind"] == "NetworkPolicy"));
}

#[test]
fn unreadable_flows_are_named_by_line_and_the_rest_is_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows.csv");
    std::fs::write(&flows, "source,destination,port\nstorefront/web,checkout/api,8443\nstorefront/web,checkout/api,http\nnowhere/nothing,checkout/api,8443\n").unwrap();
    let output = palisade(&["netpol", "suggest", "--flows", flows.to_str().unwrap(), shop("cluster.yaml").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let file = flows.display();
    assert!(stderr.contains(&format!("error: {file}:3: `http` is not a port between 1 and 65535")), "{stderr}");
    assert!(stderr.contains(&format!("error: {file}:4: no workload `nowhere/nothing` in the input")), "{stderr}");
    assert!(String::from_utf8(output.stdout).unwrap().contains("name: \"allow-api\""));

    let missing = palisade(&["netpol", "suggest", "--flows", dir.path().join("absent.jsonl").to_str().unwrap()]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("absent.jsonl"));
}

//! Load test of `palisade serve admission` on loopback, with the full Pod Security restricted
//! catalog, the workload rules and an OperationPolicy.
//!
//! ```sh
//! cargo build --release -p palisade
//! cargo bench -p palisade-admission --bench load -- [--rates 500,1000,2000,4000] [--seconds 10] [--policy PATH]... [--pod] [--replicas N | --distinct N]
//! ```
//!
//! `--policy` adds policy files or directories (Gatekeeper, Kyverno, ValidatingAdmissionPolicy)
//! to the server's, to measure what they cost per review (`bench/policies.py` writes 50 of
//! Kyverno's or Gatekeeper's library policies to `policies/` under its `--work` directory).
//! The review is of a Deployment, or with `--pod` of the Pod its template makes (Gatekeeper's
//! Pod templates judge Pods only). With `--replicas N` the requests cycle through N Pods that
//! differ in name and uid only, as a ReplicaSet's do; with `--distinct N` the Pods' first
//! containers also run N different images, so that no two reviews agree on what policies read.
//!
//! The release binary runs as its own process (2 async workers), as in a cluster; this program
//! drives it from one thread over keep-alive TLS connections and reports:
//! - **fixed rates** (open loop): request i is due at `start + i / rate`; a request that waited
//!   for the server's previous answer on its connection is measured from its due time, so a
//!   stalled server is charged for the requests queued behind it (no coordinated omission);
//! - **saturation** (closed loop): as many requests as 16 connections complete back to back.
//!
//! Each request is a realistic AdmissionReview (a Deployment of about 2.5 KB: labels,
//! annotations, env, volumes, probes, resources) that PSS restricted denies for one field
//! and the workload rules warn about, so every response carries a denial message and warnings.

// The request document below is one `json!` literal, deeper than the macro's default budget.
#![recursion_limit = "256"]

mod client;
#[path = "../tests/support/mod.rs"]
mod support;

fn main() {
    let mut rates = vec![500, 1000, 2000, 4000];
    let mut seconds = 10;
    let mut binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/palisade");
    let mut policies: Vec<std::path::PathBuf> = Vec::new();
    let mut pod = false;
    let mut variants = Variants::None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rates" => rates = args.next().unwrap().split(',').map(|rate| rate.parse().unwrap()).collect(),
            "--seconds" => seconds = args.next().unwrap().parse().unwrap(),
            "--binary" => binary = args.next().unwrap().into(),
            "--policy" => policies.push(args.next().unwrap().into()),
            "--pod" => pod = true,
            "--replicas" => variants = Variants::Replicas(args.next().unwrap().parse().unwrap()),
            "--distinct" => variants = Variants::Distinct(args.next().unwrap().parse().unwrap()),
            "--bench" => {}
            other => panic!("unknown argument {other} (expected --rates, --seconds, --binary, --policy, --pod, --replicas, --distinct)"),
        }
    }
    assert!(binary.is_file(), "{} is missing: cargo build --release -p palisade", binary.display());

    let dir = tempfile::tempdir().unwrap();
    let (issued, tls) = support::webhook_certificate(dir.path());
    std::fs::write(dir.path().join("policy.yaml"), client::POLICY).unwrap();
    let mut server = std::process::Command::new(&binary)
        .args(["serve", "admission", "--listen", "127.0.0.1:0", "--no-kube", "--policy"])
        .arg(dir.path().join("policy.yaml"))
        .args(policies.iter().flat_map(|path| [std::ffi::OsStr::new("--policy"), path.as_os_str()]))
        .arg("--tls-cert")
        .arg(&tls.cert)
        .arg("--tls-key")
        .arg(&tls.key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the server");
    // Warnings about the policies (constraints left out at admission) come before the start line.
    let mut stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    let started: serde_json::Value = loop {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0, "the server stopped before it listened");
        if let Ok(started) = serde_json::from_str::<serde_json::Value>(&line)
            && started.get("addr").is_some()
        {
            break started;
        }
    };
    let port: u16 = started["addr"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap();

    let connector = client::connector(&issued.ca_pem);
    let body = if pod { pod_review(&client::review()) } else { client::review() };
    let request = client::http_requests(&variants.of(&body));
    println!(
        "palisade serve admission ({} rules + OperationPolicy{}, PSS restricted), {}-byte AdmissionReview{}, {} TLS connections, {seconds} s per step",
        started["rules"],
        if policies.is_empty() { String::new() } else { format!(" + {}", policies.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(", ")) },
        body.len(),
        variants.describe(),
        client::CONNECTIONS
    );

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        // Warm-up: connections, allocator, branch predictors.
        client::saturation("warm-up ", port, &connector, request.clone(), 1).await;
        for rate in rates {
            client::fixed_rate("", port, &connector, request.clone(), rate, seconds).await;
        }
        client::saturation("", port, &connector, request, seconds).await;
    });
    server.kill().unwrap();
    server.wait().unwrap();
}

/// The review of the Pod the Deployment's template makes: what Gatekeeper's Pod templates judge.
fn pod_review(deployment_review: &str) -> String {
    let mut review: serde_json::Value = serde_json::from_str(deployment_review).unwrap();
    let request = &mut review["request"];
    let template = request["object"]["spec"]["template"].clone();
    request["kind"] = serde_json::json!({"group": "", "version": "v1", "kind": "Pod"});
    request["resource"] = serde_json::json!({"group": "", "version": "v1", "resource": "pods"});
    request["object"] = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "storefront-7d9f8b6c5-x2x9q", "namespace": "shop", "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    });
    review.to_string()
}

/// Which reviews the requests cycle through.
enum Variants {
    /// The same review every time.
    None,
    /// Reviews whose objects differ in name and uid.
    Replicas(usize),
    /// Reviews whose objects also differ in their first container's image.
    Distinct(usize),
}

impl Variants {
    fn of(&self, body: &str) -> Vec<String> {
        let (count, images) = match *self {
            Variants::None => return vec![body.to_owned()],
            Variants::Replicas(count) => (count, false),
            Variants::Distinct(count) => (count, true),
        };
        let review: serde_json::Value = serde_json::from_str(body).unwrap();
        (0..count)
            .map(|index| {
                let mut review = review.clone();
                let request = &mut review["request"];
                request["uid"] = serde_json::json!(format!("00000000-0000-0000-0000-{index:012}"));
                let object = &mut request["object"];
                object["metadata"]["name"] = serde_json::json!(format!("storefront-7d9f8b6c5-{index:05x}"));
                object["metadata"]["uid"] = serde_json::json!(format!("10000000-0000-0000-0000-{index:012}"));
                if images {
                    let spec = if object["kind"] == "Pod" { &mut object["spec"] } else { &mut object["spec"]["template"]["spec"] };
                    spec["containers"][0]["image"] = serde_json::json!(format!("registry.example.com/shop/storefront:1.{index}"));
                }
                review.to_string()
            })
            .collect()
    }

    fn describe(&self) -> String {
        match self {
            Variants::None => String::new(),
            Variants::Replicas(count) => format!(" x {count} replicas (names differ)"),
            Variants::Distinct(count) => format!(" x {count} distinct (names and images differ)"),
        }
    }
}

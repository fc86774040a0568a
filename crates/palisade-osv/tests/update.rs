//! `update` against a local HTTPS server (a test CA) serving OSV-style exports: `200` with an
//! ETag, `304` for an unchanged export, `500` that leaves the previous data in place.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_osv::{update, Database, DbError, SourceKind, UpdateOptions, UpdateOutcome, UpdateReport};

#[derive(Clone)]
enum Reply {
    Export { etag: &'static str, body: Vec<u8> },
    Text(&'static str),
    Status(u16),
}

/// Requests seen: (path, If-None-Match).
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Server {
    port: u16,
    ca_pem: String,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    seen: Seen,
}

impl Server {
    fn start() -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "palisade test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let mut server_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        server_params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
        let certificate = server_params.signed_by(&server_key, &ca).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![certificate.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()))
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let replies: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let seen: Seen = Arc::default();
        let (thread_replies, thread_seen) = (replies.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let connection = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                // A client that gave up on the certificate: nothing to answer.
                let _ = answer(&mut tls, &thread_replies, &thread_seen);
            }
        });
        Server { port, ca_pem: ca.pem(), replies, seen }
    }

    fn set(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.to_owned(), reply);
    }

    fn options(&self, ecosystems: Option<&[&str]>) -> UpdateOptions {
        UpdateOptions {
            base_url: format!("https://127.0.0.1:{}", self.port),
            ecosystems: ecosystems.map(|list| list.iter().map(|ecosystem| ecosystem.to_string()).collect()),
            timeout: Duration::from_secs(20),
            ca_certificates: vec![self.ca_pem.clone().into_bytes()],
        }
    }
}

fn answer(stream: &mut (impl std::io::Read + Write), replies: &Mutex<HashMap<String, Reply>>, seen: &Seen) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut if_none_match = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("if-none-match") {
                if_none_match = Some(value.trim().to_owned());
            }
        }
    }
    drop(reader);
    seen.lock().unwrap().push((path.clone(), if_none_match.clone()));
    let reply = replies.lock().unwrap().get(&path).cloned().unwrap_or(Reply::Status(404));
    let (status, headers, body) = match reply {
        Reply::Export { etag, .. } if if_none_match.as_deref() == Some(etag) => ("304 Not Modified", format!("ETag: {etag}\r\n"), Vec::new()),
        Reply::Export { etag, body } => ("200 OK", format!("ETag: {etag}\r\nLast-Modified: Wed, 21 Oct 2026 07:28:00 GMT\r\nContent-Type: application/zip\r\n"), body),
        Reply::Text(text) => ("200 OK", String::new(), text.as_bytes().to_vec()),
        Reply::Status(500) => ("500 Internal Server Error", String::new(), b"backend down".to_vec()),
        Reply::Status(_) => ("404 Not Found", String::new(), Vec::new()),
    };
    write!(stream, "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    stream.write_all(&body)?;
    stream.flush()
}

fn fixture(path: &str) -> (String, Vec<u8>) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/osv").join(path);
    (file.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(file).unwrap())
}

/// An `all.zip` as OSV writes it: one `<id>.json` per record at the top.
fn export(records: &[&str]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for record in records {
        let (name, bytes) = fixture(record);
        writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn outcomes(report: &UpdateReport) -> Vec<(&str, &UpdateOutcome)> {
    report.ecosystems.iter().map(|update| (update.ecosystem.as_str(), &update.outcome)).collect()
}

fn ids(database: &Database, ecosystem: &str, name: &str) -> Vec<String> {
    database.advisories(ecosystem, name).unwrap().iter().map(|advisory| advisory.id.clone()).collect()
}

#[test]
fn update_downloads_changed_exports_only_and_keeps_old_data_when_a_download_fails() {
    let server = Server::start();
    // `Debian:12` is a release inside Debian's export, not an export of its own.
    server.set("/ecosystems.txt", Reply::Text("crates.io\nGo\nBroken\nDebian:12\n"));
    server.set("/crates.io/all.zip", Reply::Export { etag: "\"c1\"", body: export(&["rustsec/crates/RUSTSEC-2016-0001.json", "rustsec/crates/RUSTSEC-2020-0053.json"]) });
    server.set("/Go/all.zip", Reply::Export { etag: "\"g1\"", body: export(&["golang/GO-2020-0001.json", "golang/GO-2026-6091.json"]) });
    server.set("/Broken/all.zip", Reply::Status(500));
    let scratch = tempfile::tempdir().unwrap();
    let db = scratch.path().join("db");

    // 1. Everything new: two exports downloaded, the failing one reported.
    let report = update(&db, &server.options(None), &mut |_| {}).unwrap();
    let outcomes1 = outcomes(&report);
    assert_eq!(outcomes1.len(), 3, "{outcomes1:?}");
    assert!(matches!(outcomes1[0], ("crates.io", UpdateOutcome::Updated { records: 2, issues: 0, .. })), "{outcomes1:?}");
    assert!(matches!(outcomes1[1], ("Go", UpdateOutcome::Updated { records: 2, issues: 0, .. })), "{outcomes1:?}");
    assert!(matches!(outcomes1[2], ("Broken", UpdateOutcome::Failed { reason }) if reason.contains("HTTP 500")), "{outcomes1:?}");
    let database = Database::open(&db).unwrap();
    assert_eq!(ids(&database, "crates.io", "dirs"), ["RUSTSEC-2020-0053"]);
    assert_eq!(ids(&database, "Go", "stdlib"), ["GO-2026-6091"]);
    let status = database.status();
    let crates = status.sources.iter().find(|source| source.name == "crates.io").unwrap();
    assert_eq!((crates.kind, crates.etag.as_deref(), crates.last_modified.as_deref()), (Some(SourceKind::Download), Some("\"c1\""), Some("Wed, 21 Oct 2026 07:28:00 GMT")));
    assert_eq!(crates.location, format!("https://127.0.0.1:{}/crates.io/all.zip", server.port));
    assert!(crates.checked_at.is_some());

    // 2. crates.io changed, Go did not: Go costs a 304 (asked with its ETag), crates.io is replaced.
    server.set("/crates.io/all.zip", Reply::Export { etag: "\"c2\"", body: export(&["rustsec/crates/RUSTSEC-2016-0001.json"]) });
    server.seen.lock().unwrap().clear();
    let report = update(&db, &server.options(Some(&["crates.io", "Go"])), &mut |_| {}).unwrap();
    let outcomes2 = outcomes(&report);
    assert!(matches!(outcomes2[0], ("crates.io", UpdateOutcome::Updated { records: 1, .. })), "{outcomes2:?}");
    assert_eq!(outcomes2[1], ("Go", &UpdateOutcome::NotModified));
    assert_eq!(*server.seen.lock().unwrap(), [("/crates.io/all.zip".to_owned(), Some("\"c1\"".to_owned())), ("/Go/all.zip".to_owned(), Some("\"g1\"".to_owned()))]);
    let database = Database::open(&db).unwrap();
    assert_eq!(ids(&database, "crates.io", "dirs"), Vec::<String>::new());
    assert_eq!(ids(&database, "crates.io", "openssl"), ["RUSTSEC-2016-0001"]);
    assert_eq!(ids(&database, "Go", "github.com/gin-gonic/gin"), ["GO-2020-0001"]);

    // 3. Go's server fails: its previous data stays.
    server.set("/Go/all.zip", Reply::Status(500));
    let report = update(&db, &server.options(Some(&["Go"])), &mut |_| {}).unwrap();
    assert!(matches!(&report.ecosystems[0].outcome, UpdateOutcome::Failed { reason } if reason.contains("HTTP 500")), "{:?}", report.ecosystems);
    let database = Database::open(&db).unwrap();
    assert_eq!(ids(&database, "Go", "github.com/gin-gonic/gin"), ["GO-2020-0001"]);
    assert_eq!(database.status().sources.len(), 2);
}

#[test]
fn a_server_outside_the_trusted_roots_fails_per_ecosystem_and_plain_http_is_for_loopback_only() {
    let server = Server::start();
    server.set("/Go/all.zip", Reply::Export { etag: "\"g1\"", body: export(&["golang/GO-2020-0001.json"]) });
    let scratch = tempfile::tempdir().unwrap();
    let mut options = server.options(Some(&["Go"]));
    options.ca_certificates.clear();
    let report = update(&scratch.path().join("db"), &options, &mut |_| {}).unwrap();
    assert!(matches!(&report.ecosystems[0].outcome, UpdateOutcome::Failed { reason } if reason.contains("UnknownIssuer")), "{:?}", report.ecosystems);

    let options = UpdateOptions { base_url: "http://osv.example.com".to_owned(), ..UpdateOptions::default() };
    let error = update(&scratch.path().join("db"), &options, &mut |_| {}).unwrap_err();
    assert!(matches!(&error, DbError::Setup(message) if message.contains("only https://")), "{error}");
}

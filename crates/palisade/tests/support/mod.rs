//! Helpers shared by the CLI's server tests.

// Each test crate that includes this module uses some of the helpers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Starts `palisade ARGS` with the certificate and key `palisade certs` wrote into `dir`, both
/// outputs piped; returns the child and a reader of its standard error, where a server logs the
/// address it listens on.
pub fn spawn_tls_server<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, dir: &Path) -> (Child, BufReader<ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .arg("--tls-cert")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    (child, stderr)
}

/// An HTTPS client that trusts only the CA in `ca_pem`, reports every status as a response and
/// gives up on a request after `timeout`.
pub fn agent_trusting(ca_pem: &[u8], timeout: Duration) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let ca = Certificate::from_pem(ca_pem).unwrap().to_owned();
    ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![ca]))).build())
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// `kind` and `metadata.name` of every object in a folder's YAML files, template expressions
/// and all, counted.
pub fn objects_in(folder: &Path) -> std::collections::BTreeMap<(String, String), usize> {
    let mut found = std::collections::BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    for file in files.iter().filter(|path| path.extension().is_some_and(|ext| ext == "yaml")) {
        for document in std::fs::read_to_string(file).unwrap().split("\n---\n") {
            let kind = document.lines().find_map(|line| line.strip_prefix("kind: "));
            let name = document.lines().skip_while(|line| *line != "metadata:").find_map(|line| line.strip_prefix("  name: "));
            if let (Some(kind), Some(name)) = (kind, name) {
                *found.entry((kind.to_owned(), name.replace("{{ include \"palisade.name\" . }}", "palisade-admission"))).or_default() += 1;
            }
        }
    }
    found
}

/// The port a receiver logs that it listens on (`{"url":"https://host:PORT/..."}`), read from its
/// standard error, which is then drained so the child never blocks on it; the last line read
/// when it stopped, or said nothing of it in 20 lines.
pub fn logged_port(mut stderr: BufReader<ChildStderr>) -> Result<u16, String> {
    let mut line = String::new();
    for _ in 0..20 {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(url) = serde_json::from_str::<serde_json::Value>(&line).ok().and_then(|value| value["url"].as_str().map(str::to_owned)) {
            let port = url.rsplit(':').next().unwrap().split('/').next().unwrap().parse().unwrap();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return Ok(port);
        }
    }
    Err(line)
}

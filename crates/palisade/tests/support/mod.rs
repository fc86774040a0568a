//! Helpers shared by the CLI's server tests.

use std::ffi::OsStr;
use std::io::BufReader;
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

//! Helpers shared by the webhook's integration tests.

use std::path::Path;
use std::time::Duration;

use palisade_server::certs::{CertRequest, Issued};
use palisade_server::TlsFiles;

/// The webhook Service's certificate, also valid for `localhost`, for an hour, written into
/// `dir`; returns it (with its CA) and the files the server reads.
pub fn webhook_certificate(dir: &Path) -> (Issued, TlsFiles) {
    let request = CertRequest {
        service: "palisade".into(),
        namespace: "palisade-system".into(),
        extra_names: vec!["localhost".into()],
        validity: Duration::from_secs(3600),
    };
    let issued = request.issue().unwrap();
    let tls = issued.write_to(dir).unwrap();
    (issued, tls)
}

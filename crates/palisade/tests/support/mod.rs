//! Helpers shared by the CLI's server tests.

use std::sync::Arc;
use std::time::Duration;

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

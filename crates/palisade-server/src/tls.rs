//! The serving certificate: loaded from PEM files, served through a resolver whose key pair is
//! swapped when the files change, so a renewed certificate (cert-manager, `palisade certs`, a
//! Secret update) is picked up without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::ServerError;

/// The PEM files holding the serving certificate chain and its private key.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What identifies one version of the files: a digest of both contents. Metadata alone misses
/// a same-size rewrite within the file system's timestamp granularity; the files are small,
/// so reading them at each poll costs nothing. Unreadable files digest as empty.
type Stamp = [u8; 32];

fn stamp(files: &TlsFiles) -> Stamp {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for path in [&files.cert, &files.key] {
        let content = std::fs::read(path).unwrap_or_default();
        // Length first, so that bytes moving from one file to the other change the digest.
        context.update(&(content.len() as u64).to_le_bytes());
        context.update(&content);
    }
    context.finish().as_ref().try_into().expect("SHA-256 digests are 32 bytes")
}

/// Reads and checks the key pair: the chain must not be empty and the key must sign with the
/// ring provider and match the leaf certificate.
pub fn load_certified_key(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, ServerError> {
    let tls_error = |path: &Path, message: String| ServerError::Tls { path: path.to_path_buf(), message };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|error| tls_error(&files.cert, error.to_string()))?;
    if chain.is_empty() {
        return Err(tls_error(&files.cert, "no CERTIFICATE block in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| tls_error(&files.key, error.to_string()))?;
    let certified = CertifiedKey::from_der(chain, key, provider)
        .map_err(|error| tls_error(&files.key, format!("key does not fit the certificate: {error}")))?;
    Ok(certified)
}

/// Serves whichever key pair was loaded last.
#[derive(Debug)]
pub struct ReloadingResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingResolver {
    pub fn new(key: CertifiedKey) -> Self {
        Self { current: RwLock::new(Arc::new(key)) }
    }

    fn replace(&self, key: CertifiedKey) {
        *self.current.write().unwrap_or_else(|poison| poison.into_inner()) = Arc::new(key);
    }
}

impl ResolvesServerCert for ReloadingResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|poison| poison.into_inner()).clone())
    }
}

/// Polls the files every `interval` and swaps the key pair when they changed and load cleanly.
/// A broken update (half-written file, key not matching) keeps the previous pair and is logged;
/// it is retried at the next change. Polling rather than inotify keeps working across the
/// symlink swaps of mounted Secrets and on every filesystem.
pub(crate) async fn watch(
    files: TlsFiles,
    resolver: Arc<ReloadingResolver>,
    provider: Arc<CryptoProvider>,
    interval: Duration,
    on_reload: impl Fn(bool) + Send + 'static,
) {
    let mut last = stamp(&files);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = stamp(&files);
        if now == last {
            continue;
        }
        last = now;
        match load_certified_key(&files, &provider) {
            Ok(key) => {
                resolver.replace(key);
                crate::log::event("info", "serving certificate reloaded", serde_json::json!({"cert": files.cert}));
                on_reload(true);
            }
            Err(error) => {
                crate::log::event("error", "serving certificate not reloaded; keeping the previous one", serde_json::json!({"error": error.to_string()}));
                on_reload(false);
            }
        }
    }
}

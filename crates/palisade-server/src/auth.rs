//! Client authentication: who may call a route.
//!
//! Two layers cooperate:
//! - **TLS** ([`ServerOptions::client_ca`](crate::ServerOptions::client_ca)): rustls verifies a
//!   client certificate *when one is offered* against the client CA. Offering none is allowed at
//!   this layer, so kubelet probes (which never present one) keep working on `/healthz`.
//!   Every request carries a [`ClientIdentity`] extension: the peer address and, when a
//!   certificate was verified, its subject common name.
//! - **HTTP** ([`ClientAuth::protect`]): routes behind it answer 401 unless the connection
//!   presented a verified certificate whose common name is allowed, or the request carries
//!   `Authorization: Bearer TOKEN` with a token from the token file. An authenticated request
//!   gets a [`Principal`] extension (the certificate's common name or the token's user), the key
//!   a handler uses for per-client quotas.
//!
//! The token file uses the Kubernetes static token format: one `token[,user[,...]]` per line,
//! blank lines and `#` comments ignored. It is re-read (at most once a second) when its content
//! changes, so a rotated Secret takes effect without a restart; a file that became unreadable
//! keeps the previous tokens. Tokens are kept and compared as SHA-256 digests in constant time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ring::digest::{SHA256, digest};
use rustls::pki_types::CertificateDer;
use subtle::ConstantTimeEq;

use crate::ServerError;

/// The transport-level facts about a request's client, inserted by the server into every
/// request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    pub peer: SocketAddr,
    /// The subject common name of a client certificate that chained to the client CA (empty
    /// when the subject has none); `None` when no certificate was presented.
    pub certificate_name: Option<String>,
}

impl ClientIdentity {
    /// The identity of a TLS connection: the verified leaf certificate when rustls has one.
    /// rustls only exposes peer certificates it verified against the client CA.
    pub(crate) fn of(peer: SocketAddr, certificates: Option<&[CertificateDer<'_>]>) -> Self {
        let certificate_name = certificates.and_then(<[_]>::first).map(|leaf| common_name(leaf).unwrap_or_default());
        Self { peer, certificate_name }
    }
}

fn common_name(certificate: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
    let name = parsed.subject().iter_common_name().next()?.as_str().ok()?.to_owned();
    Some(name)
}

/// Who an authenticated request comes from: a certificate's common name or a token's user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal(pub String);

/// What [`ClientAuth::protect`] accepts.
#[derive(Clone, Debug, Default)]
pub struct ClientAuth {
    /// Common names a verified client certificate may carry; empty accepts any certificate the
    /// client CA signed.
    pub allowed_names: Vec<String>,
    /// Bearer tokens; `None` accepts certificates only.
    pub tokens: Option<Arc<TokenFile>>,
}

impl ClientAuth {
    /// `router` with every route answering 401 to unauthenticated requests.
    pub fn protect<S: Clone + Send + Sync + 'static>(self, router: Router<S>) -> Router<S> {
        router.layer(middleware::from_fn_with_state(Arc::new(self), require_client))
    }

    /// The principal `request` authenticates as, if any.
    pub fn authenticate(&self, request: &Request<Body>) -> Option<Principal> {
        let identity = request.extensions().get::<ClientIdentity>();
        if let Some(name) = identity.and_then(|identity| identity.certificate_name.as_ref()) {
            if self.allowed_names.is_empty() || self.allowed_names.iter().any(|allowed| allowed == name) {
                return Some(Principal(name.clone()));
            }
        }
        let tokens = self.tokens.as_ref()?;
        let presented = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = presented.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        tokens.user_of(token.trim()).map(Principal)
    }
}

async fn require_client(State(auth): State<Arc<ClientAuth>>, mut request: Request<Body>, next: Next) -> Response {
    match auth.authenticate(&request) {
        Some(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a client certificate signed by the client CA or a bearer token is required",
        )
            .into_response(),
    }
}

/// A token file, re-read when its content changes.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    state: Mutex<TokenState>,
}

#[derive(Debug)]
struct TokenState {
    checked: Instant,
    content: [u8; 32],
    tokens: Vec<([u8; 32], String)>,
}

/// Token files are tiny; anything larger is a mistake, not a token list.
const MAX_TOKEN_FILE_BYTES: u64 = 1 << 20;
const TOKEN_RECHECK: Duration = Duration::from_secs(1);

impl TokenFile {
    /// Loads the file, failing when it cannot be read or holds no token.
    pub fn load(path: &Path) -> Result<Self, ServerError> {
        let (content, tokens) = read_tokens(path)?;
        if tokens.is_empty() {
            return Err(ServerError::Auth { path: path.to_path_buf(), message: "no token in the file".into() });
        }
        let state = TokenState { checked: Instant::now(), content, tokens };
        Ok(Self { path: path.to_path_buf(), state: Mutex::new(state) })
    }

    /// The user of `token` when the file lists it. Every listed token is compared, in constant
    /// time, so the answer's timing says nothing about which one came close.
    pub fn user_of(&self, token: &str) -> Option<String> {
        let presented = sha256(token.as_bytes());
        let mut state = self.state.lock().unwrap_or_else(|poison| poison.into_inner());
        if state.checked.elapsed() >= TOKEN_RECHECK {
            state.checked = Instant::now();
            self.refresh(&mut state);
        }
        let mut user = None;
        for (digest, name) in &state.tokens {
            if bool::from(digest.ct_eq(&presented)) {
                user = Some(name.clone());
            }
        }
        user
    }

    fn refresh(&self, state: &mut TokenState) {
        match read_tokens(&self.path) {
            Ok((content, _)) if content == state.content => {}
            Ok((content, tokens)) => {
                crate::log::event("info", "bearer tokens reloaded", serde_json::json!({"file": self.path, "tokens": tokens.len()}));
                state.content = content;
                state.tokens = tokens;
            }
            Err(error) => {
                crate::log::event("error", "bearer tokens not reloaded; keeping the previous ones", serde_json::json!({"error": error.to_string()}));
            }
        }
    }
}

type Tokens = ([u8; 32], Vec<([u8; 32], String)>);

fn read_tokens(path: &Path) -> Result<Tokens, ServerError> {
    let failed = |message: String| ServerError::Auth { path: path.to_path_buf(), message };
    let size = std::fs::metadata(path).map_err(|error| failed(error.to_string()))?.len();
    if size > MAX_TOKEN_FILE_BYTES {
        return Err(failed(format!("{size} bytes, more than the {MAX_TOKEN_FILE_BYTES} a token file may hold")));
    }
    let text = std::fs::read_to_string(path).map_err(|error| failed(error.to_string()))?;
    let tokens = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut columns = line.split(',');
            let token = columns.next().unwrap_or_default().trim();
            let user = columns.next().map(str::trim).filter(|user| !user.is_empty()).unwrap_or("bearer-token");
            (sha256(token.as_bytes()), user.to_owned())
        })
        .collect();
    Ok((sha256(text.as_bytes()), tokens))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    digest(&SHA256, bytes).as_ref().try_into().expect("SHA-256 digests are 32 bytes")
}

/// Reads the client CA bundle into a rustls verifier that checks certificates when offered and
/// lets connections without one through (the HTTP layer decides per route).
pub(crate) fn client_verifier(
    ca: &Path,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, ServerError> {
    use rustls::pki_types::pem::PemObject;
    let failed = |message: String| ServerError::Tls { path: ca.to_path_buf(), message };
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(ca).map_err(|error| failed(error.to_string()))? {
        let certificate = certificate.map_err(|error| failed(error.to_string()))?;
        roots.add(certificate).map_err(|error| failed(format!("not a usable CA certificate: {error}")))?;
    }
    if roots.is_empty() {
        return Err(failed("no CERTIFICATE block in the client CA file".into()));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|error| failed(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_follow_the_kubernetes_static_token_format_and_reload_on_content_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.csv");
        std::fs::write(&path, "# audit webhook\nsecret-one,kube-apiserver,uid-1\n\nsecret-two\n").unwrap();
        let file = TokenFile::load(&path).unwrap();
        assert_eq!(file.user_of("secret-one").as_deref(), Some("kube-apiserver"));
        assert_eq!(file.user_of("secret-two").as_deref(), Some("bearer-token"));
        assert_eq!(file.user_of("secret-on"), None);
        assert_eq!(file.user_of(""), None);

        // Same length, so size alone cannot tell the versions apart.
        std::fs::write(&path, "# audit webhook\nsecret-six,kube-apiserver,uid-1\n\nsecret-two\n").unwrap();
        file.state.lock().unwrap().checked -= TOKEN_RECHECK;
        assert_eq!(file.user_of("secret-one"), None);
        assert_eq!(file.user_of("secret-six").as_deref(), Some("kube-apiserver"));

        std::fs::remove_file(&path).unwrap();
        file.state.lock().unwrap().checked -= TOKEN_RECHECK;
        assert_eq!(file.user_of("secret-six").as_deref(), Some("kube-apiserver"), "an unreadable file keeps the tokens");
    }

    #[test]
    fn empty_or_oversized_token_files_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, "# nothing\n").unwrap();
        let error = TokenFile::load(&path).unwrap_err().to_string();
        assert!(error.contains("tokens") && error.contains("no token"), "{error}");
        std::fs::write(&path, vec![b'a'; (MAX_TOKEN_FILE_BYTES + 1) as usize]).unwrap();
        assert!(TokenFile::load(&path).unwrap_err().to_string().contains("more than"));
    }
}

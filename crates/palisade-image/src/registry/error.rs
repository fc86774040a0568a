//! The ways a registry pull fails, each named, and the reading of oci-client's and reqwest's
//! errors into them. No message ever holds a password, a token or a response body the registry
//! chose beyond a short, cleaned excerpt.

use std::time::Duration;

use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};

/// Why a registry image could not be resolved or one of its blobs read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryProblem {
    /// The registry (or its token service) answered 401/403: credentials missing or wrong.
    #[error("{registry} refused access (unauthorized): {credentials}")]
    Unauthorized { registry: String, credentials: CredentialSource },
    /// The registry has no manifest for this tag or digest (or no such repository).
    #[error("manifest unknown: {registry} has no such image (check the repository, tag or digest)")]
    ManifestUnknown { registry: String },
    /// The registry does not have a blob its manifest names.
    #[error("blob unknown: {registry} has no {what} {digest}")]
    BlobUnknown { registry: String, what: &'static str, digest: String },
    /// The TLS handshake failed: untrusted or mismatched certificate, or the server speaks no TLS.
    #[error("TLS with {registry} failed: {detail} (for a private CA pass its PEM certificate; plain HTTP only for hosts listed as insecure)")]
    Tls { registry: String, detail: String },
    /// Connecting, or waiting for the next bytes, took longer than the timeout.
    #[error("{registry} timed out: no {phase} within {}s", timeout.as_secs())]
    Timeout { registry: String, phase: &'static str, timeout: Duration },
    /// More redirects than the HTTP client follows (10).
    #[error("too many redirects from {registry}")]
    TooManyRedirects { registry: String },
    /// The registry could not be reached (DNS, refused, reset).
    #[error("cannot reach {registry}: {detail}")]
    Connect { registry: String, detail: String },
    /// The registry answered with an error status or a body that breaks the distribution spec.
    #[error("{registry}: {detail}")]
    Protocol { registry: String, detail: String },
    /// A manifest, config or layer is larger than its limit, or than its descriptor says.
    #[error("{what} is {size} bytes, more than {limit}")]
    TooLarge { what: &'static str, size: u64, limit: u64 },
    /// A blob ended before the size its descriptor gives.
    #[error("{what} ended after {received} of {expected} bytes")]
    Truncated { what: &'static str, received: u64, expected: u64 },
    /// The content does not hash to its digest.
    #[error("{what} digest mismatch: {detail}")]
    DigestMismatch { what: &'static str, detail: String },
    /// A manifest, index or config that does not describe a container image.
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    /// The credentials could not be read: a broken `config.json`, a user without a password,
    /// or credentials kept by a helper program, which this reader does not run.
    #[error("credentials: {detail}")]
    Credentials { detail: String },
    /// The extra CA certificates or the HTTP client could not be set up.
    #[error("client setup: {detail}")]
    Setup { detail: String },
}

/// Where the credentials for a registry came from, as an unauthorized error names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// None were found: the pull was anonymous.
    Anonymous,
    /// `--username` and `--password-stdin` (or the library options).
    Explicit { username: String },
    /// An `auths` entry of a Docker `config.json`.
    DockerConfig { path: String, username: String },
}

impl std::fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => write!(
                f,
                "no credentials were given (pass --username and --password-stdin, or log in so that ~/.docker/config.json or $DOCKER_CONFIG/config.json has an `auths` entry for it)"
            ),
            Self::Explicit { username } => write!(f, "the credentials given for user {username:?} were rejected"),
            Self::DockerConfig { path, username } => write!(f, "the credentials of user {username:?} from {path} were rejected"),
        }
    }
}

/// What was being fetched when an error came: it decides what a 404 means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fetching {
    Manifest,
    Blob { what: &'static str },
}

/// Everything a mapped error needs to name: the registry, the credentials used, the timeouts.
#[derive(Clone, Debug)]
pub(crate) struct ErrorContext {
    pub registry: String,
    pub credentials: CredentialSource,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

/// The longest excerpt of a registry's own error text kept in a message.
const EXCERPT_LIMIT: usize = 200;

impl ErrorContext {
    /// Names an oci-client error.
    pub(crate) fn problem(&self, error: OciDistributionError, fetching: Fetching, digest: &str) -> RegistryProblem {
        let registry = self.registry.clone();
        let unauthorized = || RegistryProblem::Unauthorized { registry: registry.clone(), credentials: self.credentials.clone() };
        let missing = || match fetching {
            Fetching::Manifest => RegistryProblem::ManifestUnknown { registry: registry.clone() },
            Fetching::Blob { what } => RegistryProblem::BlobUnknown { registry: registry.clone(), what, digest: digest.to_owned() },
        };
        match error {
            OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => unauthorized(),
            OciDistributionError::ImageManifestNotFoundError(_) => missing(),
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|error| &error.code).collect();
                if codes.iter().any(|code| matches!(code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                    unauthorized()
                } else if codes.iter().any(|code| matches!(code, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound | OciErrorCode::BlobUnknown)) {
                    missing()
                } else {
                    let detail = envelope.errors.iter().map(|error| format!("{:?}: {}", error.code, excerpt(&error.message))).collect::<Vec<_>>().join("; ");
                    RegistryProblem::Protocol { registry, detail }
                }
            }
            OciDistributionError::ServerError { code: 401 | 403, .. } => unauthorized(),
            OciDistributionError::ServerError { code: 404, .. } => missing(),
            OciDistributionError::ServerError { code, message, .. } => RegistryProblem::Protocol { registry, detail: format!("HTTP status {code}: {}", excerpt(&message)) },
            OciDistributionError::DigestError(error) => RegistryProblem::DigestMismatch { what: fetching.what(), detail: error.to_string() },
            OciDistributionError::RequestError(error) => self.request_problem(&error),
            OciDistributionError::IoError(error) => self.io_problem(&error, fetching.what()),
            other => RegistryProblem::Protocol { registry, detail: excerpt(&other.to_string()) },
        }
    }

    /// Names a failed HTTP exchange: timeout, redirects, TLS, connection.
    pub(crate) fn request_problem(&self, error: &(dyn std::error::Error + 'static)) -> RegistryProblem {
        let registry = self.registry.clone();
        if let Some(detail) = tls_detail(error) {
            return RegistryProblem::Tls { registry, detail };
        }
        if let Some(request) = find_in_chain::<reqwest::Error>(error) {
            if request.is_timeout() {
                let (phase, timeout) = if request.is_connect() { ("connection", self.connect_timeout) } else { ("answer", self.read_timeout) };
                return RegistryProblem::Timeout { registry, phase, timeout };
            }
            if request.is_redirect() {
                return RegistryProblem::TooManyRedirects { registry };
            }
            if request.is_connect() {
                return RegistryProblem::Connect { registry, detail: innermost(error) };
            }
        }
        if let Some(io) = find_in_chain::<std::io::Error>(error)
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return RegistryProblem::Timeout { registry, phase: "answer", timeout: self.read_timeout };
        }
        RegistryProblem::Protocol { registry, detail: excerpt(&innermost(error)) }
    }

    /// Names an I/O error from the stream of blob `what` (oci-client wraps its transport errors
    /// and its digest check in these).
    pub(crate) fn io_problem(&self, error: &std::io::Error, what: &'static str) -> RegistryProblem {
        match error.get_ref() {
            Some(inner) => match inner.downcast_ref::<DigestError>() {
                Some(mismatch) => RegistryProblem::DigestMismatch { what, detail: mismatch.to_string() },
                None => self.request_problem(inner),
            },
            None => self.request_problem(error),
        }
    }
}

impl Fetching {
    fn what(self) -> &'static str {
        match self {
            Self::Manifest => "manifest",
            Self::Blob { what } => what,
        }
    }
}

/// The first error in the source chain (looking inside I/O errors) of type `T`.
fn find_in_chain<'a, T: std::error::Error + 'static>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(found) = find_in_chain::<T>(inner)
        {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// The TLS failure somewhere in the chain, as text: a rustls error (`invalid peer certificate:
/// UnknownIssuer`, a plain-HTTP answer to the hello), or the server closing during the handshake,
/// which hyper-rustls reports as an I/O error of its own.
fn tls_detail(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(tls) = find_in_chain::<rustls::Error>(error) {
        return Some(tls.to_string());
    }
    let text = innermost(error);
    text.contains("tls handshake").then_some(text)
}

/// The innermost message of an error chain: the cause, not the layers of wrapping.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    loop {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            current = inner;
            continue;
        }
        match current.source() {
            Some(next) => current = next,
            None => return current.to_string(),
        }
    }
}

/// A registry's own text cut to a short single line.
fn excerpt(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(EXCERPT_LIMIT).collect();
    if text.chars().count() > EXCERPT_LIMIT { format!("{line}…") } else { line }
}

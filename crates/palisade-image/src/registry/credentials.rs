//! Which credentials a pull uses: the ones given explicitly, else the `auths` entry of the Docker
//! `config.json` for the registry, else none. Credential helpers (`credsStore`, `credHelpers`)
//! are programs this reader does not run; when one holds the registry's credentials the error
//! says so instead of pulling anonymously and failing later with a puzzling 401.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use super::error::{CredentialSource, RegistryProblem};

/// `config.json` files are a few kilobytes; anything much larger is not one.
const CONFIG_LIMIT: u64 = 4 << 20;

/// The Docker Hub names a `config.json` may use for `docker.io` (`docker login` writes the first).
const DOCKER_HUB_KEYS: &[&str] = &["index.docker.io", "docker.io", "registry-1.docker.io", "registry.hub.docker.com"];

/// The credentials to send and how to name them in an unauthorized error.
pub(crate) struct Credentials {
    pub auth: RegistryAuth,
    pub source: CredentialSource,
}

/// The parts of a Docker `config.json` that hold credentials.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

/// One `auths` entry: `auth` is base64 of `user:password`; some tools write the two fields.
#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The directory holding `config.json`: the one given, else `$DOCKER_CONFIG`, else `~/.docker`.
pub(crate) fn docker_config_dir(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = given {
        return Some(dir.to_owned());
    }
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME").filter(|home| !home.is_empty()).map(|home| PathBuf::from(home).join(".docker"))
}

/// Chooses the credentials for `registry` (as the reference names it: `docker.io`,
/// `127.0.0.1:5000`).
pub(crate) fn resolve(registry: &str, username: Option<&str>, password: Option<&str>, config_dir: Option<&Path>) -> Result<Credentials, RegistryProblem> {
    match (username, password) {
        (Some(username), Some(password)) => {
            return Ok(Credentials {
                auth: RegistryAuth::Basic(username.to_owned(), password.to_owned()),
                source: CredentialSource::Explicit { username: username.to_owned() },
            });
        }
        (Some(username), None) => return Err(RegistryProblem::Credentials { detail: format!("user {username:?} was given without a password (use --password-stdin)") }),
        (None, Some(_)) => return Err(RegistryProblem::Credentials { detail: "a password was given without a user name (use --username)".to_owned() }),
        (None, None) => {}
    }
    let anonymous = Credentials { auth: RegistryAuth::Anonymous, source: CredentialSource::Anonymous };
    let Some(path) = config_dir.map(|dir| dir.join("config.json")) else { return Ok(anonymous) };
    let Some(config) = read_config(&path)? else { return Ok(anonymous) };
    let shown = path.display().to_string();
    let helper_error = |helper: &str| RegistryProblem::Credentials {
        detail: format!(
            "{shown}: the credentials for {registry} are kept by the credential helper docker-credential-{helper}; credential helpers are not supported, pass --username and --password-stdin instead"
        ),
    };
    if let Some((_, helper)) = config.cred_helpers.iter().find(|(key, _)| same_registry(key, registry)) {
        return Err(helper_error(helper));
    }
    let Some((key, entry)) = config.auths.iter().find(|(key, _)| same_registry(key, registry)) else { return Ok(anonymous) };
    if entry.identitytoken.as_deref().is_some_and(|token| !token.is_empty()) {
        return Err(RegistryProblem::Credentials {
            detail: format!("{shown}: auths[{key:?}] holds an identity token (OAuth refresh token), which is not supported; pass --username and --password-stdin instead"),
        });
    }
    let (username, password) = match (&entry.auth, &entry.username, &entry.password) {
        (Some(auth), _, _) if !auth.is_empty() => decode_auth(auth).map_err(|problem| RegistryProblem::Credentials { detail: format!("{shown}: auths[{key:?}].auth: {problem}") })?,
        (_, Some(username), Some(password)) => (username.clone(), password.clone()),
        _ => match &config.creds_store {
            Some(helper) => return Err(helper_error(helper)),
            None => return Ok(anonymous),
        },
    };
    let source = CredentialSource::DockerConfig { path: shown, username: username.clone() };
    Ok(Credentials { auth: RegistryAuth::Basic(username, password), source })
}

/// Reads `config.json`, `None` when there is none.
fn read_config(path: &Path) -> Result<Option<DockerConfig>, RegistryProblem> {
    let unreadable = |problem: String| RegistryProblem::Credentials { detail: format!("{}: {problem}", path.display()) };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error.to_string())),
    };
    let mut text = Vec::new();
    file.take(CONFIG_LIMIT + 1).read_to_end(&mut text).map_err(|error| unreadable(error.to_string()))?;
    if text.len() as u64 > CONFIG_LIMIT {
        return Err(unreadable(format!("larger than {CONFIG_LIMIT} bytes: not a Docker config")));
    }
    // serde_json's message names line and column, never the text around them: no secret leaks.
    serde_json::from_slice(&text).map(Some).map_err(|error| unreadable(format!("not a Docker config: {error}")))
}

/// Whether a `config.json` key (`https://index.docker.io/v1/`, `registry:5000`,
/// `https://registry:5000`) names `registry`.
fn same_registry(key: &str, registry: &str) -> bool {
    let host = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let host = host.split('/').next().unwrap_or(host);
    if host.eq_ignore_ascii_case(registry) {
        return true;
    }
    let hub = |name: &str| DOCKER_HUB_KEYS.iter().any(|key| key.eq_ignore_ascii_case(name));
    hub(registry) && hub(host)
}

/// Splits base64 `user:password`.
fn decode_auth(auth: &str) -> Result<(String, String), &'static str> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(auth.trim()).map_err(|_| "not base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 once decoded")?;
    let (username, password) = text.split_once(':').ok_or("not user:password once decoded")?;
    if username.is_empty() {
        return Err("empty user name");
    }
    Ok((username.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, text: &str) {
        std::fs::write(dir.join("config.json"), text).unwrap();
    }

    fn basic(credentials: &Credentials) -> (String, String) {
        match &credentials.auth {
            RegistryAuth::Basic(user, password) => (user.clone(), password.clone()),
            other => panic!("expected basic auth, got {other:?}"),
        }
    }

    #[test]
    fn explicit_credentials_win_and_must_be_whole() {
        let temp = tempfile::tempdir().unwrap();
        config(temp.path(), r#"{"auths":{"r:5000":{"auth":"dTpw"}}}"#);
        let chosen = resolve("r:5000", Some("me"), Some("secret"), Some(temp.path())).unwrap();
        assert_eq!(basic(&chosen), ("me".into(), "secret".into()));
        assert_eq!(chosen.source, CredentialSource::Explicit { username: "me".into() });
        let error = resolve("r:5000", Some("me"), None, Some(temp.path())).err().unwrap().to_string();
        assert!(error.contains("without a password"), "{error}");
        assert!(resolve("r:5000", None, Some("secret"), None).err().unwrap().to_string().contains("without a user name"));
    }

    #[test]
    fn auths_entries_match_by_host_and_docker_hub_aliases() {
        let temp = tempfile::tempdir().unwrap();
        // "alice:pa:ss" and "bob:pw": a password may hold colons.
        config(
            temp.path(),
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6cGE6c3M="},"http://127.0.0.1:5000":{"auth":"Ym9iOnB3"},"ghcr.io":{"username":"carol","password":"x"}}}"#,
        );
        assert_eq!(basic(&resolve("docker.io", None, None, Some(temp.path())).unwrap()), ("alice".into(), "pa:ss".into()));
        let local = resolve("127.0.0.1:5000", None, None, Some(temp.path())).unwrap();
        assert_eq!(basic(&local), ("bob".into(), "pw".into()));
        assert!(matches!(&local.source, CredentialSource::DockerConfig { username, .. } if username == "bob"));
        assert_eq!(basic(&resolve("ghcr.io", None, None, Some(temp.path())).unwrap()), ("carol".into(), "x".into()));
        let other = resolve("quay.io", None, None, Some(temp.path())).unwrap();
        assert_eq!((other.auth, other.source), (RegistryAuth::Anonymous, CredentialSource::Anonymous));
    }

    #[test]
    fn helpers_and_identity_tokens_are_named_not_run() {
        let temp = tempfile::tempdir().unwrap();
        config(temp.path(), r#"{"auths":{"ghcr.io":{}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}}"#);
        let error = resolve("gcr.io", None, None, Some(temp.path())).err().unwrap().to_string();
        assert!(error.contains("docker-credential-gcloud") && error.contains("not supported"), "{error}");
        let error = resolve("ghcr.io", None, None, Some(temp.path())).err().unwrap().to_string();
        assert!(error.contains("docker-credential-desktop"), "{error}");
        // A registry with no entry is pulled anonymously even when a store is configured.
        assert_eq!(resolve("quay.io", None, None, Some(temp.path())).unwrap().source, CredentialSource::Anonymous);
        config(temp.path(), r#"{"auths":{"r":{"identitytoken":"tok"}}}"#);
        assert!(resolve("r", None, None, Some(temp.path())).err().unwrap().to_string().contains("identity token"));
    }

    #[test]
    fn broken_configs_name_the_file_and_never_the_secret() {
        let temp = tempfile::tempdir().unwrap();
        config(temp.path(), r#"{"auths":{"r":{"auth":"%%%secret%%%"}}}"#);
        let error = resolve("r", None, None, Some(temp.path())).err().unwrap().to_string();
        assert!(error.contains("config.json") && error.contains("not base64") && !error.contains("secret"), "{error}");
        config(temp.path(), r#"{"auths": {"r": {"auth": "c2VjcmV0"}}}"#);
        assert!(resolve("r", None, None, Some(temp.path())).err().unwrap().to_string().contains("not user:password"));
        config(temp.path(), r#"{"auths": "#);
        assert!(resolve("r", None, None, Some(temp.path())).err().unwrap().to_string().contains("not a Docker config"));
        let missing = tempfile::tempdir().unwrap();
        assert_eq!(resolve("r", None, None, Some(missing.path())).unwrap().source, CredentialSource::Anonymous);
    }
}

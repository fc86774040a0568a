//! `palisade db update`: OSV's per-ecosystem exports (`<base>/<Ecosystem>/all.zip`, what
//! `osv-scanner --offline` uses) downloaded with conditional requests, so an unchanged
//! ecosystem costs one `304`; each changed one is indexed again. A failed download leaves that
//! ecosystem's previous data in place and is reported.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::{StatusCode, Url};

use crate::build;
use crate::clock;
use crate::error::DbError;
use crate::import::directory_bytes;
use crate::meta::{self, Meta};
use crate::source::{Source, SourceKind};
use crate::Progress;

pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// Larger than any ecosystem's export (the largest are a few hundred MB).
const MAX_DOWNLOAD_BYTES: u64 = 8 << 30;

#[derive(Clone, Debug)]
pub struct UpdateOptions {
    /// `https://…`; plain `http://` only to a loopback address (a local mirror or a test).
    pub base_url: String,
    /// Ecosystems to download, as OSV names them (`PyPI`, `crates.io`, `Debian`); `None`: every
    /// ecosystem in `<base>/ecosystems.txt` without a `:` suffix (a release's records are in
    /// its ecosystem's zip).
    pub ecosystems: Option<Vec<String>>,
    /// Connect timeout, and the longest wait for the next bytes of a response.
    pub timeout: Duration,
    /// Extra trusted CA certificates, PEM (each may hold several), besides the system's.
    pub ca_certificates: Vec<Vec<u8>>,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions { base_url: DEFAULT_BASE_URL.to_owned(), ecosystems: None, timeout: Duration::from_secs(60), ca_certificates: Vec::new() }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct UpdateReport {
    pub ecosystems: Vec<EcosystemUpdate>,
    pub elapsed: Duration,
    /// Bytes of the whole index directory afterwards.
    pub index_bytes: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EcosystemUpdate {
    pub ecosystem: String,
    pub outcome: UpdateOutcome,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum UpdateOutcome {
    /// Downloaded and indexed again.
    Updated { records: usize, issues: usize, downloaded_bytes: u64 },
    /// The server said the export has not changed (`304`).
    NotModified,
    /// The previous data (if any) is kept.
    Failed { reason: String },
}

/// Brings the index at `db_dir` up to date. Fails as a whole only when nothing can be tried
/// (bad base URL, no ecosystem list, the directory cannot be written); each ecosystem's
/// outcome is in the report.
pub fn update(db_dir: &Path, options: &UpdateOptions, progress: &mut dyn FnMut(Progress<'_>)) -> Result<UpdateReport, DbError> {
    let started = Instant::now();
    let base = base_url(&options.base_url)?;
    std::fs::create_dir_all(db_dir).map_err(|error| DbError::io(db_dir, error))?;
    let _writer = crate::lock::WriterLock::acquire(db_dir)?;
    let mut meta = Meta::load_for_writing(db_dir)?;
    let client = client(options)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| DbError::Setup(format!("cannot start the I/O runtime: {error}")))?;
    let ecosystems = match &options.ecosystems {
        Some(list) => list.clone(),
        None => runtime.block_on(ecosystem_list(&client, &base))?,
    };
    let mut outcomes = Vec::with_capacity(ecosystems.len());
    for ecosystem in ecosystems {
        let outcome = runtime.block_on(update_one(&client, &base, &ecosystem, db_dir, &mut meta, progress));
        let outcome = outcome.unwrap_or_else(|reason| UpdateOutcome::Failed { reason });
        if !matches!(outcome, UpdateOutcome::Failed { .. }) {
            // Saved after each ecosystem: an interrupted update keeps what it finished.
            meta.save(db_dir)?;
        }
        outcomes.push(EcosystemUpdate { ecosystem, outcome });
    }
    Ok(UpdateReport { ecosystems: outcomes, elapsed: started.elapsed(), index_bytes: directory_bytes(db_dir) })
}

fn base_url(text: &str) -> Result<Url, DbError> {
    let url = Url::parse(text.trim_end_matches('/')).map_err(|error| DbError::Setup(format!("base URL {text}: {error}")))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost" || host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback());
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(DbError::Setup(format!("base URL {text}: only https:// (or http:// to a loopback address) is accepted"))),
    }
}

/// `<base>/<segment>`, the segment percent-encoded (`Red Hat` → `Red%20Hat`, `Alpine:v3.19` → `Alpine%3Av3.19`).
fn url_of(base: &Url, segments: &[&str]) -> Result<Url, String> {
    let mut url = base.clone();
    url.path_segments_mut().map_err(|()| format!("{base} cannot have a path"))?.pop_if_empty().extend(segments);
    Ok(url)
}

/// rustls with ring, installed as the process default unless a provider already is (as
/// palisade-image does), the system's roots plus the extra ones.
fn client(options: &UpdateOptions) -> Result<reqwest::Client, DbError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut extra = Vec::new();
    for (position, pem) in options.ca_certificates.iter().enumerate() {
        let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|error| DbError::Setup(format!("CA certificate file {}: {error}", position + 1)))?;
        if certificates.is_empty() {
            return Err(DbError::Setup(format!("CA certificate file {}: no PEM certificate in it", position + 1)));
        }
        extra.extend(certificates);
    }
    reqwest::Client::builder()
        .connect_timeout(options.timeout)
        .read_timeout(options.timeout)
        .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
        .tls_certs_merge(extra)
        .build()
        .map_err(|error| DbError::Setup(format!("HTTP client: {}", describe(&error))))
}

async fn ecosystem_list(client: &reqwest::Client, base: &Url) -> Result<Vec<String>, DbError> {
    let url = url_of(base, &["ecosystems.txt"]).map_err(DbError::Setup)?;
    let failed = |reason: String| DbError::Setup(format!("cannot list the ecosystems ({url}): {reason}"));
    let response = client.get(url.clone()).send().await.map_err(|error| failed(describe(&error)))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let text = response.text().await.map_err(|error| failed(describe(&error)))?;
    Ok(text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.contains(':')).map(str::to_owned).collect())
}

async fn update_one(client: &reqwest::Client, base: &Url, ecosystem: &str, db_dir: &Path, meta: &mut Meta, progress: &mut dyn FnMut(Progress<'_>)) -> Result<UpdateOutcome, String> {
    let url = url_of(base, &[ecosystem, "all.zip"])?;
    let present = meta.partitions.iter_mut().find(|partition| partition.status.name == ecosystem && partition.status.kind == Some(SourceKind::Download));
    let mut headers = HeaderMap::new();
    if let Some(present) = &present {
        let validators = [(IF_NONE_MATCH, &present.status.etag), (IF_MODIFIED_SINCE, &present.status.last_modified)];
        for (header, value) in validators {
            if let Some(value) = value.as_deref().and_then(|value| HeaderValue::from_str(value).ok()) {
                headers.insert(header, value);
            }
        }
    }
    let mut response = client.get(url.clone()).headers(headers).send().await.map_err(|error| describe(&error))?;
    match response.status() {
        StatusCode::NOT_MODIFIED if present.is_some() => {
            if let Some(present) = present {
                present.status.checked_at = Some(clock::now());
            }
            return Ok(UpdateOutcome::NotModified);
        }
        StatusCode::OK => {}
        status => return Err(format!("{url}: HTTP {status}")),
    }
    let header = |name| response.headers().get(name).and_then(|value: &HeaderValue| value.to_str().ok()).map(str::to_owned);
    let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
    let total = response.content_length();
    if total.is_some_and(|total| total > MAX_DOWNLOAD_BYTES) {
        return Err(format!("{url}: {} bytes announced, more than the {MAX_DOWNLOAD_BYTES} allowed", total.unwrap_or_default()));
    }
    let download = db_dir.join(format!(".{}.download", meta::partition_file(ecosystem)));
    let result = async {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&download).map_err(|error| format!("{}: {error}", download.display()))?);
        let mut received = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(|error| format!("{url}: {}", describe(&error)))? {
            received += chunk.len() as u64;
            if received > MAX_DOWNLOAD_BYTES {
                return Err(format!("{url}: more than the {MAX_DOWNLOAD_BYTES} bytes allowed"));
            }
            file.write_all(&chunk).map_err(|error| format!("{}: {error}", download.display()))?;
            progress(Progress::Download { ecosystem, received, total });
        }
        file.flush().map_err(|error| format!("{}: {error}", download.display()))?;
        drop(file);
        let source = Source::open(&download).map_err(|error| format!("{url}: {error}"))?;
        let (mut partition, issues) = build::to_partition(&source, db_dir, ecosystem, url.as_str(), progress).map_err(|error| error.to_string())?;
        partition.status.kind = Some(SourceKind::Download);
        partition.status.checked_at = Some(partition.status.imported_at.clone());
        partition.status.etag = etag;
        partition.status.last_modified = last_modified;
        let outcome = UpdateOutcome::Updated { records: partition.status.records, issues: issues.len(), downloaded_bytes: received };
        meta.replace(partition);
        Ok(outcome)
    }
    .await;
    let _ = std::fs::remove_file(&download);
    result
}

/// A reqwest error with its causes (reqwest's own text stops at "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

//! What both SBOM formats say about the scanned source and the evidence of packages.

use palisade_pkg::{ImageDescription, InventoryIssue, Location, SourceDescription, purl};

/// The source's name: the image reference as given, or the path.
pub(crate) fn name(source: &SourceDescription) -> &str {
    match source {
        SourceDescription::Image(image) => &image.reference,
        SourceDescription::Directory { path } | SourceDescription::File { path } => path,
    }
}

/// The image's package URL (`pkg:oci/nginx@sha256:…?arch=amd64&repository_url=docker.io%2Flibrary%2Fnginx&tag=1.27`,
/// encoded as [`purl::build`] encodes every purl)
/// when it has a repository name (a repository digest or a tag) and a manifest digest; images
/// read from a layout or an archive without names have none.
pub(crate) fn oci_purl(image: &ImageDescription) -> Option<String> {
    if image.manifest_digest.is_empty() {
        return None;
    }
    let from_digest = image.repo_digests.iter().find_map(|repo_digest| {
        repo_digest
            .split_once('@')
            .map(|(repository, _)| (repository, None))
    });
    let from_tag = || {
        image
            .tags
            .iter()
            .find_map(|tag| split_tag(tag).map(|(repository, tag)| (repository, Some(tag))))
    };
    let (repository, tag) = from_digest.or_else(from_tag)?;
    let tag = tag.or_else(|| {
        image
            .tags
            .iter()
            .filter_map(|tag| split_tag(tag))
            .find(|(named, _)| *named == repository)
            .map(|(_, tag)| tag)
    });
    let name = repository
        .rsplit('/')
        .next()
        .unwrap_or(repository)
        .to_ascii_lowercase();
    let purl = purl::build(
        "oci",
        None,
        &name,
        Some(&image.manifest_digest),
        &[
            ("arch", &image.architecture),
            ("repository_url", repository),
            ("tag", tag.unwrap_or_default()),
        ],
    );
    (!purl.is_empty()).then_some(purl)
}

/// `registry:5000/team/app:1.2` → (`registry:5000/team/app`, `1.2`); a port is not a tag.
fn split_tag(reference: &str) -> Option<(&str, &str)> {
    let (repository, tag) = reference.rsplit_once(':')?;
    (!tag.contains('/') && !repository.is_empty() && !tag.is_empty()).then_some((repository, tag))
}

/// A digest as (CycloneDX algorithm name, SPDX algorithm name, hexadecimal value), when it is
/// one both formats can state: `sha256:` with 64 hex digits, `sha384:` 96, `sha512:` 128.
pub(crate) fn digest_parts(digest: &str) -> Option<(&'static str, &'static str, &str)> {
    let (algorithm, hex) = digest.split_once(':')?;
    let (cyclonedx, spdx, length) = match algorithm {
        "sha256" => ("SHA-256", "SHA256", 64),
        "sha384" => ("SHA-384", "SHA384", 96),
        "sha512" => ("SHA-512", "SHA512", 128),
        _ => return None,
    };
    (hex.len() == length
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some((cyclonedx, spdx, hex))
}

/// `/var/lib/dpkg/status (layer sha256:…)`.
pub(crate) fn location_text(location: &Location) -> String {
    match &location.layer {
        Some(layer) => format!("{} (layer {layer})", location.path),
        None => location.path.clone(),
    }
}

/// `/var/lib/dpkg/status (layer sha256:…): line 3: field without a name`.
pub(crate) fn issue_text(issue: &InventoryIssue) -> String {
    format!("{}: {}", location_text(&issue.location), issue.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(tags: &[&str], repo_digests: &[&str]) -> ImageDescription {
        ImageDescription {
            reference: "x".into(),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            manifest_digest: "sha256:0123".into(),
            architecture: "amd64".into(),
            repo_digests: repo_digests
                .iter()
                .map(|digest| digest.to_string())
                .collect(),
            ..ImageDescription::default()
        }
    }

    #[test]
    fn oci_purls_name_the_repository() {
        assert_eq!(oci_purl(&image(&[], &[])), None);
        assert_eq!(
            oci_purl(&image(&["docker.io/library/Nginx:1.27"], &[])).as_deref(),
            Some(
                "pkg:oci/nginx@sha256:0123?arch=amd64&repository_url=docker.io%2Flibrary%2FNginx&tag=1.27"
            )
        );
        assert_eq!(
            oci_purl(&image(
                &["localhost:5000/app:v1"],
                &["localhost:5000/app@sha256:0123"]
            ))
            .as_deref(),
            Some("pkg:oci/app@sha256:0123?arch=amd64&repository_url=localhost:5000%2Fapp&tag=v1")
        );
        assert_eq!(oci_purl(&image(&["localhost:5000/app"], &[])), None);
    }

    #[test]
    fn digests_are_checked_before_they_become_hashes() {
        let hex = "a".repeat(64);
        assert_eq!(
            digest_parts(&format!("sha256:{hex}")),
            Some(("SHA-256", "SHA256", hex.as_str()))
        );
        assert_eq!(digest_parts(&format!("sha256:{}", "A".repeat(64))), None);
        assert_eq!(digest_parts("sha256:abc"), None);
        assert_eq!(digest_parts(&format!("md5:{hex}")), None);
    }
}

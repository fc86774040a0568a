//! Container image references (`registry/repository:tag@digest`), parsed once for every rule
//! and policy that looks at images: tag and digest rules, registry allowlists, pull policies.
//! Parsing borrows from the reference and never allocates.

/// The registry Docker and containerd use when a reference names none.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// One image reference, split as the container runtime splits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Everything before the tag and digest, as written: `nginx`, `ghcr.io/org/app`.
    pub name: &'a str,
    pub tag: Option<&'a str>,
    /// `sha256:...` when the reference is pinned.
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(reference: &'a str) -> Self {
        let reference = reference.trim();
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (reference, None),
        };
        // A `:` after the last `/` separates the tag; one before it is a registry port.
        let last_slash = rest.rfind('/').map_or(0, |index| index + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => (&rest[..last_slash + colon], Some(&rest[last_slash + colon + 1..])),
            None => (rest, None),
        };
        Self { name, tag: tag.filter(|tag| !tag.is_empty()), digest: digest.filter(|d| !d.is_empty()) }
    }

    /// The registry host the runtime pulls from: the first path component when it looks like
    /// a host (has a `.` or `:`, or is `localhost`), else Docker Hub.
    pub fn registry(&self) -> &'a str {
        self.explicit_registry().unwrap_or(DEFAULT_REGISTRY)
    }

    fn explicit_registry(&self) -> Option<&'a str> {
        let (first, _) = self.name.split_once('/')?;
        (first.contains(['.', ':']) || first == "localhost").then_some(first)
    }

    /// The tag the runtime resolves: the written tag, or `latest` when neither tag nor digest
    /// is given. `None` for digest-only references.
    pub fn effective_tag(&self) -> Option<&'a str> {
        match (self.tag, self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// Whether the image lives under `prefix`, a registry (`registry.example.com`), a registry
    /// path (`registry.example.com/team`) or a Docker Hub path (`docker.io/library`).
    /// Components must match whole: `registry.example.com` does not admit
    /// `registry.example.com.evil.io/x`, and `ghcr.io/org` does not admit `ghcr.io/organisation`.
    pub fn is_under(&self, prefix: &str) -> bool {
        let prefix = prefix.trim().trim_end_matches('/');
        if prefix.is_empty() {
            return false;
        }
        if path_has_prefix(self.name, prefix) {
            return true;
        }
        // Docker Hub images are usually written without their registry (`nginx` is
        // `docker.io/library/nginx`); compare the prefix with the registry stripped.
        if self.explicit_registry().is_some() {
            return false;
        }
        let Some(hub_path) = ["docker.io", "index.docker.io"]
            .iter()
            .find_map(|hub| match prefix.strip_prefix(hub) {
                Some("") => Some(""),
                Some(rest) => rest.strip_prefix('/'),
                None => None,
            })
        else {
            return false;
        };
        if hub_path.is_empty() || path_has_prefix(self.name, hub_path) {
            return true;
        }
        // Official images: `nginx` is `library/nginx`.
        !self.name.contains('/')
            && hub_path.strip_prefix("library").is_some_and(|rest| {
                rest.is_empty() || rest.strip_prefix('/').is_some_and(|name| name == self.name)
            })
    }
}

/// `path` equals `prefix` or continues it after a `/`.
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether `image` is under one of `allowed` (see [`ImageRef::is_under`]).
pub fn is_allowed(image: &ImageRef<'_>, allowed: &[String]) -> bool {
    allowed.iter().any(|prefix| image.is_under(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_tag_and_digest() {
        let cases = [
            ("nginx", ("nginx", None, None)),
            ("nginx:1.27", ("nginx", Some("1.27"), None)),
            ("localhost:5000/app", ("localhost:5000/app", None, None)),
            ("localhost:5000/app:v2", ("localhost:5000/app", Some("v2"), None)),
            ("ghcr.io/o/a@sha256:abc", ("ghcr.io/o/a", None, Some("sha256:abc"))),
            ("ghcr.io/o/a:1@sha256:abc", ("ghcr.io/o/a", Some("1"), Some("sha256:abc"))),
        ];
        for (text, (name, tag, digest)) in cases {
            assert_eq!(ImageRef::parse(text), ImageRef { name, tag, digest }, "{text}");
        }
    }

    #[test]
    fn registry_and_effective_tag_follow_the_runtime() {
        assert_eq!(ImageRef::parse("nginx").registry(), "docker.io");
        assert_eq!(ImageRef::parse("library/nginx").registry(), "docker.io");
        assert_eq!(ImageRef::parse("localhost/app").registry(), "localhost");
        assert_eq!(ImageRef::parse("registry:5000/app").registry(), "registry:5000");
        assert_eq!(ImageRef::parse("nginx").effective_tag(), Some("latest"));
        assert_eq!(ImageRef::parse("nginx@sha256:1").effective_tag(), None);
    }

    #[test]
    fn registry_prefixes_match_whole_components_only() {
        let allowed = |image: &str, prefix: &str| ImageRef::parse(image).is_under(prefix);
        assert!(allowed("myregistry.example.com/x:1", "myregistry.example.com"));
        assert!(allowed("myregistry.example.com/x:1", "myregistry.example.com/"));
        assert!(allowed("myregistry.example.com/team/x", "myregistry.example.com/team"));
        assert!(!allowed("myregistry.example.com.evil.io/x", "myregistry.example.com"));
        assert!(!allowed("myregistry.example.com:443.evil.io/x", "myregistry.example.com"));
        assert!(!allowed("myregistry.example.com/teamevil/x", "myregistry.example.com/team"));
        assert!(!allowed("evil.io/myregistry.example.com/x", "myregistry.example.com"));
        assert!(!allowed("anything", ""));
    }

    #[test]
    fn docker_hub_images_match_their_implicit_registry() {
        let allowed = |image: &str, prefix: &str| ImageRef::parse(image).is_under(prefix);
        assert!(allowed("nginx:1", "docker.io"));
        assert!(allowed("nginx:1", "docker.io/library"));
        assert!(allowed("nginx:1", "docker.io/library/nginx"));
        assert!(allowed("bitnami/redis", "docker.io/bitnami"));
        assert!(!allowed("bitnami/redis", "docker.io/library"));
        assert!(!allowed("nginx", "docker.io/library/nginx-evil"));
        assert!(!allowed("quay.io/nginx", "docker.io"));
        assert!(!allowed("nginx", "docker.iox"));
    }
}

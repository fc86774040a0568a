//! Which Pod Security level and policy version a namespace enforces, read from its labels the
//! way Pod Security Admission reads them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The label that names the enforced level.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The label that pins the enforced policy version.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

/// The newest policy version any check has an implementation for. `latest` and every version
/// after it evaluate as this one, as upstream clamps requests to its newest registered version.
pub const NEWEST_MINOR: u32 = 37;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PssLevel {
    Privileged,
    Baseline,
    Restricted,
}

impl PssLevel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

impl fmt::Display for PssLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Level names are case-sensitive, as in the namespace labels PSA reads.
impl FromStr for PssLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Privileged, Self::Baseline, Self::Restricted]
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| {
                format!("unknown Pod Security level `{text}` (expected privileged, baseline or restricted)")
            })
    }
}

/// A policy version: `latest` or `v1.N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PssVersion {
    Latest,
    /// The minor number of `v1.N`.
    V(u32),
}

impl PssVersion {
    /// The minor version whose checks apply: `latest` and versions newer than any check are
    /// the newest version known.
    pub fn effective_minor(self) -> u32 {
        match self {
            Self::Latest => NEWEST_MINOR,
            Self::V(minor) => minor.min(NEWEST_MINOR),
        }
    }
}

impl fmt::Display for PssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::V(minor) => write!(f, "v1.{minor}"),
        }
    }
}

/// Accepts exactly what PSA accepts: `latest`, or `v1.` followed by a minor without leading
/// zeros.
impl FromStr for PssVersion {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "latest" {
            return Ok(Self::Latest);
        }
        let invalid =
            || format!("invalid Pod Security version `{text}` (expected \"latest\" or \"v1.x\")");
        let minor = text.strip_prefix("v1.").ok_or_else(invalid)?;
        let canonical = !minor.is_empty()
            && minor.bytes().all(|byte| byte.is_ascii_digit())
            && (minor == "0" || !minor.starts_with('0'));
        if !canonical {
            return Err(invalid());
        }
        minor.parse().map(Self::V).map_err(|_| invalid())
    }
}

/// The level and version a namespace enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PssSetting {
    pub level: PssLevel,
    pub version: PssVersion,
}

impl PssSetting {
    pub const fn new(level: PssLevel, version: PssVersion) -> Self {
        Self { level, version }
    }

    /// The setting a Namespace's labels select, each missing label falling back to `default`.
    ///
    /// Invalid values are handled as PSA's enforce mode handles them: it fails closed, so an
    /// unknown level enforces `restricted` and an unparsable version enforces `latest`.
    pub fn from_labels(labels: &BTreeMap<String, String>, default: PssSetting) -> PssSetting {
        let level = labels.get(ENFORCE_LABEL).map_or(default.level, |text| {
            text.parse().unwrap_or(PssLevel::Restricted)
        });
        let version = labels
            .get(ENFORCE_VERSION_LABEL)
            .map_or(default.version, |text| {
                text.parse().unwrap_or(PssVersion::Latest)
            });
        PssSetting { level, version }
    }
}

impl fmt::Display for PssSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const DEFAULT: PssSetting = PssSetting::new(PssLevel::Baseline, PssVersion::V(25));

    #[test]
    fn levels_parse_case_sensitively_and_print_lower_case() {
        assert_eq!("restricted".parse(), Ok(PssLevel::Restricted));
        assert!("Restricted".parse::<PssLevel>().is_err());
        assert_eq!(PssLevel::Privileged.to_string(), "privileged");
    }

    #[test]
    fn versions_accept_latest_and_canonical_v1_minors_only() {
        assert_eq!("latest".parse(), Ok(PssVersion::Latest));
        assert_eq!("v1.0".parse(), Ok(PssVersion::V(0)));
        assert_eq!("v1.29".parse(), Ok(PssVersion::V(29)));
        for bad in [
            "v1.029",
            "v1.",
            "1.29",
            "v2.1",
            "v1.2a",
            "Latest",
            "v1.99999999999",
        ] {
            assert!(bad.parse::<PssVersion>().is_err(), "{bad}");
        }
        assert_eq!(PssVersion::V(7).to_string(), "v1.7");
        assert_eq!(PssVersion::Latest.to_string(), "latest");
    }

    #[test]
    fn future_versions_and_latest_evaluate_as_the_newest_known_version() {
        assert_eq!(PssVersion::Latest.effective_minor(), NEWEST_MINOR);
        assert_eq!(PssVersion::V(99).effective_minor(), NEWEST_MINOR);
        assert_eq!(PssVersion::V(3).effective_minor(), 3);
    }

    #[test]
    fn labels_override_the_default_one_by_one() {
        assert_eq!(PssSetting::from_labels(&labels(&[]), DEFAULT), DEFAULT);
        let only_level = labels(&[(ENFORCE_LABEL, "restricted")]);
        assert_eq!(
            PssSetting::from_labels(&only_level, DEFAULT),
            PssSetting::new(PssLevel::Restricted, PssVersion::V(25))
        );
        let both = labels(&[
            (ENFORCE_LABEL, "privileged"),
            (ENFORCE_VERSION_LABEL, "v1.30"),
        ]);
        assert_eq!(
            PssSetting::from_labels(&both, DEFAULT),
            PssSetting::new(PssLevel::Privileged, PssVersion::V(30))
        );
    }

    #[test]
    fn invalid_labels_fail_closed_like_psa_enforce() {
        let bad = labels(&[(ENFORCE_LABEL, "strict"), (ENFORCE_VERSION_LABEL, "v1.x")]);
        assert_eq!(
            PssSetting::from_labels(&bad, DEFAULT),
            PssSetting::new(PssLevel::Restricted, PssVersion::Latest)
        );
        assert_eq!(DEFAULT.to_string(), "baseline:v1.25");
    }
}

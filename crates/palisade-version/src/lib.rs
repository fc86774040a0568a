//! Version ordering exactly as each package ecosystem orders it, so that a vulnerability range
//! (`introduced: 1.2.0`, `fixed: 1.2.7`) is applied the way the ecosystem's own tool would.
//!
//! Every scheme is a total order over *any* string: inputs the ecosystem calls invalid are
//! still ordered (as dpkg, OSV and the peers do), and [`Scheme::is_valid`] says whether the
//! ecosystem accepts them. Conformance: `tests/vectors.rs` checks every row of
//! `$PALISADE_UPSTREAM/version-vectors/`.

use std::cmp::Ordering;

pub mod apk;
pub mod dpkg;
pub mod golang;
pub mod maven;
pub mod nuget;
pub mod packagist;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

/// An ecosystem's ordering rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Debian and Ubuntu (dpkg): epoch, upstream, revision, `~`.
    Dpkg,
    /// Alpine and Wolfi/Chainguard (apk-tools).
    Apk,
    /// RPM (rpmvercmp over `[epoch:]version[-release]`).
    Rpm,
    /// PyPI (PEP 440, with OSV's ordering of legacy strings).
    Pep440,
    /// SemVer 2.0 as npm orders it; also crates.io, Hex, Pub.
    Semver,
    /// Go modules (golang.org/x/mod/semver, pseudo-versions; OSV writes versions without `v`).
    Go,
    /// Maven (ComparableVersion, Maven ≥ 3.9).
    Maven,
    RubyGems,
    NuGet,
    Packagist,
}

impl Scheme {
    /// How `a` orders against `b` in this ecosystem.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::Dpkg => dpkg::compare(a, b),
            Self::Apk => apk::compare(a, b),
            Self::Rpm => rpm::compare(a, b),
            Self::Pep440 => pep440::compare(a, b),
            Self::Semver => semver::compare(a, b),
            Self::Go => golang::compare(a, b),
            Self::Maven => maven::compare(a, b),
            Self::RubyGems => rubygems::compare(a, b),
            Self::NuGet => nuget::compare(a, b),
            Self::Packagist => packagist::compare(a, b),
        }
    }

    /// Whether the ecosystem's own tool accepts `version`.
    pub fn is_valid(self, version: &str) -> bool {
        match self {
            Self::Dpkg => dpkg::is_valid(version),
            Self::Apk => apk::is_valid(version),
            Self::Rpm => rpm::is_valid(version),
            Self::Pep440 => pep440::is_valid(version),
            Self::Semver => semver::is_valid(version),
            Self::Go => golang::is_valid(version),
            Self::Maven => maven::is_valid(version),
            Self::RubyGems => rubygems::is_valid(version),
            Self::NuGet => nuget::is_valid(version),
            Self::Packagist => packagist::is_valid(version),
        }
    }

    /// The scheme of an OSV ecosystem name, with or without its `:suffix` (`Debian:12`,
    /// `Alpine:v3.19`, `Red Hat:enterprise_linux:9`); `None` for ecosystems without an ordering
    /// here (OSV's `GIT`-only ecosystems, unknown names).
    pub fn of_ecosystem(ecosystem: &str) -> Option<Self> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Self::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" | "MinimOS" => Self::Apk,
            "Red Hat" | "AlmaLinux" | "Rocky Linux" | "SUSE" | "openSUSE" | "Mageia" | "openEuler"
            | "Azure Linux" | "Photon OS" => Self::Rpm,
            "PyPI" => Self::Pep440,
            "npm" | "crates.io" | "Hex" | "Pub" | "SwiftURL" => Self::Semver,
            "Go" => Self::Go,
            "Maven" => Self::Maven,
            "RubyGems" => Self::RubyGems,
            "NuGet" => Self::NuGet,
            "Packagist" => Self::Packagist,
            _ => return None,
        })
    }
}

//! `ruby-gemfile-cataloger`: Bundler's `Gemfile.lock`.
//!
//! Gems are the specs of the `GEM`, `GIT`, `PATH` and `PLUGIN SOURCE` sections: lines indented
//! by exactly four spaces, `name (version)` (their own dependencies are indented by six).
//!
//! A gem built for one platform is written `nokogiri (1.16.2-x86_64-linux)`: Bundler's lockfile
//! parser (`Bundler::LockfileParser`, `NAME_VERSION`) reads the version up to the first `-` and
//! the platform after it (RubyGems versions cannot hold a `-` there: `Gem::Version` turns
//! `1.0-rc1` into `1.0.pre.rc1`). Syft keeps the platform in the version (`1.16.2-x86_64-linux`);
//! here the version is `1.16.2` and the platform is the purl's `platform` qualifier, as the purl
//! specification's gem type defines it (`pkg:gem/nokogiri@1.16.2?platform=x86_64-linux`).

use palisade_pkg::{purl, PackageType};

use super::{file_name, text, Found, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `Gemfile.lock`.
pub(crate) struct GemfileLock;

const NAME: &str = "ruby-gemfile-cataloger";

const SECTIONS_WITH_GEMS: [&str; 4] = ["GEM", "GIT", "PATH", "PLUGIN SOURCE"];

impl Cataloger for GemfileLock {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        (file_name(path) == "Gemfile.lock").then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut found = Found::new(path, NAME, PackageType::Gem);
        let mut in_gem_section = false;
        for line in text(content)?.lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !line.is_empty() && !line.starts_with(' ') {
                in_gem_section = SECTIONS_WITH_GEMS.contains(&line.trim());
                continue;
            }
            let Some(spec) = line.strip_prefix("    ").filter(|spec| !spec.starts_with(' ')) else { continue };
            if !in_gem_section {
                continue;
            }
            let Some((name, version)) = spec.split_once(' ') else { continue };
            let Some(version) = version.strip_prefix('(').and_then(|version| version.strip_suffix(')')) else { continue };
            let (version, platform) = version.split_once('-').unwrap_or((version, ""));
            let purl = purl::build("gem", None, name, Some(version), &[("platform", platform)]);
            found.add(name, version, purl, Vec::new());
        }
        Ok(found.into_facts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfiles::identities;

    #[test]
    fn specs_of_gem_sections_with_platforms_in_the_purl() {
        let lock = "GIT\n  remote: https://x/y.git\n  specs:\n    from_git (0.2.0)\n      dep (>= 1)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.15.5-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.7.3)\n\nCHECKSUMS\n    racc (9.9.9)\n\nDEPENDENCIES\n    nokogiri\n";
        let facts = GemfileLock.parse("/app/Gemfile.lock", lock.as_bytes()).unwrap();
        assert_eq!(
            identities(facts),
            [
                ("from_git".into(), "0.2.0".into(), "pkg:gem/from_git@0.2.0".into()),
                ("nokogiri".into(), "1.15.5".into(), "pkg:gem/nokogiri@1.15.5?platform=x86_64-linux".into()),
                ("racc".into(), "1.7.3".into(), "pkg:gem/racc@1.7.3".into()),
            ]
        );
    }
}

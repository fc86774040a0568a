//! Which known vulnerabilities apply to an inventory: each package mapped to its OSV ecosystem
//! (distribution release included) and matched against the advisories' ranges in that
//! ecosystem's own version ordering.
//!
//! - [`ecosystem`]: package and distribution → OSV ecosystem, name and version to ask with;
//! - [`matching`]: OSV's range semantics for one advisory and one version;
//! - [`severity`]: CVSS vectors and distribution/database ratings → [`Rating`];
//! - [`vex`]: OpenVEX and CycloneDX VEX statements that suppress matches;
//! - [`matcher`]: [`match_inventory`], one match per vulnerability per package;
//! - [`findings`]: matches as Palisade findings (`vuln/<id>`);
//! - [`cyclonedx`]: matches as the `vulnerabilities` of a CycloneDX 1.6 BOM.

pub mod cyclonedx;
pub mod ecosystem;
pub mod findings;
pub mod matcher;
pub mod matching;
pub mod severity;
pub mod vex;

pub use findings::findings;
pub use matcher::{match_inventory, AdvisorySource, EcosystemCounts, Match, MatchOptions, MatchReport, Suppressed};
pub use severity::{Assessment, Rating};
pub use vex::{read_vex, VexStatement};

//! An inventory against an advisory database: every package asked in its ecosystem(s), the
//! affecting advisories grouped into one match per vulnerability, VEX statements applied.
//!
//! **One match per vulnerability.** Records of one package that name each other (their ids,
//! `aliases` and `upstream`, transitively; and for Ubuntu's `USN-` notices their `related`
//! CVEs) are one vulnerability, as osv-scanner groups them (`internal/grouper`). The match is
//! named after one of its records by osv-scanner's preference (`internal/identifiers`): `DSA-`
//! and `USN-` first (a distribution's notice is what its users act on), then `CVE-`, then the
//! ecosystem's own ids (`RUSTSEC-`, `GO-`, `PYSEC-`, `DLA-`, `ALSA-`, …), `GHSA-` last; ties in
//! byte order. Only ids of records that matched can name a match, so the rule id always has a
//! record behind it; every other id is listed among the aliases.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use palisade_core::{Severity, VulnerablePackage};
use palisade_osv::Advisory;
use palisade_pkg::{Inventory, Package};
use palisade_version::Scheme;

use crate::ecosystem::{self, Query};
use crate::matching;
use crate::severity::{self, Assessment};
use crate::vex::VexStatement;

/// Where advisories come from: [`palisade_osv::Database`], or records held some other way.
pub trait AdvisorySource {
    /// The exact ecosystem strings the source holds (`Debian:12`, `Ubuntu:Pro:22.04:LTS`).
    fn ecosystems(&self) -> Vec<String>;
    /// The records with an `affected` entry for exactly `ecosystem` and `name` (normalised as
    /// [`palisade_osv::normalize_name`] does).
    fn advisories(&self, ecosystem: &str, name: &str) -> Result<Vec<Arc<Advisory>>, String>;
}

#[derive(Clone, Debug, Default)]
pub struct MatchOptions {
    /// Leave out vulnerabilities without a published fix.
    pub ignore_unfixed: bool,
    /// Leave out vulnerabilities below this severity.
    pub min_severity: Option<Severity>,
    /// Statements that suppress matches (see [`crate::vex`]).
    pub vex: Vec<VexStatement>,
}

/// One vulnerability in one package.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// Index of the package in the inventory's `packages`.
    pub package_index: usize,
    pub package: VulnerablePackage,
    /// The version compared (the source version for Debian, `epoch:version-release` for Red
    /// Hat, `1.20.5` for `go1.20.5`).
    pub compared_version: String,
    /// The preferred id (see the module documentation).
    pub id: String,
    /// Every other id of the vulnerability, sorted.
    pub aliases: Vec<String>,
    /// The records that matched, the preferred one first.
    pub advisories: Vec<Arc<Advisory>>,
    /// Versions that fix it, lowest first; empty when no fix is published.
    pub fixed: Vec<String>,
    pub assessment: Assessment,
}

impl Match {
    /// The preferred record's summary, else the first non-empty summary of the others.
    pub fn summary(&self) -> &str {
        self.advisories.iter().map(|advisory| advisory.summary.as_str()).find(|summary| !summary.is_empty()).unwrap_or_default()
    }

    pub fn severity(&self) -> Severity {
        self.assessment.rating.severity()
    }

    /// The preferred id and the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// A match a VEX statement suppressed.
#[derive(Clone, Debug, PartialEq)]
pub struct Suppressed {
    pub matched: Match,
    pub statement: VexStatement,
}

/// Packages asked and found affected in one ecosystem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EcosystemCounts {
    pub packages: usize,
    pub affected: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchReport {
    /// Sorted by package (inventory order), then id.
    pub matches: Vec<Match>,
    pub suppressed: Vec<Suppressed>,
    /// Filtered out by `ignore_unfixed` or `min_severity`.
    pub filtered: usize,
    pub ecosystems: BTreeMap<String, EcosystemCounts>,
    /// Packages that could not be asked, by reason (`deb: no distribution known`).
    pub not_matched: BTreeMap<String, usize>,
    /// Lookups that failed, vectors that could not be scored.
    pub issues: Vec<String>,
}

/// Matches every package of `inventory` against `source`.
pub fn match_inventory(inventory: &Inventory, source: &dyn AdvisorySource, options: &MatchOptions) -> MatchReport {
    let available = source.ecosystems();
    let mut report = MatchReport::default();
    for (index, package) in inventory.packages.iter().enumerate() {
        let queries = match ecosystem::queries(package, inventory.distro.as_ref(), &available) {
            Ok(queries) => queries,
            Err(reason) => {
                *report.not_matched.entry(format!("{}: {reason}", package.kind)).or_default() += 1;
                continue;
            }
        };
        let asked: BTreeSet<&str> = queries.iter().map(|query| query.ecosystem.as_str()).collect();
        let matches = match_package(index, package, &queries, source, &mut report.issues);
        let mut affected: BTreeSet<String> = BTreeSet::new();
        for found in matches {
            if options.ignore_unfixed && found.fixed.is_empty() || options.min_severity.is_some_and(|min| found.severity() < min) {
                report.filtered += 1;
                continue;
            }
            let ids: Vec<&str> = found.ids().collect();
            match options.vex.iter().find(|statement| statement.applies(&ids, &package.purl)) {
                Some(statement) => report.suppressed.push(Suppressed { statement: statement.clone(), matched: found }),
                None => {
                    affected.insert(found.package.ecosystem.clone());
                    report.matches.push(found);
                }
            }
        }
        for ecosystem in asked {
            let counts = report.ecosystems.entry(ecosystem.to_owned()).or_default();
            counts.packages += 1;
            counts.affected += usize::from(affected.contains(ecosystem));
        }
    }
    report
}

/// One record that affects the package, with the query it answered.
struct Hit<'q> {
    advisory: Arc<Advisory>,
    query: &'q Query,
    fixed: Vec<String>,
}

/// The matches of one package, one per vulnerability, sorted by id.
fn match_package(index: usize, package: &Package, queries: &[Query], source: &dyn AdvisorySource, issues: &mut Vec<String>) -> Vec<Match> {
    let mut hits: Vec<Hit<'_>> = Vec::new();
    for query in queries {
        let advisories = match source.advisories(&query.ecosystem, &query.name) {
            Ok(advisories) => advisories,
            Err(problem) => {
                issues.push(format!("{} {}: {problem}", query.ecosystem, query.name));
                continue;
            }
        };
        for advisory in advisories {
            // The same record through another stream or name (Red Hat's streams, an RPM's
            // binary and source names) is one hit.
            if hits.iter().any(|hit| hit.advisory.id == advisory.id) {
                continue;
            }
            if let Some(affects) = matching::affects(&advisory, query) {
                hits.push(Hit { advisory, query, fixed: affects.fixed });
            }
        }
    }
    group(&hits)
        .into_iter()
        .map(|members| {
            let mut members: Vec<&Hit<'_>> = members.into_iter().map(|member| &hits[member]).collect();
            members.sort_by(|a, b| preference(&a.advisory.id, &b.advisory.id));
            build_match(index, package, &members, issues)
        })
        .collect::<BTreeMap<String, Match>>()
        .into_values()
        .collect()
}

fn build_match(index: usize, package: &Package, members: &[&Hit<'_>], issues: &mut Vec<String>) -> (String, Match) {
    let preferred = members[0];
    let id = preferred.advisory.id.clone();
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    for member in members {
        aliases.extend(linked_ids(&member.advisory).map(str::to_owned));
    }
    aliases.remove(&id);
    let scheme: Scheme = preferred.query.scheme;
    let mut fixed: Vec<String> = members.iter().flat_map(|member| member.fixed.iter().cloned()).collect();
    fixed.sort_by(|a, b| scheme.compare(a, b));
    fixed.dedup_by(|a, b| scheme.compare(a, b).is_eq());
    let os_package = package.kind.is_os();
    let assessment = members
        .iter()
        .map(|member| severity::assess(&member.advisory, &member.query.ecosystem, &member.query.name, os_package, issues))
        .find(|assessment| assessment.source.is_some())
        .unwrap_or_default();
    let location = package.locations.first();
    let vulnerable = VulnerablePackage {
        name: package.name.clone(),
        version: package.version.clone(),
        ecosystem: preferred.query.ecosystem.clone(),
        purl: package.purl.clone(),
        source: Some(preferred.query.name.clone()).filter(|name| *name != package.name && package.kind.is_os()),
        path: location.map(|location| location.path.clone()).unwrap_or_default(),
        layer: location.and_then(|location| location.layer.clone()),
    };
    let found = Match {
        package_index: index,
        package: vulnerable,
        compared_version: preferred.query.version.clone(),
        id: id.clone(),
        aliases: aliases.into_iter().collect(),
        advisories: members.iter().map(|member| member.advisory.clone()).collect(),
        fixed,
        assessment,
    };
    (id, found)
}

/// The ids a record names as the same vulnerability: its own, `aliases`, `upstream`, and a
/// USN's `related` CVEs (osv-scanner's `ConvertVulnerabilityToIDAliases`).
fn linked_ids(advisory: &Advisory) -> impl Iterator<Item = &str> {
    let related = if advisory.id.starts_with("USN-") { advisory.related.as_slice() } else { &[] };
    std::iter::once(&advisory.id).chain(&advisory.aliases).chain(&advisory.upstream).chain(related).map(String::as_str)
}

/// Hits grouped by shared ids, transitively (union-find over the ids they name).
fn group(hits: &[Hit<'_>]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    fn root(parent: &mut [usize], mut at: usize) -> usize {
        while parent[at] != at {
            parent[at] = parent[parent[at]];
            at = parent[at];
        }
        at
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (index, hit) in hits.iter().enumerate() {
        for id in linked_ids(&hit.advisory) {
            match owner.get(id) {
                Some(&other) => {
                    let (a, b) = (root(&mut parent, index), root(&mut parent, other));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    owner.insert(id, index);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..hits.len() {
        let top = root(&mut parent, index);
        groups.entry(top).or_default().push(index);
    }
    groups.into_values().collect()
}

/// osv-scanner's id order: `DSA`/`USN`, then `CVE`, then the rest, then `GHSA`; ties by bytes.
pub fn preference(a: &str, b: &str) -> std::cmp::Ordering {
    fn rank(id: &str) -> u8 {
        match id.split('-').next().unwrap_or_default() {
            "DSA" | "USN" => 0,
            "CVE" => 1,
            "GHSA" => 3,
            _ => 2,
        }
    }
    rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
}

impl AdvisorySource for palisade_osv::Database {
    fn ecosystems(&self) -> Vec<String> {
        palisade_osv::Database::ecosystems(self)
    }

    fn advisories(&self, ecosystem: &str, name: &str) -> Result<Vec<Arc<Advisory>>, String> {
        palisade_osv::Database::advisories(self, ecosystem, name).map_err(|error| error.to_string())
    }
}

//! Declared licences sorted into SPDX identifiers, SPDX expressions and free text.
//!
//! Inventories carry licences as their sources declare them: SPDX expressions from npm or
//! Python metadata, Debian copyright short names (`GPL-2+`, `BSD-3-clause`), or prose. SBOMs
//! need to know which is which: CycloneDX puts an SPDX identifier in `license.id`, an expression
//! in `expression` and anything else in `license.name`; SPDX needs a valid expression, with
//! `LicenseRef-` identifiers standing for the texts.
//!
//! A term counts as an SPDX licence when it names one on the SPDX licence list after three
//! mechanical steps, the ones Debian's short names need and Syft applies too: case is ignored
//! (`BSD-3-clause`), a bare major version gets `.0` (`GPL-2`, `Apache-2`), and a trailing `+`
//! means "or later" (`-or-later` for the GNU licences, `+` for the others). GNU licences
//! without `-only`/`-or-later` get `-only`, as the list deprecates the bare forms. The `spdx`
//! crate's imprecise-name table is not used: it matches prefixes (`BSD-3-clause` would become
//! `BSD-2-Clause` through its `bsd` entry), which would misstate licences.

use std::collections::HashSet;

use spdx::{Expression, ParseMode};

use crate::identity;

/// One declared licence, sorted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Term {
    /// A licence on the SPDX list, canonically spelled: `GPL-2.0-or-later`.
    Id(String),
    /// A valid SPDX expression that is not a bare list identifier: `MIT OR Apache-2.0`,
    /// `Apache-2.0+`, `LicenseRef-Proprietary`.
    Expression(String),
    /// Anything else, trimmed: `GPL`, `public-domain`, `Apache License, Version 2.0`.
    Text(String),
}

impl Term {
    /// The term as (part of) an SPDX expression, free text standing as its `LicenseRef-`.
    pub(crate) fn spdx(&self) -> String {
        match self {
            Term::Id(id) => id.clone(),
            Term::Expression(expression) if expression.contains(' ') => format!("({expression})"),
            Term::Expression(expression) => expression.clone(),
            Term::Text(text) => license_ref(text),
        }
    }
}

/// The licences of a package, sorted, without empty entries and without repeats (declared
/// order is kept).
pub(crate) fn terms(declared: &[String]) -> Vec<Term> {
    let mut seen = HashSet::new();
    declared
        .iter()
        .filter_map(|text| classify(text))
        .filter(|term| seen.insert(term.clone()))
        .collect()
}

/// All of a package's licences as one SPDX expression (`AND`-joined, since each was declared
/// for the package); `None` when it declares none.
pub(crate) fn conjunction(terms: &[Term]) -> Option<String> {
    match terms {
        [] => None,
        [Term::Expression(only)] => Some(only.clone()),
        _ => Some(
            terms
                .iter()
                .map(Term::spdx)
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    }
}

/// The `LicenseRef-` identifier that stands for a licence text: the text itself when it is
/// made of the characters an identifier allows (`LicenseRef-public-domain`), else those
/// characters (others become `-`, at most 64 kept) and a hash of the text, so two texts never
/// share an identifier.
pub(crate) fn license_ref(text: &str) -> String {
    let readable = identity::restricted(
        text,
        64,
        |c| c.is_ascii_alphanumeric() || c == '.' || c == '-',
        "text",
    );
    if readable == text {
        format!("LicenseRef-{readable}")
    } else {
        format!("LicenseRef-{readable}-{}", identity::short_hash(&[text]))
    }
}

fn classify(declared: &str) -> Option<Term> {
    let text = declared.trim();
    if text.is_empty() {
        return None;
    }
    let Some(expression) = canonical_expression(text) else {
        return Some(Term::Text(text.to_owned()));
    };
    let is_list_id = spdx::license_id(&expression).is_some_and(|id| id.name == expression);
    Some(if is_list_id {
        Term::Id(expression)
    } else {
        Term::Expression(expression)
    })
}

/// `text` rewritten as a canonical SPDX expression, when every licence term in it is one
/// (see the module comment) and the result parses strictly (deprecated list entries allowed).
fn canonical_expression(text: &str) -> Option<String> {
    let mut canonical = String::with_capacity(text.len() + 16);
    let mut after_with = false;
    for token in tokens(text) {
        let piece = match token {
            "(" | ")" => token.to_owned(),
            _ if ["AND", "OR", "WITH"]
                .iter()
                .any(|op| token.eq_ignore_ascii_case(op)) =>
            {
                after_with = token.eq_ignore_ascii_case("WITH");
                canonical.push(' ');
                canonical.push_str(&token.to_ascii_uppercase());
                canonical.push(' ');
                continue;
            }
            _ if after_with => exception(token)?.to_owned(),
            _ if token.starts_with("LicenseRef-") || token.starts_with("DocumentRef-") => {
                token.to_owned()
            }
            _ => list_license(token)?,
        };
        after_with = false;
        canonical.push_str(&piece);
    }
    let mode = ParseMode {
        allow_deprecated: true,
        ..ParseMode::STRICT
    };
    Expression::parse_mode(&canonical, mode).ok()?;
    Some(canonical)
}

/// Splits on white space and around parentheses.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace().flat_map(|word| {
        let mut pieces = Vec::new();
        let mut rest = word;
        while let Some(at) = rest.find(['(', ')']) {
            if at > 0 {
                pieces.push(&rest[..at]);
            }
            pieces.push(&rest[at..at + 1]);
            rest = &rest[at + 1..];
        }
        if !rest.is_empty() {
            pieces.push(rest);
        }
        pieces
    })
}

fn exception(name: &str) -> Option<&'static str> {
    spdx::identifiers::EXCEPTIONS
        .iter()
        .find(|exception| exception.name.eq_ignore_ascii_case(name))
        .map(|exception| exception.name)
}

/// The canonical SPDX spelling of one licence term, `+` included.
fn list_license(term: &str) -> Option<String> {
    let (base, or_later) = match term.strip_suffix('+') {
        Some(base) => (base, true),
        None => (term, false),
    };
    let id = list_entry(base)
        .or_else(|| list_entry(&format!("{base}.0")).filter(|_| ends_with_bare_major(base)))?;
    if !id.is_gnu() {
        return Some(if or_later {
            format!("{}+", id.name)
        } else {
            id.name.to_owned()
        });
    }
    let (stem, or_later) = if let Some(stem) = id.name.strip_suffix("-or-later") {
        (stem, true)
    } else if let Some(stem) = id.name.strip_suffix("-only") {
        // `GPL-2.0-only+` says two things at once.
        if or_later {
            return None;
        }
        (stem, false)
    } else {
        (
            id.name.trim_end_matches('+'),
            or_later || id.name.ends_with('+'),
        )
    };
    let suffixed = format!("{stem}{}", if or_later { "-or-later" } else { "-only" });
    match spdx::license_id(&suffixed) {
        Some(_) => Some(suffixed),
        // GNU entries with no -only form (`GPL-2.0-with-GCC-exception`) stay as listed.
        None if !or_later => Some(id.name.to_owned()),
        None => None,
    }
}

/// `GPL-2`, `BSL-1`: the last `-` part is a bare number.
fn ends_with_bare_major(name: &str) -> bool {
    name.rsplit_once('-')
        .is_some_and(|(_, major)| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
}

/// The list entry spelled `name` up to case; never `NOASSERTION`, which the crate's list
/// carries but an expression cannot.
fn list_entry(name: &str) -> Option<spdx::LicenseId> {
    if name.eq_ignore_ascii_case("NOASSERTION") || name.eq_ignore_ascii_case("NONE") {
        return None;
    }
    // Exact spellings are found by binary search; only other cases need the scan.
    let exact = spdx::license_id(name).filter(|id| id.name == name);
    exact.or_else(|| {
        spdx::identifiers::LICENSES
            .iter()
            .find(|license| license.name.eq_ignore_ascii_case(name))
            .and_then(|license| spdx::license_id(license.name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(text: &str) -> Option<Term> {
        classify(text)
    }

    fn id(text: &str) -> Option<Term> {
        Some(Term::Id(text.to_owned()))
    }

    fn expression(text: &str) -> Option<Term> {
        Some(Term::Expression(text.to_owned()))
    }

    fn free(text: &str) -> Option<Term> {
        Some(Term::Text(text.to_owned()))
    }

    #[test]
    fn list_identifiers_are_canonically_spelled() {
        assert_eq!(sorted("MIT"), id("MIT"));
        assert_eq!(sorted(" Apache-2.0\n"), id("Apache-2.0"));
        assert_eq!(sorted("BSD-3-clause"), id("BSD-3-Clause"));
        assert_eq!(sorted("ZLIB"), id("Zlib"));
        assert_eq!(sorted("Ms-PL"), id("MS-PL"));
    }

    #[test]
    fn debian_short_names_become_list_identifiers() {
        assert_eq!(sorted("GPL-2"), id("GPL-2.0-only"));
        assert_eq!(sorted("GPL-2+"), id("GPL-2.0-or-later"));
        assert_eq!(sorted("LGPL-2.1+"), id("LGPL-2.1-or-later"));
        assert_eq!(sorted("LGPL-2"), id("LGPL-2.0-only"));
        assert_eq!(sorted("GFDL-1.3"), id("GFDL-1.3-only"));
        assert_eq!(sorted("GPL-2.0"), id("GPL-2.0-only"));
        assert_eq!(sorted("GPL-2.0+"), id("GPL-2.0-or-later"));
        assert_eq!(sorted("Apache-2"), id("Apache-2.0"));
        assert_eq!(sorted("BSL-1"), id("BSL-1.0"));
        assert_eq!(sorted("Artistic-2"), id("Artistic-2.0"));
    }

    #[test]
    fn names_off_the_list_stay_text() {
        for text in [
            "GPL",
            "Expat",
            "public-domain",
            "CC0",
            "GFDL-3",
            "GPLv3+",
            "MIT/X11",
            "GPL-3+-WITH-BISON-EXCEPTION",
            "Apache License, Version 2.0",
            "NOASSERTION",
        ] {
            assert_eq!(sorted(text), free(text), "{text}");
        }
        assert_eq!(sorted("   "), None);
        assert_eq!(sorted("GPL-2.0-only+"), free("GPL-2.0-only+"));
    }

    #[test]
    fn expressions_are_checked_and_canonicalised() {
        assert_eq!(sorted("MIT OR Apache-2.0"), expression("MIT OR Apache-2.0"));
        assert_eq!(
            sorted("(mit or apache-2.0) and bsd-3-clause"),
            expression("(MIT OR Apache-2.0) AND BSD-3-Clause")
        );
        assert_eq!(
            sorted("GPL-2+ or Artistic-2"),
            expression("GPL-2.0-or-later OR Artistic-2.0")
        );
        assert_eq!(
            sorted("GPL-2.0-only WITH classpath-exception-2.0"),
            expression("GPL-2.0-only WITH Classpath-exception-2.0")
        );
        assert_eq!(sorted("Apache-2.0+"), expression("Apache-2.0+"));
        assert_eq!(
            sorted("LicenseRef-Proprietary"),
            expression("LicenseRef-Proprietary")
        );
        assert_eq!(sorted("MIT OR"), free("MIT OR"));
        assert_eq!(sorted("(MIT"), free("(MIT"));
        assert_eq!(sorted("MIT WITH Apache-2.0"), free("MIT WITH Apache-2.0"));
        assert_eq!(sorted("GPL or Artistic"), free("GPL or Artistic"));
    }

    #[test]
    fn a_package_licences_join_into_one_valid_expression() {
        let declared = [
            "GPL-2+",
            "Expat",
            "GPL-2+",
            "MIT OR Apache-2.0",
            "",
            "Apache License 2.0",
        ]
        .map(String::from);
        let terms = terms(&declared);
        assert_eq!(terms.len(), 4, "{terms:?}");
        let joined = conjunction(&terms).unwrap();
        assert!(joined.starts_with("GPL-2.0-or-later AND LicenseRef-Expat AND (MIT OR Apache-2.0) AND LicenseRef-Apache-License-2.0-"), "{joined}");
        Expression::parse(&joined).unwrap();
        assert_eq!(conjunction(&[]), None);
        assert_eq!(
            conjunction(&[Term::Expression("MIT OR 0BSD".into())]).as_deref(),
            Some("MIT OR 0BSD")
        );
    }

    /// Every licence the Debian 12 minbase packages declare, with what Syft 1.18.1 made of it
    /// (see tests/fixtures/SOURCE.md): the same SPDX expression, or text in both, except
    /// where Syft swaps a deprecated list entry for its successor, and for identifiers the SPDX
    /// list gained after the 3.25 list Syft 1.18.1 carries (the `spdx` crate has 3.29, and
    /// CycloneDX's licence schema knows them too).
    #[test]
    fn debian_licences_are_read_as_syft_reads_them() {
        const SYFT_REPLACES_DEPRECATED: [(&str, &str); 1] =
            [("BSD-2-Clause-NetBSD", "BSD-2-Clause")];
        const LISTED_AFTER_SYFTS_LIST: [&str; 2] = ["Artistic-dist", "SMAIL-GPL"];
        let table = include_str!("../tests/fixtures/debian-licences.syft-1.18.1.tsv");
        let mut compared = 0;
        let mut differences = Vec::new();
        for line in table.lines().filter(|line| !line.starts_with('#')) {
            let (declared, syft) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("no tab in {line:?}"));
            let ours = match classify(declared) {
                Some(Term::Text(_)) | None => String::new(),
                Some(term) => term.spdx(),
            };
            let expected = SYFT_REPLACES_DEPRECATED
                .iter()
                .find(|(deprecated, _)| *deprecated == ours)
                .map_or(ours.as_str(), |(_, successor)| successor);
            if LISTED_AFTER_SYFTS_LIST.contains(&declared) {
                assert_eq!((ours.as_str(), syft), (declared, ""));
            } else if expected != syft {
                differences.push(format!("{declared}: ours {ours:?}, syft {syft:?}"));
            }
            compared += 1;
        }
        assert!(differences.is_empty(), "{}", differences.join("\n"));
        assert!(compared > 100, "{compared}");
    }

    #[test]
    fn licence_refs_are_valid_and_distinct() {
        assert_eq!(license_ref("public-domain"), "LicenseRef-public-domain");
        let spaced = license_ref("a b");
        let underscored = license_ref("a_b");
        assert_ne!(spaced, underscored);
        let long = license_ref(&"Permission is hereby granted ".repeat(100));
        assert!(long.len() < 100, "{long}");
        for reference in [spaced, underscored, long, license_ref("ünï©ode ✓")] {
            Expression::parse(&reference).unwrap_or_else(|error| panic!("{reference}: {error}"));
        }
    }
}

//! `table`: one line per distinct package (name, version, type), sorted by name, version and
//! type, as Syft's table shows them; repeats of a line are counted instead of listed.

use std::collections::BTreeMap;
use std::io;

use palisade_pkg::Inventory;

use crate::SbomOptions;

const HEADER: [&str; 3] = ["NAME", "VERSION", "TYPE"];
const GAP: &str = "  ";

pub(crate) fn write(
    inventory: &Inventory,
    options: &SbomOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let mut rows: BTreeMap<[String; 3], usize> = BTreeMap::new();
    for package in &inventory.packages {
        let row = [
            printable(&package.name),
            printable(&package.version),
            package.kind.to_string(),
        ];
        *rows.entry(row).or_default() += 1;
    }
    if rows.is_empty() {
        return writeln!(out, "No packages discovered");
    }
    let mut widths = HEADER.map(|title| title.chars().count());
    for row in rows.keys() {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let style = |code: &str, text: &str| {
        if options.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let line = |cells: [&str; 3]| {
        let padded = [
            pad(cells[0], widths[0]),
            pad(cells[1], widths[1]),
            cells[2].to_owned(),
        ];
        padded.join(GAP)
    };
    writeln!(out, "{}", style("1", line(HEADER).trim_end()))?;
    for (row, count) in &rows {
        let text = line([&row[0], &row[1], &row[2]]);
        match count {
            1 => writeln!(out, "{}", text.trim_end())?,
            2 => writeln!(out, "{text} {}", style("2", "(+1 duplicate)"))?,
            _ => writeln!(
                out,
                "{text} {}",
                style("2", &format!("(+{} duplicates)", count - 1))
            )?,
        }
    }
    Ok(())
}

fn pad(cell: &str, width: usize) -> String {
    format!(
        "{cell}{}",
        " ".repeat(width.saturating_sub(cell.chars().count()))
    )
}

/// Control characters (escape sequences, new lines) from a hostile package would reach the
/// terminal; they are shown escaped instead (`\u{1b}`).
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_pkg::{Location, Package, PackageType, SourceDescription};

    fn package(name: &str, version: &str, kind: PackageType) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind,
            purl: String::new(),
            licenses: Vec::new(),
            locations: vec![Location::new("/x")],
            found_by: "test".into(),
            arch: None,
            epoch: None,
            source: None,
            namespace: None,
        }
    }

    fn table(packages: Vec<Package>, color: bool) -> String {
        let inventory = Inventory {
            source: SourceDescription::Directory { path: "/".into() },
            distro: None,
            packages,
            issues: Vec::new(),
        };
        let mut options = SbomOptions::new("palisade", "0", time::OffsetDateTime::UNIX_EPOCH);
        options.color = color;
        let mut out = Vec::new();
        write(&inventory, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_are_sorted_aligned_and_counted() {
        let packages = vec![
            package("zlib1g", "1:1.2.13", PackageType::Deb),
            package("left-pad", "1.3.0", PackageType::Npm),
            package("@scope/ünï", "2", PackageType::Npm),
            package("left-pad", "1.3.0", PackageType::Npm),
            package("left-pad", "1.3.0", PackageType::Npm),
            package("adduser", "3.134", PackageType::Deb),
        ];
        assert_eq!(
            table(packages, false),
            "NAME        VERSION   TYPE\n\
             @scope/ünï  2         npm\n\
             adduser     3.134     deb\n\
             left-pad    1.3.0     npm (+2 duplicates)\n\
             zlib1g      1:1.2.13  deb\n"
        );
    }

    #[test]
    fn colour_only_when_asked_and_control_characters_escaped() {
        let packages = vec![
            package("evil\x1b[2Jname", "1\n2", PackageType::Npm),
            package("evil\x1b[2Jname", "1\n2", PackageType::Npm),
        ];
        let plain = table(packages.clone(), false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(
            plain.contains("evil\\u{1b}[2Jname  1\\n2     npm (+1 duplicate)"),
            "{plain:?}"
        );
        let colored = table(packages, true);
        assert!(colored.starts_with("\x1b[1mNAME"), "{colored:?}");
        assert!(
            colored.contains("\x1b[2m(+1 duplicate)\x1b[0m"),
            "{colored:?}"
        );
    }

    #[test]
    fn an_empty_inventory_says_so() {
        assert_eq!(table(Vec::new(), false), "No packages discovered\n");
    }
}

//! Joins the facts of the files a filesystem ends up with into an inventory.

use std::collections::HashMap;

use palisade_pkg::{purl, Inventory, InventoryIssue, Location, Package, SourceDescription};

use crate::{Fact, FileFacts};

/// One file that is there in the final filesystem, with the layer that wrote it.
pub struct SeenFile<'a> {
    pub path: &'a str,
    pub layer: Option<&'a str>,
    pub facts: &'a FileFacts,
}

/// The inventory of a filesystem from the facts of its files (in any order).
pub fn assemble<'a>(source: SourceDescription, files: impl IntoIterator<Item = SeenFile<'a>>) -> Inventory {
    let mut distro: Option<(u8, palisade_pkg::Distro)> = None;
    let mut packages: Vec<Package> = Vec::new();
    let mut evidence = Vec::new();
    let mut issues = Vec::new();
    let mut layer_of: HashMap<&str, &str> = HashMap::new();
    for file in files {
        if let Some(layer) = file.layer {
            layer_of.insert(file.path, layer);
        }
        let here = || Location { path: file.path.to_owned(), layer: file.layer.map(str::to_owned) };
        issues.extend(file.facts.issues.iter().map(|message| InventoryIssue { location: here(), message: message.clone() }));
        for fact in &file.facts.facts {
            match fact {
                Fact::Package(package) => packages.push(package.clone()),
                Fact::Distro { rank, distro: found } => {
                    if distro.as_ref().is_none_or(|(best, _)| rank < best) {
                        let mut found = found.clone();
                        found.location = Some(here());
                        distro = Some((*rank, found));
                    }
                }
                Fact::Evidence { kind, name, licenses } => evidence.push((*kind, name.as_str(), licenses, here())),
                Fact::Issue { message } => issues.push(InventoryIssue { location: here(), message: message.clone() }),
            }
        }
    }
    let distro = distro.map(|(_, distro)| distro);

    let mut by_name: HashMap<(palisade_pkg::PackageType, &str), Vec<usize>> = HashMap::new();
    for (index, package) in packages.iter().enumerate() {
        by_name.entry((package.kind, package.name.as_str())).or_default().push(index);
    }
    let mut attached: Vec<(usize, &Vec<String>, Location)> = Vec::new();
    for (kind, name, licenses, location) in evidence {
        for &index in by_name.get(&(kind, name)).into_iter().flatten() {
            attached.push((index, licenses, location.clone()));
        }
    }
    let declared: Vec<bool> = packages.iter().map(|package| !package.licenses.is_empty()).collect();
    for (index, licenses, location) in attached {
        let package = &mut packages[index];
        if !declared[index] {
            for license in licenses {
                if !package.licenses.contains(license) {
                    package.licenses.push(license.clone());
                }
            }
        }
        package.locations.push(location);
    }

    for package in &mut packages {
        for location in &mut package.locations {
            if location.layer.is_none() {
                location.layer = layer_of.get(location.path.as_str()).map(|layer| (*layer).to_owned());
            }
        }
        // The file the package was read from stays first; the evidence after it is ordered.
        if package.locations.len() > 2 {
            package.locations[1..].sort();
        }
        package.locations.dedup();
        if package.kind.is_os() && package.purl.is_empty() {
            package.purl = purl::os_package(package, distro.as_ref());
        }
    }
    let mut inventory = Inventory { source, distro, packages, issues };
    inventory.sort();
    inventory
}

//! The image door of `palisade scan --images`: the distinct images that pod templates run are
//! each inventoried once, in parallel, and every container that runs one gets a finding linking
//! it to the result (`image/inventory`) or saying it could not be read (`image/not-evaluated`,
//! never a pass).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use palisade_checks::images::{INVENTORY, NOT_EVALUATED};
use palisade_core::{Candidate, Finding, InventoryRule, Object, RuleMeta, pod::PodView};
use palisade_pkg::{Inventory, PackageType, SourceDescription};
use rayon::prelude::*;

/// Reads one image reference into its inventory; the error says why it could not.
pub type Inventorier = dyn Fn(&str) -> Result<Inventory, String> + Send + Sync;

/// Findings about one inventoried image that hold for every container running it
/// (vulnerabilities); each is repeated at the `image` field of those containers.
pub type ImageFindings = dyn Fn(&str, &Inventory) -> Vec<Finding> + Send + Sync;

/// Reports progress: images done, images in all, the reference just finished.
pub type Progress = dyn Fn(usize, usize, &str) + Send + Sync;

/// The outcome for one distinct image reference.
#[derive(Debug)]
pub struct ImageOutcome {
    pub reference: String,
    pub result: Result<Inventory, String>,
    /// How many containers run it.
    pub containers: usize,
}

/// The inventory rule that reads the images; the outcomes stay available to the caller (to
/// write SBOMs) through [`WorkloadImages::outcomes`].
#[derive(Clone)]
pub struct WorkloadImages {
    inventorier: Arc<Inventorier>,
    progress: Arc<Progress>,
    image_findings: Option<Arc<ImageFindings>>,
    outcomes: Arc<Mutex<Vec<ImageOutcome>>>,
}

impl WorkloadImages {
    pub fn new(inventorier: Arc<Inventorier>, progress: Arc<Progress>) -> Self {
        Self { inventorier, progress, image_findings: None, outcomes: Arc::default() }
    }

    /// Also reports the `findings` of each image at every container that runs it.
    pub fn with_image_findings(self, findings: Arc<ImageFindings>) -> Self {
        Self { image_findings: Some(findings), ..self }
    }

    /// The outcomes of the last check, sorted by reference.
    pub fn outcomes(&self) -> Arc<Mutex<Vec<ImageOutcome>>> {
        self.outcomes.clone()
    }
}

/// Every container image of an object that creates pods: (reference, JSON pointer of the
/// `image` field).
pub fn container_images(object: &Object) -> Vec<(String, String)> {
    let Some(pod) = PodView::of(object) else { return Vec::new() };
    pod.containers()
        .filter_map(|container| {
            let image = container.get("image")?.as_str()?.trim();
            (!image.is_empty()).then(|| (image.to_owned(), format!("{}/image", container.pointer())))
        })
        .collect()
}

impl InventoryRule for WorkloadImages {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        vec![&INVENTORY, &NOT_EVALUATED]
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        (!container_images(object).is_empty()).then(|| object.clone())
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        let mut users: BTreeMap<String, Vec<(&Object, String)>> = BTreeMap::new();
        for object in retained {
            for (image, pointer) in container_images(object) {
                users.entry(image).or_default().push((object, pointer));
            }
        }
        let total = users.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        type Read = (String, Result<Inventory, String>, Vec<Finding>);
        let results: Vec<Read> = users
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|reference| {
                let result = (self.inventorier)(&reference);
                let found = match (&result, &self.image_findings) {
                    (Ok(inventory), Some(image_findings)) => image_findings(&reference, inventory),
                    _ => Vec::new(),
                };
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                (self.progress)(finished, total, &reference);
                (reference, result, found)
            })
            .collect();
        let mut outcomes = Vec::with_capacity(results.len());
        for (reference, result, found) in results {
            let containers = users.get(&reference).map_or(&[][..], Vec::as_slice);
            for (object, pointer) in containers {
                let finding = match &result {
                    Ok(inventory) => Finding::new(&INVENTORY, object, pointer.clone(), summary(&reference, inventory)),
                    Err(reason) => Finding::new(
                        &NOT_EVALUATED,
                        object,
                        pointer.clone(),
                        format!("image {reference} could not be inventoried: {reason}"),
                    ),
                };
                out.push(Candidate { finding, gate: None });
                let pointer = palisade_core::Text::from(pointer.as_str());
                for image_finding in &found {
                    let message = format!("image {reference}: {}", image_finding.message).into();
                    out.push(Candidate { finding: image_finding.relocated(object, pointer.clone(), message), gate: None });
                }
            }
            outcomes.push(ImageOutcome { reference, result, containers: containers.len() });
        }
        if let Ok(mut shared) = self.outcomes.lock() {
            *shared = outcomes;
        }
    }
}

/// `image nginx:1.27 is sha256:…: debian 12, 97 packages (87 deb, 5 npm, 4 python, 1 java-archive)`.
pub fn summary(reference: &str, inventory: &Inventory) -> String {
    let mut counts: BTreeMap<PackageType, usize> = BTreeMap::new();
    for package in &inventory.packages {
        *counts.entry(package.kind).or_default() += 1;
    }
    let mut by_count: Vec<_> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let kinds: Vec<String> = by_count.iter().map(|(kind, count)| format!("{count} {kind}")).collect();
    let digest = match &inventory.source {
        SourceDescription::Image(image) if !image.manifest_digest.is_empty() => format!(" is {}", image.manifest_digest),
        _ => String::new(),
    };
    let distro = inventory.distro.as_ref().map_or_else(
        || "no known distribution".to_owned(),
        |distro| format!("{} {}", distro.id, distro.version_id.as_deref().unwrap_or("")).trim_end().to_owned(),
    );
    let packages = inventory.packages.len();
    let noun = if packages == 1 { "package" } else { "packages" };
    if kinds.is_empty() {
        format!("image {reference}{digest}: {distro}, no packages")
    } else {
        format!("image {reference}{digest}: {distro}, {packages} {noun} ({})", kinds.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_pkg::{Distro, ImageDescription, Location, Package};

    fn objects(text: &str) -> Vec<Object> {
        let loaded = palisade_load::load_str(text, "workloads.yaml");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.objects
    }

    fn inventory(reference: &str) -> Inventory {
        let package = |name: &str, kind| Package { locations: vec![Location::new("/x")], ..Package::new(kind, name, "1", "") };
        Inventory {
            source: SourceDescription::Image(ImageDescription {
                reference: reference.into(),
                manifest_digest: "sha256:abc".into(),
                ..ImageDescription::default()
            }),
            distro: Some(Distro { id: "debian".into(), version_id: Some("12".into()), ..Distro::default() }),
            packages: vec![package("a", PackageType::Deb), package("b", PackageType::Deb), package("c", PackageType::Npm)],
            issues: vec![],
        }
    }

    const WORKLOADS: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: init, image: registry.test/base:1}\n      containers:\n      - name: web\n        image: registry.test/web:2\n      - name: sidecar\n        image: registry.test/base:1\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report, namespace: shop}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - {name: report, image: registry.test/private:3}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";

    #[test]
    fn each_distinct_image_is_read_once_and_linked_to_every_container_that_runs_it() {
        let calls = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = calls.clone();
        let inventorier: Arc<Inventorier> = Arc::new(move |reference: &str| {
            seen.lock().unwrap().push(reference.to_owned());
            if reference.contains("private") { Err("unauthorized: registry.test refused the credentials".into()) } else { Ok(inventory(reference)) }
        });
        let rule = WorkloadImages::new(inventorier, Arc::new(|_, _, _| {}));
        let objects = objects(WORKLOADS);
        let retained: Vec<Object> = objects.iter().filter_map(|object| rule.retain(object)).collect();
        assert_eq!(retained.len(), 2, "the ConfigMap runs no image");
        let mut out = Vec::new();
        rule.check(&retained, &mut out);

        let mut called = calls.lock().unwrap().clone();
        called.sort();
        assert_eq!(called, ["registry.test/base:1", "registry.test/private:3", "registry.test/web:2"]);
        let findings: Vec<(&str, String, String, u32)> = out
            .iter()
            .map(|candidate| {
                let finding = &candidate.finding;
                (finding.rule, finding.object.name.clone(), finding.location.path.to_string(), finding.location.line)
            })
            .collect();
        assert_eq!(findings.len(), 4);
        assert!(findings.contains(&("image/inventory", "web".into(), "/spec/template/spec/initContainers/0/image".into(), 8)));
        assert!(findings.contains(&("image/inventory", "web".into(), "/spec/template/spec/containers/1/image".into(), 13)));
        assert!(findings.contains(&("image/not-evaluated", "report".into(), "/spec/jobTemplate/spec/template/spec/containers/0/image".into(), 24)));
        let web = out.iter().find(|candidate| candidate.finding.location.path.ends_with("containers/0/image") && candidate.finding.object.name == "web").unwrap();
        assert_eq!(web.finding.message.as_str(), "image registry.test/web:2 is sha256:abc: debian 12, 3 packages (2 deb, 1 npm)");

        let outcomes = rule.outcomes();
        let outcomes = outcomes.lock().unwrap();
        assert_eq!(outcomes.iter().map(|outcome| (outcome.reference.as_str(), outcome.containers, outcome.result.is_ok())).collect::<Vec<_>>(), [
            ("registry.test/base:1", 2, true),
            ("registry.test/private:3", 1, false),
            ("registry.test/web:2", 1, true)
        ]);
    }

    #[test]
    fn image_findings_are_repeated_at_every_container_that_runs_the_image() {
        static ADVISORY: RuleMeta = RuleMeta {
            id: "vuln/DSA-5621-1",
            title: "openssl security update",
            severity: palisade_core::Severity::High,
            doc: "",
            remediation: "Upgrade.",
            controls: &[],
        };
        let inventorier: Arc<Inventorier> = Arc::new(|reference: &str| if reference.contains("private") { Err("unauthorized".into()) } else { Ok(inventory(reference)) });
        let image_findings: Arc<ImageFindings> = Arc::new(|reference: &str, _: &Inventory| {
            if !reference.ends_with("base:1") {
                return Vec::new();
            }
            let image = palisade_load::load_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: image}\n", "image").objects.remove(0);
            vec![Finding::new(&ADVISORY, &image, String::new(), "libssl3 3.0.11-1~deb12u1 (source openssl) is affected by DSA-5621-1".into())]
        });
        let rule = WorkloadImages::new(inventorier, Arc::new(|_, _, _| {})).with_image_findings(image_findings);
        let objects = objects(WORKLOADS);
        let retained: Vec<Object> = objects.iter().filter_map(|object| rule.retain(object)).collect();
        let mut out = Vec::new();
        rule.check(&retained, &mut out);
        let vulnerable: Vec<(&str, &str, String, u32, &str)> = out
            .iter()
            .map(|candidate| &candidate.finding)
            .filter(|finding| finding.rule.starts_with("vuln/"))
            .map(|finding| (finding.rule, finding.object.kind.as_str(), finding.location.path.to_string(), finding.location.line, finding.message.as_str()))
            .collect();
        let message = "image registry.test/base:1: libssl3 3.0.11-1~deb12u1 (source openssl) is affected by DSA-5621-1";
        assert_eq!(vulnerable, [
            ("vuln/DSA-5621-1", "Deployment", "/spec/template/spec/initContainers/0/image".to_owned(), 8, message),
            ("vuln/DSA-5621-1", "Deployment", "/spec/template/spec/containers/1/image".to_owned(), 13, message),
        ]);
        assert!(out.iter().all(|candidate| candidate.finding.location.file.as_ref() == "workloads.yaml"));
    }
}

//! Images: every file of every layer, not only the final filesystem. A file a later layer
//! deleted or overwrote is still in the image for anyone who pulls it, so its leaks are
//! reported too, marked as hidden by a later layer. Layers are read as streams, in parallel,
//! and what each layer held is cached by its diff id (redacted findings only).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use palisade_core::{Finding, LeakedSecret, Location};
use palisade_image::{FileAnalyzer, FileMeta, ImageSource, LayerCache, LayerProgress, Want, analyze_image};
use palisade_secrets::finding::{HIDDEN_NOTE, Place, rule_meta};
use serde::{Deserialize, Serialize};

use crate::content::scan_file;
use crate::{Engine, Options, Scan, problem, source_object};

/// A finding as the layer cache keeps it: everything but the image it belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CachedLeak {
    file: String,
    line: u32,
    column: u32,
    message: String,
    secret: LeakedSecret,
}

struct Analyzer<'a> {
    engine: &'a Engine,
    options: &'a Options,
}

impl FileAnalyzer for Analyzer<'_> {
    type Facts = Vec<CachedLeak>;

    fn cache_key(&self) -> String {
        let mut hasher = DefaultHasher::new();
        (&self.engine.identity, self.options.max_file_bytes, self.options.archive.max_depth).hash(&mut hasher);
        format!("secrets-v1-{:016x}", hasher.finish())
    }

    fn wants(&self, _path: &str, _meta: &FileMeta) -> Option<Want> {
        Some(Want::Content { limit: self.options.max_file_bytes })
    }

    fn analyze(&self, path: &str, _meta: &FileMeta, content: &[u8]) -> Vec<CachedLeak> {
        let mut scan = Scan::default();
        let place = Place { object: source_object("Image", ""), file: path.into(), pointer: "".into(), commit: None, layer: None, hidden_by_later_layer: false };
        scan_file(self.engine, self.options, content, &place, false, &mut scan);
        scan.findings
            .into_iter()
            .filter_map(|finding| {
                let secret = finding.secret.as_deref()?.clone();
                Some(CachedLeak { file: finding.location.file.to_string(), line: finding.location.line, column: finding.location.column, message: finding.message.to_string(), secret })
            })
            .collect()
    }
}

/// Scans every layer of the image `source`, named `reference` in reports.
pub fn scan_image(engine: &Engine, source: &dyn ImageSource, reference: &str, options: &Options, cache: Option<&LayerCache>, progress: &(dyn Fn(LayerProgress) + Sync)) -> Scan {
    let mut scan = Scan::default();
    let analyzed = match analyze_image(source, &Analyzer { engine, options }, cache, progress) {
        Ok(analyzed) => analyzed,
        Err(error) => {
            scan.unread.push(problem(reference, error.to_string()));
            return scan;
        }
    };
    let object = source_object("Image", reference);
    let visible = analyzed.files.into_iter().map(|file| (file, false));
    let hidden = analyzed.hidden.into_iter().map(|file| (file, true));
    for (file, hidden) in visible.chain(hidden) {
        scan.stats.scanned += 1;
        scan.stats.bytes += file.meta.size;
        for leak in file.facts {
            let mut secret = leak.secret;
            secret.layer = file.layer_digest.clone();
            secret.hidden_by_later_layer = hidden;
            let meta = rule_meta(&secret.rule, &secret.description);
            let message = if hidden { format!("{}{HIDDEN_NOTE}", leak.message) } else { leak.message };
            let place = Place { object: object.clone(), file: leak.file.as_str().into(), pointer: "".into(), commit: None, layer: secret.layer.clone(), hidden_by_later_layer: hidden };
            scan.findings.push(Finding {
                rule: meta.id,
                severity: meta.severity,
                title: meta.title,
                message: message.into(),
                object: place.object,
                location: Location { file: place.file, line: leak.line, column: leak.column, path: place.pointer },
                remediation: meta.remediation,
                controls: meta.controls,
                vulnerability: None,
                secret: Some(std::sync::Arc::new(secret)),
            });
        }
    }
    for issue in analyzed.issues {
        let at = issue.path.clone().unwrap_or_else(|| reference.to_owned());
        let layer = issue.layer.map(|layer| format!(" (layer {layer})")).unwrap_or_default();
        scan.problems.push(problem(&at, format!("{}{layer}", issue.message)));
    }
    scan
}

//! Palisade's input side: finds manifest files, reads them within limits, parses YAML and JSON
//! with positions, and turns documents into Kubernetes [`Object`]s (expanding `List` kinds).
//! Every problem becomes an [`InputError`] naming file, line and cause; nothing panics and the
//! rest of the input is still read.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use palisade_core::{InputError, Node, Object, Origin, Value};
use rayon::prelude::*;

pub mod yaml;

pub use yaml::Limits;

/// One place to read manifests from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File { path: PathBuf, display: Arc<str> },
}

impl Input {
    /// The name findings and errors use: the path as the user gave it (joined with the
    /// directory walk below it), or `-` for standard input.
    pub fn display(&self) -> Arc<str> {
        match self {
            Self::Stdin => Arc::from("-"),
            Self::File { display, .. } => display.clone(),
        }
    }
}

/// Objects and errors read from some input.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub errors: Vec<InputError>,
    /// Documents that are mappings without `kind` (Helm values, Chart.yaml, tool configs):
    /// not Kubernetes objects, so not scanned, and not errors either.
    pub skipped_documents: usize,
}

const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Expands the paths the user named: `-` is standard input, a directory is walked recursively
/// for `*.yaml`, `*.yml` and `*.json` (hidden entries and symlinked directories are skipped, so
/// `.git` is not read and link loops cannot hang the walk; so is the `templates/` folder of a
/// Helm chart, a folder beside a `Chart.yaml`, whose Go templates are manifests only once
/// `helm template` renders them), and a file is read whatever its extension. Inputs are in a stable order: as given, and sorted by name inside directories.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(file_input(path.clone())),
            Err(error) => errors.push(io_error(path.display().to_string().into(), &error)),
        }
    }
    (inputs, errors)
}

fn file_input(path: PathBuf) -> Input {
    let display = Arc::from(path.display().to_string());
    Input::File { path, display }
}

fn walk(directory: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(io_error(directory.display().to_string().into(), &error));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|entry| entry.file_name());
    let chart = directory.join("Chart.yaml").is_file();
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !(chart && entry.file_name() == "templates") {
                walk(&path, inputs, errors);
            }
        } else if (kind.is_file() || kind.is_symlink() && path.is_file())
            && path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| MANIFEST_EXTENSIONS.iter().any(|m| ext.eq_ignore_ascii_case(m)))
        {
            inputs.push(file_input(path));
        }
    }
}

fn io_error(file: Arc<str>, error: &std::io::Error) -> InputError {
    InputError { file, line: 0, column: 0, message: format!("cannot read: {error}") }
}

/// Reads one input as text, refusing what is larger than the limit or is not UTF-8.
pub fn read_input(input: &Input, limits: &Limits) -> Result<String, InputError> {
    let file = input.display();
    let mut bytes = Vec::new();
    let read = match input {
        Input::Stdin => std::io::stdin().lock().take(limits.max_file_bytes + 1).read_to_end(&mut bytes),
        Input::File { path, .. } => std::fs::File::open(path)
            .and_then(|handle| handle.take(limits.max_file_bytes + 1).read_to_end(&mut bytes)),
    };
    read.map_err(|error| io_error(file.clone(), &error))?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(InputError {
            file,
            line: 0,
            column: 0,
            message: format!("larger than the limit of {} bytes", limits.max_file_bytes),
        });
    }
    text_from_bytes(bytes, file)
}

fn text_from_bytes(bytes: Vec<u8>, file: Arc<str>) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() as u32 + 1;
        InputError {
            file,
            line,
            column,
            message: "not UTF-8 text (binary file?); manifests must be UTF-8 YAML or JSON".into(),
        }
    })
}

/// Parses `text` and calls `each` with every object, documents in parallel. Returns the errors
/// and the number of skipped non-Kubernetes documents.
pub fn visit_objects<F>(text: &str, file: &Arc<str>, limits: &Limits, each: F) -> (Vec<InputError>, usize)
where
    F: Fn(Object) + Sync,
{
    let chunks = yaml::split_documents(text);
    let outcome = Mutex::new((Vec::new(), 0usize));
    let visit = |chunk| {
        let document = yaml::parse_chunk(chunk, limits);
        let mut errors = Vec::new();
        let mut skipped = 0;
        match document.result {
            Ok(root) => objects_of_document(root, file, document.index, &mut errors, &mut skipped, &each),
            Err(error) => errors.push(InputError {
                file: file.clone(),
                line: error.line,
                column: error.column,
                message: error.message,
            }),
        }
        if !errors.is_empty() || skipped > 0 {
            let mut outcome = outcome.lock().unwrap_or_else(|poison| poison.into_inner());
            outcome.0.append(&mut errors);
            outcome.1 += skipped;
        }
    };
    // Small files are the common case; splitting their work across threads costs more than it
    // saves, while a large multi-document file should use every core.
    if chunks.len() > 8 && text.len() > 256 << 10 {
        chunks.into_par_iter().for_each(visit);
    } else {
        chunks.into_iter().for_each(visit);
    }
    let (mut errors, skipped) = outcome.into_inner().unwrap_or_else(|poison| poison.into_inner());
    errors.sort();
    (errors, skipped)
}

fn objects_of_document(
    root: Node,
    file: &Arc<str>,
    document: u32,
    errors: &mut Vec<InputError>,
    skipped: &mut usize,
    each: &(impl Fn(Object) + Sync),
) {
    let error = |node: &Node, message: String| InputError {
        file: file.clone(),
        line: node.mark.line,
        column: node.mark.column,
        message,
    };
    if root.is_null() {
        return;
    }
    if root.as_map().is_none() {
        errors.push(error(&root, "document is not a mapping, so it is not a Kubernetes object".into()));
        return;
    }
    let Some(kind) = root.get("kind") else {
        *skipped += 1;
        return;
    };
    let Some(kind_text) = kind.as_str().map(str::to_owned) else {
        errors.push(error(kind, "`kind` must be a string".into()));
        return;
    };
    if !root.get("apiVersion").is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
        errors.push(error(&root, format!("{kind_text} object has no `apiVersion`")));
        return;
    }
    let is_list = kind_text.ends_with("List") && root.get("items").is_some();
    if !is_list {
        each(Object::new(root, Origin { file: file.clone(), document, item: None }));
        return;
    }
    let Node { value: Value::Map(mut map), .. } = root else { return };
    let items = map.take("items");
    let Some(Node { value: Value::Seq(items), .. }) = items else {
        errors.push(error(&items.unwrap_or_else(Node::null), format!("{kind_text} `items` must be a list")));
        return;
    };
    for (index, item) in items.into_iter().enumerate() {
        if item.as_map().is_none() || item.get("kind").and_then(Node::as_str).is_none() {
            errors.push(error(&item, format!("{kind_text} item {index} is not a Kubernetes object (no `kind`)")));
            continue;
        }
        let origin = Origin { file: file.clone(), document, item: Some(index as u32) };
        each(Object::new(item, origin));
    }
}

/// Reads every object of `text`, as if it were the file `file`; objects in source order.
pub fn load_str(text: &str, file: &str) -> Loaded {
    load_text(text, &Arc::from(file), &Limits::default())
}

fn load_text(text: &str, file: &Arc<str>, limits: &Limits) -> Loaded {
    let objects = Mutex::new(Vec::new());
    let (errors, skipped_documents) = visit_objects(text, file, limits, |object| {
        objects.lock().unwrap_or_else(|poison| poison.into_inner()).push(object);
    });
    let mut objects = objects.into_inner().unwrap_or_else(|poison| poison.into_inner());
    objects.sort_by_key(|object| (object.origin.document, object.origin.item));
    Loaded { objects, errors, skipped_documents }
}

/// Reads every object under `paths` (see [`discover`]) into memory. Scans stream instead; this
/// is for commands that need the whole input at once (RBAC, NetworkPolicy queries).
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let limits = Limits::default();
    let (inputs, mut errors) = discover(paths);
    let mut loaded = Loaded::default();
    for input in &inputs {
        match read_input(input, &limits) {
            Ok(text) => {
                let mut part = load_text(&text, &input.display(), &limits);
                loaded.objects.append(&mut part.objects);
                errors.append(&mut part.errors);
                loaded.skipped_documents += part.skipped_documents;
            }
            Err(error) => errors.push(error),
        }
    }
    loaded.errors = errors;
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_expand_into_items_with_their_index() {
        let loaded = load_str(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n",
            "list.yaml",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let names: Vec<_> = loaded.objects.iter().map(|o| (o.kind(), o.name(), o.origin.item)).collect();
        assert_eq!(names, vec![("Pod", "a", Some(0)), ("ConfigMap", "b", Some(1))]);
        assert_eq!(loaded.objects[1].root.mark.line, 7);
    }

    #[test]
    fn typed_lists_and_unknown_kinds_load() {
        let loaded = load_str(
            "apiVersion: v1\nkind: PodList\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: p}}]\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            "x.yaml",
        );
        assert!(loaded.errors.is_empty());
        assert_eq!(loaded.objects.len(), 2);
        assert_eq!(loaded.objects[1].origin.document, 1);
    }

    #[test]
    fn non_objects_are_errors_and_kindless_documents_are_skipped() {
        let loaded = load_str("- a\n---\nreplicaCount: 3\n---\nkind: Pod\n---\napiVersion: v1\nkind: List\nitems: [3]\n", "mixed.yaml");
        assert_eq!(loaded.skipped_documents, 1);
        let messages: Vec<_> = loaded.errors.iter().map(|e| (e.line, e.message.as_str())).collect();
        assert_eq!(
            messages,
            vec![
                (1, "document is not a mapping, so it is not a Kubernetes object"),
                (5, "Pod object has no `apiVersion`"),
                (9, "List item 0 is not a Kubernetes object (no `kind`)"),
            ]
        );
    }

    #[test]
    fn binary_input_is_reported_with_its_position() {
        let error = text_from_bytes(b"kind: Pod\nname: \xff\xfe".to_vec(), "bin.yaml".into()).unwrap_err();
        assert_eq!((error.line, error.column), (2, 7));
        assert!(error.message.contains("not UTF-8"));
    }

    #[test]
    fn directories_are_walked_in_order_skipping_hidden_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/.git")).unwrap();
        std::fs::create_dir_all(root.join("a")).unwrap();
        for name in ["b/z.yaml", "b/.git/config.yaml", "a/y.YML", "a/x.json", "a/readme.md", "c.yaml"] {
            std::fs::write(root.join(name), "{}").unwrap();
        }
        let (inputs, errors) = discover(&[root.to_path_buf(), root.join("missing.yaml")]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.starts_with("cannot read"));
        let names: Vec<_> = inputs
            .iter()
            .map(|input| input.display().trim_start_matches(&*root.display().to_string()).to_owned())
            .collect();
        assert_eq!(names, vec!["/a/x.json", "/a/y.YML", "/b/z.yaml", "/c.yaml"]);
    }

    #[test]
    fn helm_chart_templates_are_not_read_as_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        for name in ["chart/Chart.yaml", "chart/values.yaml", "chart/templates/deployment.yaml", "templates/plain.yaml"] {
            std::fs::write(dir.path().join(name), "{}").unwrap();
        }
        let (inputs, _) = discover(&[dir.path().to_path_buf()]);
        let names: Vec<_> = inputs
            .iter()
            .map(|input| input.display().trim_start_matches(&*dir.path().display().to_string()).to_owned())
            .collect();
        // A `templates` folder outside a chart is read as usual.
        assert_eq!(names, vec!["/chart/Chart.yaml", "/chart/values.yaml", "/templates/plain.yaml"]);
    }
}

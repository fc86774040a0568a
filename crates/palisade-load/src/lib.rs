//! Palisade's input side: finds manifest files, reads them within limits, parses YAML and JSON
//! with positions, and turns documents into Kubernetes [`Object`]s (expanding `List` kinds).
//! Every problem becomes an [`InputError`] naming file, line and cause; nothing panics and the
//! rest of the input is still read.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use palisade_core::{DuplicateKey, InputError, Node, Object, Origin, Value};
use rayon::prelude::*;

mod fast;
mod types;
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
/// `.git` is not read and link loops cannot hang the walk), and a file is read whatever its
/// extension. Inputs are in a stable order: as given, and sorted by name inside directories.
///
/// Nothing is passed over in silence: a Helm chart (a directory with a `Chart.yaml`) holds Go
/// templates that are manifests only once `helm template` renders them, so each chart is an
/// error saying so, and so is a directory argument with no manifest file at all.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let (before, charts) = (inputs.len(), errors.len());
                walk(path, &mut inputs, &mut errors);
                if inputs.len() == before && errors.len() == charts {
                    errors.push(not_evaluated(path, "holds no *.yaml, *.yml or *.json file"));
                }
            }
            Ok(_) => inputs.push(file_input(path.clone())),
            Err(error) => errors.push(io_error(path.display().to_string().into(), &error)),
        }
    }
    (inputs, errors)
}

/// The manifest files under `path` as [`discover`] walks them, for readers of policies and test
/// suites that need paths rather than inputs. Anything but a directory is returned as it is, so
/// the reader reports a missing or unreadable file by name.
pub fn manifest_files(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_owned()];
    }
    let (inputs, _) = discover(std::slice::from_ref(&path.to_path_buf()));
    inputs
        .into_iter()
        .filter_map(|input| match input {
            Input::File { path, .. } => Some(path),
            Input::Stdin => None,
        })
        .collect()
}

/// The error for a directory argument under which no input held a Kubernetes object: `inputs`
/// as [`discover`] returned them, `objects[i]` the number of objects read from `inputs[i]`.
pub fn unread_directories(paths: &[PathBuf], inputs: &[Input], objects: &[usize]) -> Vec<InputError> {
    paths
        .iter()
        .filter(|path| path.as_os_str() != "-" && path.is_dir())
        .filter(|directory| {
            let mut under = inputs.iter().zip(objects).filter(|(input, _)| {
                matches!(input, Input::File { path, .. } if path.starts_with(directory))
            });
            // Directories without any file already have their error from `discover`.
            under.clone().next().is_some() && under.all(|(_, &count)| count == 0)
        })
        .map(|directory| not_evaluated(directory, "holds no Kubernetes object (no document with `kind` and `apiVersion`)"))
        .collect()
}

fn not_evaluated(directory: &Path, why: &str) -> InputError {
    InputError {
        file: directory.display().to_string().into(),
        line: 0,
        column: 0,
        message: format!("not evaluated: the directory {why}"),
    }
}

fn file_input(path: PathBuf) -> Input {
    let display = Arc::from(path.display().to_string());
    Input::File { path, display }
}

fn walk(directory: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    if directory.join("Chart.yaml").is_file() {
        errors.push(InputError {
            file: directory.display().to_string().into(),
            line: 0,
            column: 0,
            message: format!(
                "not evaluated: a Helm chart, whose templates are manifests only once rendered; scan \
                 the rendered output instead: `helm template {} | palisade scan -`",
                directory.display()
            ),
        });
        return;
    }
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(io_error(directory.display().to_string().into(), &error));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            walk(&path, inputs, errors);
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
        Input::File { path, .. } => std::fs::File::open(path).and_then(|handle| {
            // Sized once from the file's length: growing by doubling would copy a large file
            // several times and make the kernel zero twice the pages it holds.
            let expected = handle.metadata().map_or(0, |meta| meta.len()).min(limits.max_file_bytes + 1);
            bytes.reserve_exact(usize::try_from(expected).unwrap_or(0).saturating_add(1));
            handle.take(limits.max_file_bytes + 1).read_to_end(&mut bytes)
        }),
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
            Ok(root) => objects_of_document(
                root,
                document.duplicates,
                file,
                document.index,
                &mut errors,
                &mut skipped,
                &each,
            ),
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
    duplicates: Vec<DuplicateKey>,
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
        errors.push(error(kind, format!("`kind` is {} but must be a string", types::describe(kind))));
        return;
    };
    if !root.get("apiVersion").is_some_and(|v| !v.is_null() && !v.as_str().is_some_and(str::is_empty)) {
        errors.push(error(&root, format!("{kind_text} object has no `apiVersion`")));
        return;
    }
    let is_list = kind_text.ends_with("List") && root.get("items").is_some();
    if !is_list {
        let mut object = Object::new(root, Origin { file: file.clone(), document, item: None });
        object.duplicate_keys = duplicates.into();
        admit(object, errors, each);
        return;
    }
    let Node { value: Value::Map(mut map), .. } = root else { return };
    let items = map.take("items");
    let Some(Node { value: Value::Seq(items), .. }) = items else {
        errors.push(error(&items.unwrap_or_else(Node::null), format!("{kind_text} `items` must be a list")));
        return;
    };
    let mut per_item: Vec<Vec<DuplicateKey>> = vec![Vec::new(); items.len()];
    for duplicate in duplicates {
        let item = duplicate.pointer.strip_prefix("/items/").and_then(|rest| {
            let (index, below) = rest.split_once('/')?;
            Some((index.parse::<usize>().ok()?, below))
        });
        match item {
            Some((index, below)) if index < per_item.len() => {
                per_item[index].push(DuplicateKey { pointer: format!("/{below}").into(), ..duplicate });
            }
            // Duplicate `items` or metadata of the List itself: no object to report it on.
            _ => errors.push(InputError {
                file: file.clone(),
                line: duplicate.second.line,
                column: duplicate.second.column,
                message: format!(
                    "{kind_text} has the key `{}` twice (first at line {}); kubectl reads only the last one",
                    duplicate.pointer,
                    duplicate.first.line
                ),
            }),
        }
    }
    for ((index, item), duplicates) in items.into_iter().enumerate().zip(per_item) {
        if item.as_map().is_none() || item.get("kind").and_then(Node::as_str).is_none() {
            errors.push(error(&item, format!("{kind_text} item {index} is not a Kubernetes object (no `kind`)")));
            continue;
        }
        let origin = Origin { file: file.clone(), document, item: Some(index as u32) };
        let mut object = Object::new(item, origin);
        object.duplicate_keys = duplicates.into();
        admit(object, errors, each);
    }
}

/// Hands `object` on unless kubectl would refuse it for a wrongly typed field (see `types`).
fn admit(object: Object, errors: &mut Vec<InputError>, each: &(impl Fn(Object) + Sync)) {
    let Some((pointer, node, wanted)) = types::wrong_type(&object) else {
        each(object);
        return;
    };
    errors.push(InputError {
        file: object.origin.file.clone(),
        line: node.mark.line,
        column: node.mark.column,
        message: format!(
            "`{pointer}` is {} but must be {wanted}: kubectl refuses this {} `{}`, so it is not scanned \
             (quote the value)",
            types::describe(node),
            object.kind(),
            object.name()
        ),
    });
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
    let mut objects = Vec::with_capacity(inputs.len());
    for input in &inputs {
        match read_input(input, &limits) {
            Ok(text) => {
                let mut part = load_text(&text, &input.display(), &limits);
                objects.push(part.objects.len());
                loaded.objects.append(&mut part.objects);
                errors.append(&mut part.errors);
                loaded.skipped_documents += part.skipped_documents;
            }
            Err(error) => {
                objects.push(0);
                errors.push(error);
            }
        }
    }
    errors.extend(unread_directories(paths, &inputs, &objects));
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
    fn helm_charts_and_empty_directories_are_reported_not_evaluated() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for folder in ["apps/chart/templates", "apps/plain/templates", "empty/sub"] {
            std::fs::create_dir_all(root.join(folder)).unwrap();
        }
        for name in ["apps/chart/Chart.yaml", "apps/chart/values.yaml", "apps/chart/templates/deployment.yaml", "apps/plain/templates/plain.yaml", "empty/sub/notes.txt"] {
            std::fs::write(root.join(name), "{}").unwrap();
        }
        let (inputs, errors) = discover(&[root.join("apps"), root.join("empty"), root.join("apps/chart")]);
        let names: Vec<_> = inputs.iter().map(|input| input.display().trim_start_matches(&*root.display().to_string()).to_owned()).collect();
        // A `templates` folder outside a chart is read as usual.
        assert_eq!(names, ["/apps/plain/templates/plain.yaml"]);
        let reported: Vec<_> = errors
            .iter()
            .map(|error| (error.file.trim_start_matches(&*root.display().to_string()).to_owned(), error.message.split(':').next().unwrap().to_owned()))
            .collect();
        assert_eq!(
            reported,
            [
                ("/apps/chart".to_owned(), "not evaluated".to_owned()),
                ("/empty".to_owned(), "not evaluated".to_owned()),
                ("/apps/chart".to_owned(), "not evaluated".to_owned()),
            ]
        );
        assert!(errors[0].message.contains("helm template"), "{}", errors[0].message);
        assert!(errors[1].message.contains("no *.yaml"), "{}", errors[1].message);
    }

    #[test]
    fn directories_without_any_object_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("values")).unwrap();
        std::fs::create_dir_all(root.join("manifests")).unwrap();
        std::fs::write(root.join("values/values.yaml"), "replicaCount: 3\n").unwrap();
        std::fs::write(root.join("manifests/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap();
        std::fs::write(root.join("manifests/other.yaml"), "# nothing\n").unwrap();
        let paths = [root.join("values"), root.join("manifests")];
        let (inputs, errors) = discover(&paths);
        assert!(errors.is_empty());
        let objects: Vec<usize> = inputs
            .iter()
            .map(|input| load_text(&read_input(input, &Limits::default()).unwrap(), &input.display(), &Limits::default()).objects.len())
            .collect();
        let unread = unread_directories(&paths, &inputs, &objects);
        assert_eq!(unread.len(), 1);
        assert!(unread[0].file.ends_with("values"));
        assert!(unread[0].message.contains("holds no Kubernetes object"), "{}", unread[0].message);
    }
}

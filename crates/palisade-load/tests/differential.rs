//! Differential test against kubectl's own YAML code: the Go program in `tests/oracle` (k8s.io's
//! YAMLReader, sigs.k8s.io/yaml, gopkg.in/yaml.v2) and Palisade's loader read every file of
//! `tests/corpus`, and must agree on every document: the same documents, starting on the same
//! line, each accepted or refused alike, and accepted ones with the same JSON value.
//!
//! Needs Go and Debian's golang-k8s-sigs-yaml-dev and golang-gopkg-yaml.v2-dev (`.ci/run`
//! installs them). Without them the test says so and passes, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_core::{Node, Value};
use palisade_load::yaml::{Limits, parse_chunk, split_documents};
use serde_json::Value as Json;

const GOPATH: &str = "/usr/share/gocode";

/// What one reader made of one document.
#[derive(Debug)]
#[allow(dead_code, reason = "the messages are shown when readings disagree")]
enum Read {
    Value(Json),
    Refused(String),
}

#[derive(Debug)]
struct Entry {
    line: u32,
    read: Read,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the oracle into this test's scratch directory, or says why it cannot.
fn build_oracle() -> Result<PathBuf, String> {
    let sources = Path::new(GOPATH).join("src");
    for package in ["sigs.k8s.io/yaml", "gopkg.in/yaml.v2"] {
        if !sources.join(package).is_dir() {
            return Err(format!("{package} is not under {GOPATH}/src (apt-get install golang-k8s-sigs-yaml-dev golang-gopkg-yaml.v2-dev)"));
        }
    }
    let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubectl-yaml-oracle");
    let output = Command::new("go")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(manifest_dir().join("tests/oracle"))
        .env("GOPATH", GOPATH)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        // CI may run without $HOME, where Go would find no build cache.
        .env("GOCACHE", Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache"))
        .output()
        .map_err(|error| format!("cannot run `go` ({error}); apt-get install golang-go"))?;
    if !output.status.success() {
        return Err(format!("go build failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(binary)
}

fn oracle_reads(oracle: &Path, file: &Path) -> Vec<Entry> {
    let output = Command::new(oracle).arg(file).output().expect("run the oracle");
    assert!(output.status.success(), "oracle failed on {}: {}", file.display(), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("oracle output is UTF-8")
        .lines()
        .map(|line| {
            let entry: Json = serde_json::from_str(line).expect("oracle line is JSON");
            let read = match (entry.get("json"), entry.get("error")) {
                (Some(value), _) => Read::Value(value.clone()),
                (None, Some(error)) => Read::Refused(error.as_str().unwrap_or_default().to_owned()),
                (None, None) => panic!("unexpected oracle line {line}"),
            };
            Entry { line: entry["line"].as_u64().expect("line") as u32, read }
        })
        .collect()
}

/// Palisade's reading, stopping where kubectl stops: after a refused separator line. The one
/// intended difference: kubectl's reader drops the document it was reading when it meets a
/// refused separator, while Palisade still reads (and scans) that document; both report the
/// separator, so that document is left out of the comparison.
fn palisade_reads(file: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(file).expect("corpus files are UTF-8");
    let chunks = split_documents(&text);
    let mut entries = Vec::new();
    for (position, chunk) in chunks.iter().enumerate() {
        let line = chunk.line_offset + 1;
        let next = chunks.get(position + 1);
        if next.is_some_and(|next| next.bad_separator && next.line_offset as usize == chunk.line_offset as usize + chunk.text.lines().count()) {
            continue;
        }
        match parse_chunk(*chunk, &Limits::default()).result {
            Ok(node) if node.is_null() => {}
            Ok(node) => entries.push(Entry { line, read: Read::Value(to_json(&node)) }),
            Err(error) => entries.push(Entry { line, read: Read::Refused(format!("{}:{}: {}", error.line, error.column, error.message)) }),
        }
        if chunk.bad_separator {
            break;
        }
    }
    entries
}

fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(flag) => Json::Bool(*flag),
        Value::Int(number) => Json::from(*number),
        Value::Float(number) => Json::from(*number),
        Value::Str(text) => Json::String(text.to_string()),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => Json::Object(map.iter().map(|(key, value)| (key.to_owned(), to_json(value))).collect()),
    }
}

/// JSON equality where numbers compare by value: Go writes the float 1.0 as `1`.
fn same(left: &Json, right: &Json) -> bool {
    match (left, right) {
        (Json::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => a.as_f64() == b.as_f64(),
        },
        (Json::Array(a), Json::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b)),
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(key, value)| b.get(key).is_some_and(|other| same(value, other)))
        }
        _ => left == right,
    }
}

/// The committed corpus, plus any files listed (`:`-separated) in `PALISADE_DIFFERENTIAL_EXTRA`,
/// for checking real manifests by hand.
fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(manifest_dir().join("tests/corpus"))
        .expect("corpus directory")
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    if let Some(extra) = std::env::var_os("PALISADE_DIFFERENTIAL_EXTRA") {
        files.extend(std::env::split_paths(&extra));
    }
    files
}

#[test]
fn the_loader_reads_every_corpus_file_as_kubectl_does() {
    let oracle = match build_oracle() {
        Ok(oracle) => oracle,
        Err(reason) if std::env::var("CI").as_deref() == Ok("true") => panic!("differential test cannot run under CI: {reason}"),
        Err(reason) => {
            eprintln!("SKIPPED differential test against kubectl's YAML code: {reason}");
            return;
        }
    };
    let files = corpus();
    assert!(files.len() >= 30, "the corpus is missing files: {files:?}");
    let mut disagreements = Vec::new();
    let (mut documents, mut refused) = (0, 0);
    for file in &files {
        let expected = oracle_reads(&oracle, file);
        let actual = palisade_reads(file);
        let name = file.file_name().unwrap().to_string_lossy();
        if expected.len() != actual.len() {
            disagreements.push(format!("{name}: kubectl reads {} documents, palisade {}\n  kubectl: {expected:?}\n  palisade: {actual:?}", expected.len(), actual.len()));
            continue;
        }
        for (kubectl, palisade) in expected.iter().zip(&actual) {
            documents += 1;
            let agree = kubectl.line == palisade.line
                && match (&kubectl.read, &palisade.read) {
                    (Read::Value(a), Read::Value(b)) => same(a, b),
                    (Read::Refused(_), Read::Refused(_)) => {
                        refused += 1;
                        true
                    }
                    _ => false,
                };
            if !agree {
                let shorten = |read: &Read| format!("{read:?}").chars().take(600).collect::<String>();
                disagreements.push(format!(
                    "{name}: document at line {} (palisade: line {})\n  kubectl:  {}\n  palisade: {}",
                    kubectl.line,
                    palisade.line,
                    shorten(&kubectl.read),
                    shorten(&palisade.read)
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
    eprintln!("{} files, {documents} documents ({refused} refused by both) read alike", files.len());
}

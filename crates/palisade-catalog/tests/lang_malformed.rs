//! Malformed and hostile input to the installed-package catalogers, through the catalog as the
//! image reader calls it: errors are issues that name the cataloger and the line, offset or entry;
//! files that are simply not evidence give nothing; zip bombs and decompression bombs are named;
//! and no mutation of any fixture makes a cataloger panic.

mod lang_support;

use std::path::Path;
use std::process::Command;

use lang_support::{fixtures, tool_available};
use object::{Object, ObjectSection};
use palisade_catalog::{Catalog, Fact, FileFacts, FileMeta, Scope};

const EXECUTABLE: FileMeta = FileMeta { size: 1 << 20, mode: 0o755 };
const REGULAR: FileMeta = FileMeta { size: 1 << 10, mode: 0o644 };

/// What the catalog makes of one file, in a scope where every language cataloger runs for it.
fn parse(path: &str, meta: FileMeta, content: &[u8]) -> FileFacts {
    let scope = if path.ends_with("package.json") || path.ends_with("installed.json") { Scope::Image } else { Scope::Directory };
    let catalog = Catalog::new(scope);
    assert!(catalog.wants(path, &meta).is_some(), "{path} is not wanted");
    catalog.parse(path, &meta, content)
}

fn packages(facts: &FileFacts) -> Vec<String> {
    facts.facts.iter().filter_map(|fact| if let Fact::Package(package) = fact { Some(package.name.clone()) } else { None }).collect()
}

#[test]
fn text_and_json_errors_name_the_cataloger_and_the_line() {
    let cases: [(&str, &[u8], &str); 6] = [
        ("/site-packages/x-1.dist-info/METADATA", b"Name: x\n\n", ""),
        ("/site-packages/x-1.dist-info/METADATA", b"\n continued\nName: x\n", "python-installed-package-cataloger: line 2: a continuation line with no header before it"),
        ("/app/node_modules/x/package.json", b"{\"name\": \"x\",\n  \"version\": }", "javascript-package-cataloger: line 2, column 14: expected value"),
        ("/app/node_modules/x/package.json", b"{\"name\": \"x\"}\n[\"x\"]", "javascript-package-cataloger: document 2: a package.json holds an object"),
        ("/app/app.deps.json", b"{\"libraries\": {\"app/1.0\": {\"type\": \"package\"}}}", "dotnet-deps-cataloger: no project library named \"app\": the application is unknown"),
        ("/app/app.deps.json", b"\xef\xbb\xbf{}", "dotnet-deps-cataloger: line 1, column 1: expected value"),
    ];
    for (path, content, issue) in cases {
        let facts = parse(path, REGULAR, content);
        let expected: Vec<&str> = if issue.is_empty() { vec![] } else { vec![issue] };
        assert_eq!(facts.issues, expected, "{path}: {:?}", String::from_utf8_lossy(content));
    }
}

/// Syft decodes these files into typed structs and drops every package of a file with one value
/// of an unexpected type; the packages are there all the same (`npm ls` lists such a package as
/// installed), so Palisade reads names and versions whatever the other fields hold.
#[test]
fn odd_fields_do_not_hide_packages() {
    let cases: [(&str, &[u8], &str); 3] = [
        ("/app/node_modules/x/package.json", b"{\"name\": \"x\", \"version\": \"1\", \"private\": \"yes\", \"author\": 5, \"dependencies\": [\"y\"]}", "x"),
        ("/app/vendor/composer/installed.json", b"{\"packages\": [{\"name\": \"a/x\", \"version\": \"1\", \"authors\": [\"me\"], \"license\": \"MIT\"}]}", "a/x"),
        ("/app/x.deps.json", b"{\"targets\": [], \"libraries\": {\"x/1.0\": {\"type\": \"project\", \"serviceable\": \"no\"}}}", "x"),
    ];
    for (path, content, name) in cases {
        let facts = parse(path, REGULAR, content);
        assert_eq!((packages(&facts), facts.issues), (vec![name.to_owned()], vec![]), "{path}");
    }
}

#[test]
fn files_that_are_not_evidence_give_nothing() {
    let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    for (path, meta) in [("/usr/bin/tool", EXECUTABLE), ("/usr/local/bundle/specifications/x.gemspec", REGULAR), ("/site-packages/x.egg-info", REGULAR)] {
        let facts = parse(path, meta, &garbage);
        assert_eq!((facts.facts.len(), facts.issues.len()), (0, 0), "{path}: {facts:?}");
    }
    let script = parse("/usr/local/bin/wrapper", EXECUTABLE, b"#!/bin/sh\nexec hello\n");
    assert_eq!(script, FileFacts::default());
}

fn hello() -> Vec<u8> {
    std::fs::read(fixtures().join("rust/root/usr/local/bin/hello")).expect("the cargo-auditable fixture")
}

/// Overwrites the `.dep-v0` section of the cargo-auditable program.
fn with_dep_section(program: &[u8], fill: impl Fn(&mut [u8])) -> Vec<u8> {
    let file = object::File::parse(program).expect("an ELF program");
    let section = file.section_by_name(".dep-v0").expect("a .dep-v0 section");
    let (offset, size) = section.file_range().expect("section bytes in the file");
    let mut changed = program.to_vec();
    fill(&mut changed[offset as usize..(offset + size) as usize]);
    changed
}

#[test]
fn damaged_cargo_auditable_sections_are_named() {
    let program = hello();
    assert_eq!(packages(&parse("/usr/local/bin/hello", EXECUTABLE, &program)), ["hello", "itoa", "smallvec"]);
    let not_zlib = with_dep_section(&program, |section| section.fill(b'x'));
    let facts = parse("/usr/local/bin/hello", EXECUTABLE, &not_zlib);
    assert_eq!(facts.issues.len(), 1);
    assert!(facts.issues[0].starts_with("cargo-auditable-binary-cataloger: the .dep-v0 section is not zlib data"), "{:?}", facts.issues);
    // A program cut short loses its section headers: it is no longer a readable executable.
    assert_eq!(parse("/usr/local/bin/hello", EXECUTABLE, &program[..program.len() / 2]), FileFacts::default());
}

#[test]
fn damaged_go_build_information_is_named() {
    if !tool_available("go", "version", "apt-get install golang-go") || !tool_available("git", "--version", "apt-get install git") {
        return;
    }
    let built = tempfile::tempdir().expect("temporary directory");
    let status = Command::new("sh").arg(fixtures().join("golang/build.sh")).arg(built.path()).status().expect("sh runs");
    assert!(status.success(), "build.sh failed");
    let program = std::fs::read(built.path().join("usr/local/bin/app2")).expect("app2");
    assert_eq!(packages(&parse("/usr/local/bin/app2", EXECUTABLE, &program)), ["example.com/Acme/greet", "example.com/app2", "stdlib"]);
    // The build information follows its magic (the runtime keeps another copy elsewhere).
    let magic = b"\xff Go buildinf:";
    let blob = program.windows(magic.len()).position(|window| window == magic).expect("the build information magic");
    // The dependency line (`dep`, path, version, empty sum) gets a tab in its version: four
    // columns where Go's ParseBuildInfo wants two or three.
    let line = b"dep\texample.com/Acme/greet\tv1.2.3";
    let at = blob + program[blob..].windows(line.len()).position(|window| window == line).expect("the dependency line");
    let mut damaged = program.clone();
    damaged[at + line.len() - 2] = b'\t';
    let facts = parse("/usr/local/bin/app2", EXECUTABLE, &damaged);
    assert_eq!(facts.issues, ["go-module-binary-cataloger: build information line 3: expected 2 or 3 columns; got 4"]);
    // Without its magic the blob is not found: not a Go program.
    let mut unmarked = program.clone();
    unmarked[blob] = 0;
    assert_eq!(parse("/usr/local/bin/app2", EXECUTABLE, &unmarked), FileFacts::default());
}

#[test]
fn a_zip_bomb_is_named() {
    if !tool_available("python3", "--version", "apt-get install python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let bomb = dir.path().join("bomb.war");
    // 300 MiB of zeros deflate to about 300 KiB: a nested "archive" past the 256 MiB a nested
    // archive may inflate to.
    let script = r"import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as archive:
    archive.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\nImplementation-Version: 1.0\r\n\r\n')
    with archive.open('WEB-INF/lib/zeros.jar', 'w', force_zip64=True) as entry:
        block = bytes(1 << 20)
        for _ in range(300):
            entry.write(block)
";
    let status = Command::new("python3").args(["-c", script]).arg(&bomb).status().expect("python3 runs");
    assert!(status.success());
    let content = std::fs::read(&bomb).expect("the bomb");
    assert!(content.len() < 2 << 20, "the bomb is {} bytes", content.len());
    let facts = parse("/srv/bomb.war", FileMeta { size: content.len() as u64, mode: 0o644 }, &content);
    assert_eq!(facts.issues, [format!("java-archive-cataloger: /srv/bomb.war: WEB-INF/lib/zeros.jar: inflates past {} bytes: a zip bomb", 256 << 20)]);
}

/// A small deterministic generator, so that a failing mutation can be found again.
struct Mutations(u64);

impl Mutations {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The content with a few bytes changed, a range removed or the end cut off.
    fn mutate(&mut self, content: &[u8]) -> Vec<u8> {
        let mut changed = content.to_vec();
        if changed.is_empty() {
            return changed;
        }
        match self.next() % 3 {
            0 => {
                for _ in 0..1 + self.next() % 8 {
                    let at = (self.next() % changed.len() as u64) as usize;
                    changed[at] = self.next() as u8;
                }
            }
            1 => {
                let start = (self.next() % changed.len() as u64) as usize;
                let end = (start + (self.next() % 64) as usize).min(changed.len());
                changed.drain(start..end);
            }
            _ => changed.truncate((self.next() % changed.len() as u64) as usize),
        }
        changed
    }
}

/// Every file of a fixture root with the path the catalog sees.
fn files(root: &Path) -> Vec<(String, Vec<u8>, FileMeta)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("fixture directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            use std::os::unix::fs::PermissionsExt;
            let metadata = std::fs::metadata(&path).expect("metadata");
            let relative = format!("/{}", path.strip_prefix(root).expect("under the root").display());
            found.push((relative, std::fs::read(&path).expect("content"), FileMeta { size: metadata.len(), mode: metadata.permissions().mode() }));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[test]
fn no_mutation_of_a_fixture_makes_a_cataloger_panic() {
    let mut mutations = Mutations(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for ecosystem in ["python", "javascript", "ruby", "php", "dotnet", "rust"] {
        for (path, content, meta) in files(&fixtures().join(ecosystem).join("root")) {
            for scope in [Scope::Image, Scope::Directory] {
                let catalog = Catalog::new(scope);
                if catalog.wants(&path, &meta).is_none() {
                    continue;
                }
                // The program is large: fewer, but still varied, mutations.
                let rounds = if content.len() > 100_000 { 12 } else { 150 };
                for _ in 0..rounds {
                    catalog.parse(&path, &meta, &mutations.mutate(&content));
                    parsed += 1;
                }
            }
        }
    }
    assert!(parsed > 2000, "{parsed} mutations parsed");
}

#[test]
fn no_mutation_of_an_archive_makes_the_java_cataloger_panic() {
    if !tool_available("python3", "--version", "apt-get install python3") {
        return;
    }
    let built = tempfile::tempdir().expect("temporary directory");
    let status = Command::new("python3").arg(fixtures().join("java/make_jars.py")).arg(built.path()).status().expect("python3 runs");
    assert!(status.success());
    let catalog = Catalog::new(Scope::Image);
    let mut mutations = Mutations(0x2545_f491_4f6c_dd1d);
    for (path, content, meta) in files(built.path()) {
        for _ in 0..200 {
            catalog.parse(&path, &meta, &mutations.mutate(&content));
        }
    }
}

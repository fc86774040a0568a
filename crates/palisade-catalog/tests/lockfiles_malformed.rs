//! Malformed and hostile lockfiles through the catalog's public door: every format's broken file
//! is a named issue (cataloger, line, and column where the parser knows it), never a panic, and
//! files are read only up to the lockfile limit, in project directories only.

use palisade_catalog::{Catalog, Fact, FileFacts, FileMeta, Scope, Want};

const META: FileMeta = FileMeta { size: 1_000, mode: 0o644 };

fn parse(path: &str, content: &[u8]) -> FileFacts {
    let catalog = Catalog::new(Scope::Directory);
    assert!(catalog.wants(path, &META).is_some(), "{path} is not wanted");
    catalog.parse(path, &META, content)
}

fn issue(path: &str, content: &str) -> String {
    let facts = parse(path, content.as_bytes());
    assert!(facts.facts.is_empty(), "{path}: {:?}", facts.facts);
    assert_eq!(facts.issues.len(), 1, "{path}: {:?}", facts.issues);
    facts.issues[0].clone()
}

#[test]
fn every_format_names_the_line_of_its_problem() {
    let cases = [
        ("/p/package-lock.json", "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n", "javascript-lock-cataloger: line 4, column 0: EOF while parsing an object"),
        ("/p/yarn.lock", "# yarn lockfile v1\n\nlodash@^4.17.21\n  version \"4.17.21\"\n", "javascript-lock-cataloger: line 3: an entry header must end with ':'"),
        ("/p/pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n   resolution: {integrity: x}\n  dev: [\n", "javascript-lock-cataloger: line 6, column 1: did not find expected node content"),
        ("/p/poetry.lock", "[[package]]\nname = \"a\"\nversion = \"1.0\"\n[[package]\n", "python-package-cataloger: line 4, column 11: "),
        ("/p/Pipfile.lock", "{\"default\": {\"a\": {\"version\": 1}}}", "python-package-cataloger: line 1, column 31: invalid type: integer `1`, expected a string"),
        ("/p/uv.lock", "version = 1\n\n[[package]]\nversion = \"1.0\"\n", "python-package-cataloger: line 3, column 1: missing field `name`"),
        ("/p/go.mod", "module example.com/m\n\ngo 1.21\n\nrequire (\n\tgithub.com/a/b\n)\n", "go-module-file-cataloger: line 6: require needs a module path and a version"),
        ("/p/Cargo.lock", "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0\"\nname = \"b\"\n", "rust-cargo-lock-cataloger: line 6, column 1: duplicate key"),
        ("/p/composer.lock", "{\"packages\": [{\"name\": \"a/b\", \"version\": \"1.0\"}", "php-composer-lock-cataloger: line 1, column 47: EOF while parsing a list"),
        ("/p/pom.xml", "<project>\n  <artifactId>app</artifactId>\n  <version>1</versio>\n</project>\n", "java-pom-cataloger: line 3, column 13: "),
    ];
    for (path, content, expected) in cases {
        let issue = issue(path, content);
        assert!(issue.starts_with(expected), "{path}: {issue:?} does not start with {expected:?}");
    }
}

#[test]
fn line_formats_name_the_line_that_is_not_text() {
    for (path, cataloger) in [
        ("/p/requirements.txt", "python-package-cataloger"),
        ("/p/Gemfile.lock", "ruby-gemfile-cataloger"),
        ("/p/gradle.lockfile", "java-gradle-lockfile-cataloger"),
        ("/p/yarn.lock", "javascript-lock-cataloger"),
        ("/p/go.mod", "go-module-file-cataloger"),
    ] {
        let facts = parse(path, b"first line\nsecond line\n\xff\xfe third\n");
        assert_eq!(facts.issues, [format!("{cataloger}: line 3: the file is not UTF-8 text")], "{path}");
    }
}

#[test]
fn deep_nesting_is_refused_in_every_structured_format() {
    let json = format!("{{\"lockfileVersion\": 1, \"dependencies\": {}", "{\"a\": {\"dependencies\": ".repeat(5_000));
    assert!(issue("/p/package-lock.json", &json).ends_with("recursion limit exceeded"));
    let composer = format!("{{\"packages\": [{{\"name\": \"a/b\", \"extra\": {}", "{\"a\": [".repeat(100_000));
    // serde_json skips unknown fields without recursing, so this only runs out of input.
    let composer_issue = issue("/p/composer.lock", &composer);
    assert!(composer_issue.starts_with("php-composer-lock-cataloger: line 1, column "), "{composer_issue}");
    let yaml = format!("lockfileVersion: '9.0'\npackages: {}", "{a: ".repeat(100_000));
    assert!(issue("/p/pnpm-lock.yaml", &yaml).ends_with("nested deeper than 64 levels"));
    let toml = format!("[[package]]\nname = \"a\"\nversion = \"1\"\nx = {}", "[".repeat(100_000));
    assert!(issue("/p/Cargo.lock", &toml).starts_with("rust-cargo-lock-cataloger: line 4"));
    let xml = format!("<project>{}", "<dependencies>".repeat(100_000));
    assert!(issue("/p/pom.xml", &xml).ends_with("elements nested deeper than 64 levels"));
}

#[test]
fn empty_files_are_not_errors_where_the_format_allows_them() {
    for path in ["/p/requirements.txt", "/p/Gemfile.lock", "/p/gradle.lockfile", "/p/yarn.lock", "/p/go.mod", "/p/Cargo.lock", "/p/poetry.lock", "/p/uv.lock"] {
        let facts = parse(path, b"");
        assert!(facts.facts.is_empty() && facts.issues.is_empty(), "{path}: {facts:?}");
    }
    for path in ["/p/package-lock.json", "/p/Pipfile.lock", "/p/composer.lock", "/p/pnpm-lock.yaml", "/p/pom.xml"] {
        assert_eq!(parse(path, b"").issues.len(), 1, "{path}");
    }
}

#[test]
fn lockfiles_are_read_up_to_the_limit_in_project_directories_only() {
    let directory = Catalog::new(Scope::Directory);
    let image = Catalog::new(Scope::Image);
    for path in [
        "/p/package-lock.json",
        "/p/yarn.lock",
        "/p/pnpm-lock.yaml",
        "/p/requirements.txt",
        "/p/poetry.lock",
        "/p/Pipfile.lock",
        "/p/uv.lock",
        "/p/go.mod",
        "/p/Cargo.lock",
        "/p/Gemfile.lock",
        "/p/composer.lock",
        "/p/gradle.lockfile",
        "/p/pom.xml",
    ] {
        assert_eq!(directory.wants(path, &META), Some(Want::Content { limit: 64 << 20 }), "{path}");
        assert_eq!(image.wants(path, &META), None, "{path}");
    }
    for path in ["/p/node_modules/dep/package-lock.json", "/p/node_modules/dep/yarn.lock", "/p/package.json", "/p/Pipfile", "/p/go.sum", "/p/Cargo.toml", "/p/Gemfile"] {
        assert_eq!(directory.wants(path, &META), None, "{path}");
    }
}

#[test]
fn a_large_lockfile_is_read_whole() {
    let mut lock = String::from("# yarn lockfile v1\n\n");
    for index in 0..50_000 {
        lock.push_str(&format!("\"package-{index}@^1.0.0\":\n  version \"1.0.{index}\"\n  resolved \"https://registry.yarnpkg.com/package-{index}/-/package-{index}-1.0.{index}.tgz\"\n  integrity sha512-AAAA\n\n"));
    }
    let facts = parse("/p/yarn.lock", lock.as_bytes());
    assert!(facts.issues.is_empty());
    assert_eq!(facts.facts.iter().filter(|fact| matches!(fact, Fact::Package(_))).count(), 50_000);
}

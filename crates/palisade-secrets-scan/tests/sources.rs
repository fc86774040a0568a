//! Each source of the secrets door, through the library: directories (with the files gitleaks
//! passes over), archives, `.gitleaksignore`, git history built with the `git` binary, and an
//! image whose secret a later layer deleted. Every credential here is made up.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_image::{ImageError, ImageSource};
use palisade_pkg::{ImageDescription, LayerDescription};
use palisade_secrets::config::Config;
use palisade_secrets::decode::DecodeLimits;
use palisade_secrets::ignore::Ignore;
use palisade_secrets_scan::{Engine, GitOptions, Options, Scan, scan_git, scan_image, scan_paths};
use sha2::{Digest, Sha256};

const AWS_KEY_ID: &str = "AKIAQ3ZRW7TNMV4XJ2LP";
const GITHUB_PAT: &str = "ghp_R4nd0mT0k3nV4lu3Xq9Lm2Pz4Rt8Vw6Yb1Cd";
const GITLAB_PAT: &str = "glpat-Zq8Xw3Vn5Rt7Yp2Lm4Kj";

fn engine() -> Engine {
    Engine::new(Config::default_rules(), DecodeLimits::default(), "built-in".into())
}

fn paths(engine: &Engine, root: &Path, options: &Options) -> Scan {
    scan_paths(engine, &[root.to_path_buf()], options, &|_| {})
}

/// (rule, file, line) of every finding, sorted.
fn summary(scan: &Scan) -> Vec<(String, String, u32)> {
    let mut found: Vec<_> = scan.findings.iter().map(|f| (f.rule.to_owned(), f.location.file.to_string(), f.location.line)).collect();
    found.sort();
    found
}

fn assert_no_secret_text(scan: &Scan) {
    let text = format!("{:?}", scan.findings);
    for secret in [AWS_KEY_ID, GITHUB_PAT, GITLAB_PAT] {
        assert!(!text.contains(secret), "a secret leaked into findings: {text}");
    }
}

#[test]
fn a_directory_is_walked_as_gitleaks_dir_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("config/nested")).unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(root.join("config/app.env"), format!("# app\nAWS_ACCESS_KEY_ID={AWS_KEY_ID}\n")).unwrap();
    std::fs::write(root.join("config/nested/ci.sh"), format!("export GITHUB_TOKEN={GITHUB_PAT}\n")).unwrap();
    // git's own files are git's business; an ELF binary is skipped as gitleaks skips it.
    std::fs::write(root.join(".git/config"), format!("token = {GITHUB_PAT}\n")).unwrap();
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(64, 0);
    elf.extend_from_slice(GITHUB_PAT.as_bytes());
    std::fs::write(root.join("tool"), elf).unwrap();
    // gitleaks' default global allowlist passes over lock files.
    std::fs::write(root.join("package-lock.json"), format!("{{\"token\": \"{GITHUB_PAT}\"}}\n")).unwrap();

    let scan = paths(&engine(), root, &Options::default());
    let shown = root.display().to_string();
    assert_eq!(
        summary(&scan),
        [
            ("secret/aws-access-token".into(), format!("{shown}/config/app.env"), 2),
            ("secret/github-pat".into(), format!("{shown}/config/nested/ci.sh"), 1),
        ]
    );
    assert_eq!(scan.stats.skipped_binary, 1);
    assert!(scan.unread.is_empty() && scan.problems.is_empty(), "{:?} {:?}", scan.unread, scan.problems);
    let aws = scan.findings.iter().find(|f| f.rule == "secret/aws-access-token").unwrap();
    let leak = aws.secret.as_deref().unwrap();
    assert_eq!(leak.fingerprint, format!("{shown}/config/app.env:aws-access-token:2"));
    assert_eq!(leak.redacted, "AKIA… (20 bytes)");
    assert_eq!(leak.redacted_match, "REDACTED");
    assert_eq!(aws.location.column, "AWS_ACCESS_KEY_ID=".len() as u32 + 1);
    assert_eq!(aws.object.kind, "Directory");
    assert_no_secret_text(&scan);
}

#[test]
fn too_large_files_are_said_and_missing_roots_unread() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.txt"), format!("{}\n{GITHUB_PAT}\n", "x".repeat(4096))).unwrap();
    let options = Options { max_file_bytes: 1024, ..Options::default() };
    let scan = paths(&engine(), dir.path(), &options);
    assert!(scan.findings.is_empty());
    assert_eq!(scan.stats.skipped_too_large, 1);
    assert!(scan.problems[0].message.contains("over the 1024-byte cap"), "{:?}", scan.problems);

    let missing = paths(&engine(), &dir.path().join("nope"), &Options::default());
    assert_eq!(missing.unread.len(), 1);
    assert!(missing.unread[0].message.contains("cannot read"));
}

#[test]
fn archives_are_opened_only_to_the_depth_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("conf/settings.ini", zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(format!("[gitlab]\ntoken = {GITLAB_PAT}\n").as_bytes()).unwrap();
    std::fs::write(dir.path().join("bundle.zip"), writer.finish().unwrap().into_inner()).unwrap();

    let closed = paths(&engine(), dir.path(), &Options::default());
    assert!(closed.findings.is_empty(), "{:?}", summary(&closed));
    let mut options = Options::default();
    options.archive.max_depth = 1;
    let opened = paths(&engine(), dir.path(), &options);
    assert_eq!(summary(&opened), [("secret/gitlab-pat".into(), format!("{}/bundle.zip!conf/settings.ini", dir.path().display()), 2)]);
}

#[test]
fn gitleaksignore_fingerprints_drop_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.env"), format!("GITHUB_TOKEN={GITHUB_PAT}\nAWS_ACCESS_KEY_ID={AWS_KEY_ID}\n")).unwrap();
    let mut ignore = Ignore::default();
    ignore.add_text(&format!("{}/a.env:github-pat:1\n", dir.path().display()), ".gitleaksignore");
    let scan = paths(&engine().with_ignore(ignore), dir.path(), &Options::default());
    assert_eq!(summary(&scan), [("secret/aws-access-token".into(), format!("{}/a.env", dir.path().display()), 2)]);
    assert_eq!(scan.stats.ignored, 1);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Dev One")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev One")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_AUTHOR_DATE", "2024-03-04T05:06:07Z")
        .env("GIT_COMMITTER_DATE", "2024-03-04T05:06:07Z")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn head(dir: &Path, reference: &str) -> String {
    let out = Command::new("git").args(["rev-parse", reference]).current_dir(dir).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn git_history_finds_what_commits_added_even_when_later_removed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "service\n").unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "first"]);
    std::fs::write(repo.join("deploy.sh"), format!("#!/bin/sh\n\nexport GITHUB_TOKEN={GITHUB_PAT}\n")).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "add deploy script"]);
    let leaked = head(repo, "HEAD");
    git(repo, &["rm", "-q", "deploy.sh"]);
    git(repo, &["commit", "-q", "-m", "remove the token"]);
    git(repo, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(repo.join("ci.env"), format!("AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n")).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "ci"]);
    let on_branch = head(repo, "HEAD");
    git(repo, &["checkout", "-q", "main"]);

    let all = scan_git(&engine(), repo, &GitOptions::default(), &|_| {});
    assert!(all.unread.is_empty(), "{:?}", all.unread);
    assert_eq!(all.stats.commits, 4);
    assert_eq!(summary(&all), [("secret/aws-access-token".into(), "ci.env".into(), 1), ("secret/github-pat".into(), "deploy.sh".into(), 3)]);
    let pat = all.findings.iter().find(|f| f.rule == "secret/github-pat").unwrap();
    let leak = pat.secret.as_deref().unwrap();
    assert_eq!(leak.fingerprint, format!("{leaked}:deploy.sh:github-pat:3"));
    let commit = leak.commit.as_ref().unwrap();
    assert_eq!((commit.id.as_str(), commit.author.as_str(), commit.email.as_str(), commit.date.as_str()), (leaked.as_str(), "Dev One", "dev@example.com", "2024-03-04T05:06:07Z"));
    assert_eq!(commit.message, "add deploy script");
    assert!(pat.message.contains(&leaked[..12]), "{}", pat.message);
    assert_eq!(pat.object.kind, "Repository");
    assert_no_secret_text(&all);

    let head_only = scan_git(&engine(), repo, &GitOptions { all_refs: false, ..GitOptions::default() }, &|_| {});
    assert_eq!(summary(&head_only), [("secret/github-pat".into(), "deploy.sh".into(), 3)]);

    // A commit fingerprint accepts the leak in that commit only; a file one everywhere.
    let mut ignore = Ignore::default();
    ignore.add_text(&format!("{on_branch}:ci.env:aws-access-token:1\ndeploy.sh:github-pat:3\n"), ".gitleaksignore");
    let ignored = scan_git(&engine().with_ignore(ignore), repo, &GitOptions::default(), &|_| {});
    assert!(ignored.findings.is_empty(), "{:?}", summary(&ignored));
    assert_eq!(ignored.stats.ignored, 2);

    let not_a_repository = tempfile::tempdir().unwrap();
    let unread = scan_git(&engine(), not_a_repository.path(), &GitOptions::default(), &|_| {});
    assert!(unread.unread[0].message.contains("not a git repository"), "{:?}", unread.unread);
}

/// An image held in memory: uncompressed layers with correct digests.
struct MemoryImage {
    description: ImageDescription,
    layers: Vec<Vec<u8>>,
}

fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("sha256:{}", digest.iter().map(|byte| format!("{byte:02x}")).collect::<String>())
}

impl MemoryImage {
    fn new(layers: Vec<Vec<u8>>) -> Self {
        let descriptions = layers
            .iter()
            .map(|tar| LayerDescription { digest: sha256(tar), diff_id: sha256(tar), media_type: "application/vnd.oci.image.layer.v1.tar".into(), size: tar.len() as u64 })
            .collect();
        let description = ImageDescription { reference: "memory:app".into(), os: "linux".into(), architecture: "amd64".into(), layers: descriptions, ..ImageDescription::default() };
        MemoryImage { description, layers }
    }
}

impl ImageSource for MemoryImage {
    fn description(&self) -> &ImageDescription {
        &self.description
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        Ok(Box::new(self.layers[index].as_slice()))
    }
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn image_layers_are_scanned_including_files_a_later_layer_deleted() {
    let base = tar_of(&[("etc/os-release", b"ID=test\n"), ("app/.env", format!("GITHUB_TOKEN={GITHUB_PAT}\n").as_bytes())]);
    let cleanup = tar_of(&[("app/.wh..env", b""), ("app/settings.ini", format!("[aws]\nkey = {AWS_KEY_ID}\n").as_bytes())]);
    let image = MemoryImage::new(vec![base.clone(), cleanup.clone()]);
    let scan = scan_image(&engine(), &image, "memory:app", &Options::default(), None, &|_| {});
    assert!(scan.unread.is_empty(), "{:?}", scan.unread);
    assert_eq!(summary(&scan), [("secret/aws-access-token".into(), "/app/settings.ini".into(), 2), ("secret/github-pat".into(), "/app/.env".into(), 1)]);
    let hidden = scan.findings.iter().find(|f| f.rule == "secret/github-pat").unwrap();
    let leak = hidden.secret.as_deref().unwrap();
    assert!(leak.hidden_by_later_layer);
    assert_eq!(leak.layer.as_deref(), Some(sha256(&base).as_str()));
    assert!(hidden.message.contains("later layer deleted"), "{}", hidden.message);
    let visible = scan.findings.iter().find(|f| f.rule == "secret/aws-access-token").unwrap();
    assert!(!visible.secret.as_deref().unwrap().hidden_by_later_layer);
    assert_eq!(visible.secret.as_deref().unwrap().layer.as_deref(), Some(sha256(&cleanup).as_str()));
    assert_eq!(visible.object.kind, "Image");
    assert_no_secret_text(&scan);
}

#[test]
fn cached_layers_give_the_same_findings_without_the_secret_on_disk() {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = palisade_image::LayerCache::new(PathBuf::from(cache_dir.path()));
    let layer = tar_of(&[("srv/ci.sh", format!("export GITHUB_TOKEN={GITHUB_PAT}\n").as_bytes())]);
    let image = MemoryImage::new(vec![layer]);
    let first = scan_image(&engine(), &image, "memory:app", &Options::default(), Some(&cache), &|_| {});
    let second = scan_image(&engine(), &image, "memory:app", &Options::default(), Some(&cache), &|_| {});
    assert_eq!(summary(&first), summary(&second));
    assert_eq!(first.findings.len(), 1);
    for entry in walk(cache_dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(GITHUB_PAT), "{} holds the secret", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn manifests_are_scanned_field_by_field_and_reported_on_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let encoded = "QUtJQVEzWlJXN1ROTVY0WEoyTFA="; // base64 of AWS_KEY_ID
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws\n  namespace: prod\ndata:\n  AWS_ACCESS_KEY_ID: {encoded}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  app.properties: |\n    mode=prod\n    github.token={GITHUB_PAT}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1\n        env:\n        - name: GITLAB_TOKEN\n          value: {GITLAB_PAT}\n"
    );
    std::fs::write(dir.path().join("deploy.yaml"), &manifest).unwrap();
    let scan = paths(&engine(), dir.path(), &Options::default());
    let file = format!("{}/deploy.yaml", dir.path().display());
    // gitleaks' own rule for Secret manifests finds the Secret in the text, once as written and
    // once more where its decoded value starts a match, as gitleaks reports it.
    let secret_yaml: Vec<u32> = scan.findings.iter().filter(|f| f.rule == "secret/kubernetes-secret-yaml").map(|f| f.location.line).collect();
    assert_eq!(secret_yaml, [2, 2]);
    let mut found: Vec<(String, String, String, u32)> = scan
        .findings
        .iter()
        .filter(|f| f.rule != "secret/kubernetes-secret-yaml")
        .map(|f| (f.rule.to_owned(), f.object.to_string(), f.location.path.to_string(), f.location.line))
        .collect();
    found.sort();
    let line_of = |needle: &str| manifest.lines().position(|line| line.contains(needle)).unwrap() as u32 + 1;
    assert_eq!(
        found,
        [
            ("secret/aws-access-token".into(), "Secret/prod/aws".into(), "/data/AWS_ACCESS_KEY_ID".into(), line_of(encoded)),
            ("secret/github-pat".into(), "ConfigMap/app".into(), "/data/app.properties".into(), line_of(GITHUB_PAT)),
            ("secret/gitlab-pat".into(), "Deployment/web".into(), "/spec/template/spec/containers/0/env/0/value".into(), line_of(GITLAB_PAT)),
        ],
        "{:?}",
        scan.findings.iter().map(|f| f.message.to_string()).collect::<Vec<_>>()
    );
    let aws = scan.findings.iter().find(|f| f.rule == "secret/aws-access-token").unwrap();
    assert_eq!(aws.secret.as_deref().unwrap().fingerprint, format!("{file}:aws-access-token:{}", line_of(encoded)));
    assert!(aws.message.contains("data[\"AWS_ACCESS_KEY_ID\"]"), "{}", aws.message);
    assert_no_secret_text(&scan);
}

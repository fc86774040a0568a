//! `palisade secrets` end to end through the binary: a project directory in every output
//! format (never a secret in any of them), `.gitleaksignore`, baselines from earlier reports of
//! Palisade and of gitleaks, `--rules` files that replace or extend the built-in rules (and one
//! that is wrong), git history, and `explain`. The sources themselves are tested in
//! palisade-secrets-scan. Every credential here is made up.

use std::path::Path;
use std::process::{Command, Output};

const AWS_KEY_ID: &str = "AKIAQ3ZRW7TNMV4XJ2LP";
const GITHUB_PAT: &str = "ghp_R4nd0mT0k3nV4lu3Xq9Lm2Pz4Rt8Vw6Yb1Cd";
const INTERNAL_TOKEN: &str = "itk_q7w2e9r4t6y1u8i3o5p0";

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(cwd)
        .env("PALISADE_CACHE_DIR", cwd.join("cache"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn assert_redacted(output: &Output) {
    let all = text(output);
    for secret in [AWS_KEY_ID, GITHUB_PAT, INTERNAL_TOKEN] {
        assert!(!all.contains(secret), "a secret was printed:\n{all}");
    }
}

/// A project with two leaks and files gitleaks passes over.
fn project(root: &Path) {
    std::fs::create_dir_all(root.join("app/config")).unwrap();
    std::fs::write(root.join("app/config/prod.env"), format!("LOG_LEVEL=info\nAWS_ACCESS_KEY_ID={AWS_KEY_ID}\n")).unwrap();
    std::fs::write(root.join("app/deploy.sh"), format!("#!/bin/sh\nexport GITHUB_TOKEN={GITHUB_PAT} # CI\n")).unwrap();
    std::fs::write(root.join("app/internal.txt"), format!("token: {INTERNAL_TOKEN}\n")).unwrap();
    std::fs::write(root.join("README.md"), "Nothing to see.\n").unwrap();
}

fn findings(json: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut found: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_owned(), f["location"]["file"].as_str().unwrap().to_owned(), f["location"]["line"].as_u64().unwrap()))
        .collect();
    found.sort();
    found
}

#[test]
fn a_project_in_every_format_with_no_secret_printed() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    // gitleaks' generic rule finds the internal token by its key name (no built-in rule knows
    // its shape).
    let expected = vec![
        ("secret/aws-access-token".to_owned(), "app/config/prod.env".to_owned(), 2),
        ("secret/generic-api-key".to_owned(), "app/internal.txt".to_owned(), 1),
        ("secret/github-pat".to_owned(), "app/deploy.sh".to_owned(), 2),
    ];

    let json = palisade(&["secrets", ".", "-f", "json"], dir.path());
    assert_eq!(json.status.code(), Some(1), "{}", text(&json));
    assert_redacted(&json);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(findings(&report), expected);
    let pat = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "secret/github-pat").unwrap();
    assert_eq!(pat["secret"]["fingerprint"], "app/deploy.sh:github-pat:2");
    assert_eq!(pat["secret"]["redacted"], "ghp_… (40 bytes)");
    assert_eq!(pat["location"]["column"], "export GITHUB_TOKEN=".len() as u64 + 1);

    // The default source is the current directory.
    let default = palisade(&["secrets", "-f", "json"], dir.path());
    assert_eq!(findings(&serde_json::from_slice(&default.stdout).unwrap()), expected);

    let gitleaks = palisade(&["secrets", ".", "-f", "gitleaks-json"], dir.path());
    assert_eq!(gitleaks.status.code(), Some(1));
    assert_redacted(&gitleaks);
    let leaks: serde_json::Value = serde_json::from_slice(&gitleaks.stdout).unwrap();
    let leaks = leaks.as_array().unwrap();
    assert_eq!(leaks.len(), 3);
    let keys: Vec<&str> = leaks[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["RuleID", "Description", "StartLine", "EndLine", "StartColumn", "EndColumn", "Match", "Secret", "File", "SymlinkFile", "Commit", "Entropy", "Author", "Email", "Date", "Message", "Tags", "Fingerprint"]
    );
    assert!(leaks.iter().all(|leak| leak["Secret"] == "REDACTED"));
    let aws = leaks.iter().find(|leak| leak["RuleID"] == "aws-access-token").unwrap();
    // gitleaks counts columns on lines after the first from the newline before them.
    assert_eq!((aws["StartLine"].as_u64(), aws["StartColumn"].as_u64(), aws["EndColumn"].as_u64()), (Some(2), Some(20), Some(39)));
    assert_eq!(aws["Fingerprint"], "app/config/prod.env:aws-access-token:2");

    for format in ["text", "sarif", "junit"] {
        let output = palisade(&["secrets", ".", "-f", format], dir.path());
        assert_eq!(output.status.code(), Some(1), "{format}: {}", text(&output));
        assert_redacted(&output);
        assert!(String::from_utf8_lossy(&output.stdout).contains("github-pat"), "{format}");
    }
    let sarif = palisade(&["secrets", ".", "-f", "sarif"], dir.path());
    let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let fingerprints: Vec<&str> = sarif["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"]["gitleaksFingerprint/v1"].as_str().unwrap()).collect();
    assert!(fingerprints.contains(&"app/deploy.sh:github-pat:2"), "{fingerprints:?}");

    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("main.go"), "package main\n").unwrap();
    assert_eq!(palisade(&["secrets", "."], clean.path()).status.code(), Some(0));
    let missing = palisade(&["secrets", "no-such-dir"], clean.path());
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("no-such-dir"), "{}", text(&missing));
}

#[test]
fn gitleaksignore_and_baselines_from_earlier_reports() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    std::fs::write(dir.path().join(".gitleaksignore"), "# reviewed\napp/deploy.sh:github-pat:2\n").unwrap();
    let output = palisade(&["secrets", ".", "-f", "json"], dir.path());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules: Vec<String> = findings(&report).into_iter().map(|(rule, _, _)| rule).collect();
    assert_eq!(rules, ["secret/aws-access-token", "secret/generic-api-key"]);
    assert!(text(&output).contains("1 finding(s) ignored by .gitleaksignore"), "{}", text(&output));
    std::fs::remove_file(dir.path().join(".gitleaksignore")).unwrap();

    for format in ["json", "gitleaks-json"] {
        let earlier = palisade(&["secrets", ".", "-f", format, "-o", "earlier.json"], dir.path());
        assert_eq!(earlier.status.code(), Some(1));
        let again = palisade(&["secrets", ".", "-f", "json", "--baseline", "earlier.json"], dir.path());
        assert_eq!(again.status.code(), Some(0), "{format}: {}", text(&again));
        let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert!(findings(&report).is_empty(), "{format}");
        // A new leak is not in the baseline.
        std::fs::write(dir.path().join("app/new.env"), format!("GITHUB_TOKEN={GITHUB_PAT}\n")).unwrap();
        let new = palisade(&["secrets", ".", "-f", "json", "--baseline", "earlier.json"], dir.path());
        assert_eq!(findings(&serde_json::from_slice(&new.stdout).unwrap()), [("secret/github-pat".to_owned(), "app/new.env".to_owned(), 1)], "{format}");
        std::fs::remove_file(dir.path().join("app/new.env")).unwrap();
    }
}

#[test]
fn rules_files_replace_or_extend_the_built_in_rules() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let rule = r#"
[[rules]]
id = "internal-token"
description = "Internal service token"
regex = '''itk_[a-z0-9]{20}'''
keywords = ["itk_"]
"#;
    std::fs::write(dir.path().join("only.toml"), format!("title = \"ours\"\n{rule}")).unwrap();
    std::fs::write(dir.path().join("extended.toml"), format!("[extend]\nuseDefault = true\n{rule}")).unwrap();

    let only = palisade(&["secrets", "app", "-f", "json", "--rules", "only.toml"], dir.path());
    assert_redacted(&only);
    assert_eq!(findings(&serde_json::from_slice(&only.stdout).unwrap()), [("secret/internal-token".to_owned(), "app/internal.txt".to_owned(), 1)]);
    let extended = palisade(&["secrets", "app", "-f", "json", "--rules", "extended.toml"], dir.path());
    let rules: Vec<String> = findings(&serde_json::from_slice(&extended.stdout).unwrap()).into_iter().map(|(rule, _, _)| rule).collect();
    assert_eq!(rules, ["secret/aws-access-token", "secret/github-pat", "secret/internal-token"]);

    let listed = palisade(&["secrets", "--list-rules"], dir.path());
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert_eq!(listed.lines().count(), 222);
    assert!(listed.lines().any(|line| line.starts_with("aws-access-token ")));

    std::fs::write(dir.path().join("broken.toml"), "[[rules]]\nid = \"bad\"\nregex = '''(unclosed'''\n").unwrap();
    let broken = palisade(&["secrets", "app", "--rules", "broken.toml"], dir.path());
    assert_eq!(broken.status.code(), Some(2));
    let message = text(&broken);
    assert!(message.contains("broken.toml") && message.contains("bad") && message.contains(":3"), "{message}");
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
        .unwrap();
    assert!(status.success());
}

#[test]
fn git_history_reports_the_commit_that_added_a_removed_secret() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("ci.sh"), format!("export GITHUB_TOKEN={GITHUB_PAT}\n")).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "ci"]);
    git(repo, &["rm", "-q", "ci.sh"]);
    git(repo, &["commit", "-q", "-m", "oops"]);

    // The working tree is clean; the history is not.
    assert_eq!(palisade(&["secrets", "."], repo).status.code(), Some(0));
    let output = palisade(&["secrets", "--git", ".", "-f", "gitleaks-json"], repo);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_redacted(&output);
    let leaks: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let leak = &leaks[0];
    assert_eq!((leak["RuleID"].as_str(), leak["File"].as_str(), leak["Author"].as_str(), leak["Email"].as_str()), (Some("github-pat"), Some("ci.sh"), Some("Dev One"), Some("dev@example.com")));
    assert_eq!(leak["Date"], "2024-03-04T05:06:07Z");
    assert_eq!(leak["Message"], "ci");
    let commit = leak["Commit"].as_str().unwrap();
    assert_eq!(leak["Fingerprint"], format!("{commit}:ci.sh:github-pat:1"));

    let not_a_repository = tempfile::tempdir().unwrap();
    let unread = palisade(&["secrets", "--git", "."], not_a_repository.path());
    assert_eq!(unread.status.code(), Some(2), "{}", text(&unread));
}

#[test]
fn explain_describes_a_gitleaks_rule() {
    let dir = tempfile::tempdir().unwrap();
    let output = palisade(&["explain", "secret/github-pat"], dir.path());
    assert!(output.status.success(), "{}", text(&output));
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.contains("secret/github-pat") && page.contains("GitHub"), "{page}");
    assert!(!palisade(&["explain", "secret/no-such-rule"], dir.path()).status.success());
}

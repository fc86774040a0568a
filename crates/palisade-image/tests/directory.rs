//! Directories read as one layer: symlinks recorded and never followed, special files never
//! opened, sizes and depth capped.

mod common;

use common::Recorder;
use palisade_image::{Limits, analyze_directory, analyze_directory_with_limits};

#[test]
fn symlinks_are_recorded_not_followed_and_fifos_not_opened() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("root");
    let outside = temp.path().join("outside");
    std::fs::create_dir_all(root.join("etc/deep/er")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "outside the root").unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=x\n").unwrap();
    std::fs::write(root.join("etc/deep/er/file"), "deep").unwrap();
    std::fs::write(root.join("etc/big"), vec![b'b'; 2 << 20]).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("etc/escape")).unwrap();
    std::os::unix::fs::symlink("loop", root.join("etc/loop")).unwrap();
    common::run("mkfifo", &[root.join("etc/fifo").to_str().unwrap()]);

    let analyzed = analyze_directory(&root, &Recorder::new(&["/etc"])).unwrap();
    let files: Vec<(&str, &str)> = analyzed.files.iter().map(|file| (file.path.as_str(), file.facts.as_str())).collect();
    assert_eq!(files, vec![("/etc/deep/er/file", "deep"), ("/etc/os-release", "ID=x\n")]);
    assert!(analyzed.files.iter().all(|file| file.layer_digest.is_none() && file.layer_index == 0));
    assert_eq!(analyzed.symlinks.links().get("/etc/escape").map(String::as_str), outside.to_str());
    assert!(analyzed.symlinks.resolve("/etc/loop", 40).is_err());
    let issues: Vec<(Option<&str>, &str)> = analyzed.issues.iter().map(|issue| (issue.path.as_deref(), issue.message.as_str())).collect();
    assert_eq!(issues, vec![(Some("/etc/big"), "2097152 bytes, more than the 1048576 the analyser reads: not analysed")]);

    let shallow = analyze_directory_with_limits(&root, &Recorder::new(&["/etc"]), &Limits { max_directory_depth: 2, ..Limits::default() }).unwrap();
    assert!(shallow.issues.iter().any(|issue| issue.path.as_deref() == Some("/etc/deep/er") && issue.message == "deeper than 2 directories (limit): not read"));
    assert!(!shallow.files.iter().any(|file| file.path == "/etc/deep/er/file"));

    let error = analyze_directory(&root.join("etc/os-release"), &Recorder::new(&["/etc"])).unwrap_err();
    assert!(error.to_string().ends_with("os-release: not a directory"), "{error}");
}

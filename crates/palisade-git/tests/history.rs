//! The walker against `git log -p -U0 --full-history --all` (what gitleaks scans) on repositories
//! built with the `git` binary.

mod support;

use palisade_git::{Error, History, Options, Stop};
use support::Repo;

fn lines_of(added: &[support::Added], commit: &str, path: &str) -> Vec<(u32, String)> {
    added
        .iter()
        .filter(|(c, p, _, _)| c == commit && p == path)
        .map(|(_, _, n, text)| (*n, String::from_utf8_lossy(text).into_owned()))
        .collect()
}

#[test]
fn linear_history_with_edits_deletions_and_renames_matches_git_log() {
    let mut repo = Repo::new();
    repo.write("app/config.txt", "alpha\nbeta\ngamma\n");
    repo.write("notes.md", "one\ntwo\nthree\nfour\nfive\nsix\n");
    repo.write("gone.txt", "short lived\n");
    let root = repo.commit("root");
    repo.write("app/config.txt", "alpha\ninserted\nbeta\ngamma\nappended\nno newline at end");
    let edit = repo.commit("edit config");
    std::fs::remove_file(repo.path().join("gone.txt")).unwrap();
    std::fs::create_dir(repo.path().join("docs")).unwrap();
    repo.git(&["mv", "notes.md", "docs/notes.md"]);
    let rename = repo.commit("delete one file, rename another");
    repo.git(&["mv", "docs/notes.md", "docs/renamed.md"]);
    repo.write("docs/renamed.md", "one\ntwo\nthree\nfour\nfive\nsix\nseven\n");
    let rename_edit = repo.commit("rename with an edit");

    // Repeated lines make the placement of an insertion ambiguous; line numbers must still be git's.
    repo.write("code.c", "int f() {\n    return 1;\n}\n\nint h() {\n    return 3;\n}\n");
    repo.commit("code");
    repo.write("code.c", "int f() {\n    return 1;\n}\n\nint g() {\n    return 2;\n}\n\nint h() {\n    return 3;\n}\n");
    repo.commit("insert a function between two");
    // A symbolic link's blob is its target, which git log -p prints; turning a file into a link is a
    // type change that gitleaks' --diff-filter leaves out; a mode change alone adds no line.
    std::os::unix::fs::symlink("app/config.txt", repo.path().join("link")).unwrap();
    repo.git(&["update-index", "--chmod=+x", "--add", "app/config.txt"]);
    repo.commit("symlink and mode change");
    std::fs::remove_file(repo.path().join("docs/renamed.md")).unwrap();
    std::os::unix::fs::symlink("../app/config.txt", repo.path().join("docs/renamed.md")).unwrap();
    repo.commit("file becomes a symbolic link");

    let (walked, summary) = repo.walked_added(&Options::default());
    assert_eq!(walked, repo.reference_added());
    assert_eq!(summary.commits, 8);
    assert!(walked.iter().any(|(_, p, n, text)| p == "link" && *n == 1 && text == b"app/config.txt"));
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);

    assert_eq!(lines_of(&walked, &root, "gone.txt"), vec![(1, "short lived".into())]);
    assert_eq!(
        lines_of(&walked, &edit, "app/config.txt"),
        vec![(2, "inserted".into()), (5, "appended".into()), (6, "no newline at end".into())]
    );
    // A pure rename and a deletion add nothing; a rename with an edit adds only the edit.
    assert!(walked.iter().all(|(c, _, _, _)| c != &rename));
    assert_eq!(lines_of(&walked, &rename_edit, "docs/renamed.md"), vec![(7, "seven".into())]);
}

#[test]
fn every_branch_is_walked_each_commit_once_and_merges_add_nothing() {
    let mut repo = Repo::new();
    repo.write("shared.txt", "base\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.txt", "feature line\n");
    let feature = repo.commit("feature work");
    repo.git(&["checkout", "-q", "-b", "unmerged"]);
    repo.write("unmerged.txt", "only on a side branch\n");
    let unmerged = repo.commit("side branch");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "main line\n");
    repo.commit("main work");
    repo.merge_no_commit("feature");
    // An "evil merge": a line that is in neither parent. `git log -p` prints no patch for merges.
    repo.write("shared.txt", "base\nadded while merging\n");
    repo.git(&["add", "shared.txt"]);
    let merge = repo.commit("merge feature");
    repo.git(&["tag", "-a", "-m", "annotated", "v1", &unmerged]);

    let (walked, summary) = repo.walked_added(&Options::default());
    assert_eq!(walked, repo.reference_added());
    let all_commits: u64 = repo.git(&["rev-list", "--all", "--count"]).trim().parse().unwrap();
    assert_eq!(summary.commits, all_commits);
    assert_eq!(summary.merges, 1);
    assert!(walked.iter().all(|(c, _, _, _)| c != &merge));
    // Reported once although reachable from main (through the merge) and from feature.
    assert_eq!(walked.iter().filter(|(c, _, _, _)| c == &feature).count(), 1);
    assert_eq!(lines_of(&walked, &unmerged, "unmerged.txt"), vec![(1, "only on a side branch".into())]);

    let (head_only, head_summary) = repo.walked_added(&Options { all_refs: false, ..Options::default() });
    assert!(head_only.iter().all(|(c, _, _, _)| c != &unmerged));
    assert_eq!(head_summary.commits, all_commits - 1);
}

#[test]
fn binary_and_oversized_blobs_are_skipped_and_counted() {
    let mut repo = Repo::new();
    repo.write("image.bin", b"PNG\0\x01\x02 token=abc\n");
    repo.write("big.txt", "x".repeat(5000) + "\n");
    repo.write("small.txt", "kept\n");
    repo.commit("binary and big");

    let options = Options { max_blob_bytes: 1000, ..Options::default() };
    let (walked, summary) = repo.walked_added(&options);
    let paths: Vec<&str> = walked.iter().map(|(_, p, _, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["small.txt"]);
    assert_eq!((summary.skipped_binary, summary.skipped_too_large), (1, 1));
    // git also prints no lines for the binary file; it does for the big one.
    let reference = repo.reference_added();
    assert!(reference.iter().all(|(_, p, _, _)| p != "image.bin"));
    assert!(reference.iter().any(|(_, p, _, _)| p == "big.txt"));
}

#[test]
fn commit_fields_are_those_gitleaks_reports() {
    let mut repo = Repo::new();
    repo.write("a.txt", "a\n");
    let id = repo.commit("subject line\n\nbody text");
    let history = History::open(repo.path()).unwrap();
    let mut commits = Vec::new();
    history.walk(&Options::default(), |change| commits.push(change.commit.clone())).unwrap();
    assert_eq!(commits.len(), 1);
    let commit = &commits[0];
    assert_eq!(commit.id, id);
    assert_eq!(commit.author, "Test Author");
    assert_eq!(commit.email, "author@example.test");
    assert_eq!(commit.date, "2024-01-02T02:01:05Z");
    assert_eq!(commit.message, "subject line\n\nbody text");
}

#[test]
fn caps_stop_the_walk_and_say_so() {
    let mut repo = Repo::new();
    for i in 0..5 {
        repo.write("f.txt", format!("line {i}\n").repeat(i + 1));
        repo.commit(&format!("c{i}"));
    }
    let (_, summary) = repo.walked_added(&Options { max_commits: Some(2), ..Options::default() });
    assert_eq!((summary.commits, summary.stopped), (2, Some(Stop::MaxCommits)));
    let (walked, summary) = repo.walked_added(&Options { max_added_bytes: Some(1), ..Options::default() });
    assert_eq!((!walked.is_empty(), summary.changes, summary.stopped), (true, 1, Some(Stop::MaxAddedBytes)));
}

#[test]
fn an_unreadable_blob_is_a_named_problem_and_the_walk_goes_on() {
    let mut repo = Repo::new();
    repo.write("lost.txt", "will be lost\n");
    repo.write("kept.txt", "kept\n");
    let commit = repo.commit("two files");
    let blob = repo.git(&["rev-parse", "HEAD:lost.txt"]).trim().to_owned();
    std::fs::remove_file(repo.path().join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();

    let (walked, summary) = repo.walked_added(&Options::default());
    assert_eq!(walked, vec![(commit.clone(), "kept.txt".into(), 1, b"kept".to_vec())]);
    assert_eq!(summary.problems.len(), 1);
    let problem = summary.problems[0].to_string();
    assert!(problem.contains(&commit) && problem.contains("lost.txt") && problem.contains(&blob), "{problem}");
}

#[test]
fn an_empty_repository_has_no_history() {
    let repo = Repo::new();
    let (walked, summary) = repo.walked_added(&Options::default());
    assert!(walked.is_empty());
    assert_eq!(summary.commits, 0);
}

#[test]
fn a_directory_outside_any_repository_is_a_named_error() {
    let dir = support::not_a_repository();
    let error = History::open(dir.path()).err().expect("not a repository");
    assert!(matches!(error, Error::NotARepository { .. }));
    let message = error.to_string();
    assert!(message.contains(&dir.path().display().to_string()) && message.contains("not a git repository"), "{message}");
}

//! Test repositories built with the `git` binary, and `git log -p` as the reference to compare with.

use std::path::Path;
use std::process::Command;

use palisade_git::{History, Options, Summary};

pub struct Repo {
    dir: tempfile::TempDir,
    commits: u32,
}

/// One added line: (commit id, path, 1-based line number in the new file, text without terminator).
pub type Added = (String, String, u32, Vec<u8>);

impl Repo {
    pub fn new() -> Repo {
        let repo = Repo { dir: tempfile::tempdir().expect("temporary directory"), commits: 0 };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test Author"]);
        repo.git(&["config", "user.email", "author@example.test"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
    }

    /// Commits everything in the work tree, one minute after the previous commit.
    pub fn commit(&mut self, message: &str) -> String {
        self.commits += 1;
        let date = format!("2024-01-02T03:{:02}:05+0100", self.commits);
        self.git(&["add", "-A"]);
        let out = Command::new("git")
            .args(["commit", "-q", "--allow-empty", "-m", message])
            .current_dir(self.path())
            .env("HOME", self.path())
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git commit runs");
        assert!(out.status.success(), "git commit: {}", String::from_utf8_lossy(&out.stderr));
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// Merges `branch` into the current branch with the next commit date (`--no-commit` first, so a
    /// test can edit the result before committing: an "evil merge").
    pub fn merge_no_commit(&self, branch: &str) {
        let out = Command::new("git")
            .args(["merge", "-q", "--no-ff", "--no-commit", branch])
            .current_dir(self.path())
            .env("HOME", self.path())
            .output()
            .expect("git merge runs");
        assert!(out.status.success(), "git merge: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Added lines as gitleaks reads them: `git log -p -U0 --full-history --all --diff-filter=tuxdb`.
    pub fn reference_added(&self) -> Vec<Added> {
        let log = self.git(&[
            "-c", "core.quotePath=false", "log", "-p", "-U0", "--full-history", "--all", "--diff-filter=tuxdb",
            "--no-color", "--format=COMMIT %H",
        ]);
        parse_log_patch(&log)
    }

    /// Added lines as this crate reports them.
    pub fn walked_added(&self, options: &Options) -> (Vec<Added>, Summary) {
        let history = History::open(self.path()).expect("repository opens");
        let mut added = Vec::new();
        let summary = history
            .walk(options, |change| {
                for hunk in &change.hunks {
                    for (number, line) in hunk.lines() {
                        added.push((change.commit.id.clone(), change.path.clone(), number, line.to_vec()));
                    }
                }
            })
            .expect("walk");
        added.sort();
        (added, summary)
    }
}

/// Parses `git log -p -U0 --format="COMMIT %H"`: added lines counted from each hunk header's new
/// start, reading exactly as many `-`/`+` lines as the header announces.
fn parse_log_patch(log: &str) -> Vec<Added> {
    let (mut commit, mut path) = (String::new(), String::new());
    let (mut removed_left, mut added_left, mut line) = (0u32, 0u32, 0u32);
    let mut out = Vec::new();
    for text in log.lines() {
        if removed_left > 0 && text.starts_with('-') {
            removed_left -= 1;
        } else if added_left > 0 && text.starts_with('+') {
            out.push((commit.clone(), path.clone(), line, text.as_bytes()[1..].to_vec()));
            line += 1;
            added_left -= 1;
        } else if let Some(id) = text.strip_prefix("COMMIT ") {
            commit = id.to_owned();
        } else if let Some(new_path) = text.strip_prefix("+++ b/") {
            path = new_path.to_owned();
        } else if let Some(header) = text.strip_prefix("@@ -") {
            let (old, rest) = header.split_once(" +").expect("hunk header");
            let new = rest.split_once(" @@").expect("hunk header end").0;
            let count = |range: &str| range.split_once(',').map_or(1, |(_, n)| n.parse().expect("count"));
            removed_left = count(old);
            added_left = count(new);
            line = new.split(',').next().expect("start").parse().expect("start");
        }
    }
    out.sort();
    out
}

/// An empty directory outside any repository.
pub fn not_a_repository() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

//! Runs audit scripts the way kube-bench's runAudit does (check/check.go): `/bin/sh` reads the
//! script on standard input, so a command that reads standard input consumes what the shell has
//! not read yet; standard output and standard error go to one pipe, interleaved as written.
//!
//! What Palisade adds, so that no script can stall or flood a collection:
//! - each script runs in a fresh empty working directory (audits hold unquoted globs such as
//!   `*etcd*`, which must not match files in the caller's directory), in a process group of its
//!   own;
//! - a timeout ([`RunnerOptions::timeout`]) after which the whole process group is killed and
//!   the audit records `timed out after 10s`;
//! - an output limit ([`RunnerOptions::output_limit`]): the output is cut there, the process
//!   group killed, and the audit records `output cut at N bytes`, so an audit error is
//!   reported instead of a verdict on partial output;
//! - `LC_ALL=C`: kube-bench runs in a container without locale settings, and its evaluation
//!   looks for English error text ("No such file or directory" tolerates a missing config
//!   file), which a localized host would translate;
//! - `--root` ([`RunnerOptions::root`], see [`root`]): file audits read under another directory.
//!
//! Scripts run in parallel on a bounded pool, except those that list processes, which run one
//! at a time afterwards so that none sees another audit's processes ([`Runner::run_all`]); a
//! spawn failure is recorded as the audit's error.

mod root;

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::snapshot::Audit;
use root::RootMap;

/// How scripts are run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunnerOptions {
    /// Per script; the process group is killed when it runs out.
    pub timeout: Duration,
    /// Bytes of output kept per script.
    pub output_limit: usize,
    /// `--root`: the node's file system as seen from here; `None` (or `/`) for this machine's.
    pub root: Option<PathBuf>,
    /// Scripts run at the same time.
    pub jobs: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            output_limit: 1 << 20,
            root: None,
            jobs: 8,
        }
    }
}

/// Runs scripts; owns a scratch directory (working directories and `--root` shims) removed on
/// drop.
#[derive(Debug)]
pub struct Runner {
    options: RunnerOptions,
    scratch: Scratch,
    root: Option<RootMap>,
    pool: rayon::ThreadPool,
    next_workdir: AtomicU64,
}

impl Runner {
    pub fn new(options: RunnerOptions) -> std::io::Result<Runner> {
        let scratch = Scratch::create()?;
        let root = match &options.root {
            Some(dir) => {
                let dir = std::fs::canonicalize(dir).map_err(|error| {
                    std::io::Error::new(error.kind(), format!("--root {}: {error}", dir.display()))
                })?;
                (dir != Path::new("/"))
                    .then(|| RootMap::install(&dir, &scratch.path.join("shims")))
                    .transpose()?
            }
            None => None,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs.max(1))
            .thread_name(|index| format!("palisade-audit-{index}"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Runner {
            options,
            scratch,
            root,
            pool,
            next_workdir: AtomicU64::new(0),
        })
    }

    /// The root scripts read files under, canonical, when it is not `/`.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_ref().map(RootMap::dir)
    }

    /// Runs every script once; the audits come back in the order of `scripts`.
    ///
    /// kube-bench runs one audit at a time, so a script listing processes never sees another
    /// audit's processes (a concurrent `/bin/sh -c 'if test -e …/kube-apiserver.yaml …'` would
    /// show in `ps -ef | grep kube-apiserver`). Scripts that do not look at processes run in
    /// parallel first; those that do ([`lists_processes`]) then run one by one.
    pub fn run_all(&self, scripts: &[String]) -> Vec<Audit> {
        let (alone, together): (Vec<usize>, Vec<usize>) =
            (0..scripts.len()).partition(|&index| lists_processes(&scripts[index]));
        let mut audits: Vec<Option<Audit>> = vec![None; scripts.len()];
        let parallel: Vec<(usize, Audit)> = self.pool.install(|| {
            together
                .par_iter()
                .map(|&index| (index, self.run(&scripts[index])))
                .collect()
        });
        for (index, audit) in parallel {
            audits[index] = Some(audit);
        }
        for index in alone {
            audits[index] = Some(self.run(&scripts[index]));
        }
        audits
            .into_iter()
            .map(|audit| audit.expect("every script ran"))
            .collect()
    }

    /// Runs one script; `command` of the result is `script` as given.
    pub fn run(&self, script: &str) -> Audit {
        let workdir = self.scratch.path.join(format!(
            "work-{}",
            self.next_workdir.fetch_add(1, Ordering::Relaxed)
        ));
        let audit = match std::fs::create_dir(&workdir) {
            Ok(()) => self.run_in(script, &workdir),
            Err(error) => failed(
                script,
                format!("cannot create a working directory: {error}"),
            ),
        };
        // Whatever an audit left in its directory goes with it.
        let _ = std::fs::remove_dir_all(&workdir);
        audit
    }

    fn run_in(&self, script: &str, workdir: &Path) -> Audit {
        let executed = match &self.root {
            Some(root) => root.script(script),
            None => script.to_owned(),
        };
        // The outer shell joins standard error to the pipe of standard output, then becomes the
        // `/bin/sh` that reads the script (argv[0] `/bin/sh`, as Go's exec.Command gives it).
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", "exec 2>&1; exec /bin/sh"])
            .current_dir(workdir)
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(root) = &self.root {
            command.env("PATH", root.search_path());
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => return failed(script, format!("cannot start /bin/sh: {error}")),
        };
        let group = child.id();
        let deadline = Instant::now() + self.options.timeout;
        // Writer and reader are left to finish on their own: a process that escaped the group
        // (setsid) may hold a pipe open long after the audit is over.
        if let Some(mut stdin) = child.stdin.take() {
            std::thread::spawn(move || {
                // A script that exits before reading all of itself closes the pipe; that is its
                // business, as for kube-bench.
                let _ = stdin.write_all(executed.as_bytes());
            });
        }
        let (send, receive) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            let limit = self.options.output_limit;
            std::thread::spawn(move || {
                let _ = send.send(read_limited(stdout, limit, || kill_group(group)));
            });
        }
        let mut timed_out = false;
        let read = match receive.recv_timeout(self.options.timeout) {
            Ok(read) => Some(read),
            Err(_) => {
                timed_out = true;
                kill_group(group);
                receive.recv_timeout(GRACE).ok()
            }
        };
        let (output, cut) = read.unwrap_or_default();
        let status = wait_until(&mut child, deadline).or_else(|| {
            timed_out = true;
            kill_group(group);
            child.wait().ok()
        });
        let mut output = String::from_utf8_lossy(&output).into_owned();
        if let Some(root) = &self.root {
            output = root.unmap_output(&output);
        }
        let (exit_status, error) = match status {
            _ if timed_out => (
                None,
                Some(format!(
                    "timed out after {}",
                    go_duration(self.options.timeout)
                )),
            ),
            None => (None, Some("cannot wait for /bin/sh".to_owned())),
            Some(status) if cut => (
                status.code(),
                Some(format!("output cut at {} bytes", self.options.output_limit)),
            ),
            Some(status) => match status.code() {
                Some(code) => (Some(code), None),
                None => (None, Some(go_signal_error(status))),
            },
        };
        Audit {
            command: script.to_owned(),
            output,
            exit_status,
            error,
        }
    }
}

/// Whether `script` looks at the process table: runs `ps`, `pgrep` or `pidof`, or reads `/proc`.
fn lists_processes(script: &str) -> bool {
    static COMMAND: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:^|[^\w./-])(?:/usr)?(?:/s?bin/)?(?:ps|pgrep|pidof)(?:[^\w./-]|$)")
            .expect("valid pattern")
    });
    script.contains("/proc/") || COMMAND.is_match(script)
}

/// How long the output of a killed script may take to reach its end.
const GRACE: Duration = Duration::from_secs(2);

/// The exit status of `child` once it exits, or `None` when `deadline` passes first. The shell
/// exits right after closing its output in all but contrived scripts, so the polls are short.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    let mut pause = Duration::from_micros(50);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Reads `reader` to its end, keeping `limit` bytes; past that, `overflow` is called once and
/// the rest is drained. Returns the kept bytes and whether anything was dropped.
fn read_limited(mut reader: impl Read, limit: usize, overflow: impl FnOnce()) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let mut overflow = Some(overflow);
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..read.min(room)]);
                if read > room {
                    if let Some(overflow) = overflow.take() {
                        overflow();
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (kept, overflow.is_none())
}

/// Sends SIGKILL to process group `group`. The standard library can signal only its own child,
/// so the shell's `kill` does it (no signal crate is among the dependencies).
fn kill_group(group: u32) {
    let _ = Command::new("/bin/sh")
        .args(["-c", "kill -s KILL -- \"-$1\"", "sh", &group.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn failed(script: &str, error: String) -> Audit {
    Audit {
        command: script.to_owned(),
        output: String::new(),
        exit_status: None,
        error: Some(error),
    }
}

/// How Go's os.ProcessState describes a shell killed by a signal (`signal: killed`).
fn go_signal_error(status: ExitStatus) -> String {
    let Some(signal) = status.signal() else {
        return format!("{status}");
    };
    let name = match signal {
        1 => "hangup".to_owned(),
        2 => "interrupt".to_owned(),
        3 => "quit".to_owned(),
        4 => "illegal instruction".to_owned(),
        5 => "trace/breakpoint trap".to_owned(),
        6 => "aborted".to_owned(),
        7 => "bus error".to_owned(),
        8 => "floating point exception".to_owned(),
        9 => "killed".to_owned(),
        10 => "user defined signal 1".to_owned(),
        11 => "segmentation fault".to_owned(),
        12 => "user defined signal 2".to_owned(),
        13 => "broken pipe".to_owned(),
        14 => "alarm clock".to_owned(),
        15 => "terminated".to_owned(),
        24 => "CPU time limit exceeded".to_owned(),
        25 => "file size limit exceeded".to_owned(),
        31 => "bad system call".to_owned(),
        other => format!("signal {other}"),
    };
    let core = if status.core_dumped() {
        " (core dumped)"
    } else {
        ""
    };
    format!("signal: {name}{core}")
}

/// A duration as Go's time.Duration prints it (`10s`, `1.5s`, `500ms`, `1m30s`).
fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (unit, scale) = match nanos {
            0..1_000 => ("ns", 1),
            1_000..1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{}{unit}", fraction(nanos, scale));
    }
    let (hours, rest) = (nanos / 3_600_000_000_000, nanos % 3_600_000_000_000);
    let (minutes, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let seconds = format!("{}s", fraction(rest, 1_000_000_000));
    match (hours, minutes) {
        (0, 0) => seconds,
        (0, _) => format!("{minutes}m{seconds}"),
        _ => format!("{hours}h{minutes}m{seconds}"),
    }
}

/// `value / scale` with the fraction's trailing zeros dropped.
fn fraction(value: u128, scale: u128) -> String {
    let (whole, part) = (value / scale, value % scale);
    if part == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{part:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A private temporary directory, removed on drop.
#[derive(Debug)]
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// Under the system's temporary directory when its path is safe to write into a shell
    /// script unquoted (the `--root` shims are named by path in rewritten scripts), else /tmp.
    fn create() -> std::io::Result<Scratch> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let system = std::env::temp_dir();
        let base = if root::is_shell_safe(&system.to_string_lossy()) {
            system
        } else {
            PathBuf::from("/tmp")
        };
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        loop {
            let path = base.join(format!(
                "palisade-node-{}-{stamp}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Scratch { path }),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(std::io::Error::new(
                        error.kind(),
                        format!(
                            "cannot create a scratch directory in {}: {error}",
                            base.display()
                        ),
                    ));
                }
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(options: RunnerOptions) -> Runner {
        Runner::new(options).expect("runner")
    }

    #[test]
    fn output_is_combined_and_exit_status_recorded() {
        let runner = runner(RunnerOptions::default());
        let audit = runner.run("echo out; echo err >&2; echo out2; exit 3");
        assert_eq!(audit.output, "out\nerr\nout2\n");
        assert_eq!(audit.exit_status, Some(3));
        assert_eq!(audit.error, None);
        assert_eq!(audit.command, "echo out; echo err >&2; echo out2; exit 3");
    }

    #[test]
    fn the_script_is_read_on_standard_input_from_an_empty_directory() {
        let runner = runner(RunnerOptions::default());
        // `cat` gets whatever the shell had not read yet; dash reads a small script whole.
        let audit = runner.run("ls -A; echo *; cat");
        assert_eq!(audit.output, "*\n");
        assert_eq!(audit.exit_status, Some(0));
        let audit = runner.run("nosuchcommand-palisade");
        assert_eq!(
            audit.output,
            "/bin/sh: 1: nosuchcommand-palisade: not found\n"
        );
        assert_eq!(audit.exit_status, Some(127));
    }

    #[test]
    fn a_hanging_script_is_killed_with_its_children() {
        let runner = runner(RunnerOptions {
            timeout: Duration::from_millis(300),
            ..RunnerOptions::default()
        });
        let started = Instant::now();
        // The background sleep holds the pipe open: only killing the group ends the read.
        let audit = runner.run("echo begun; sleep 100 & sleep 100");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(audit.output, "begun\n");
        assert_eq!(audit.exit_status, None);
        assert_eq!(audit.error.as_deref(), Some("timed out after 300ms"));
    }

    #[test]
    fn signals_are_recorded_as_go_prints_them() {
        let runner = runner(RunnerOptions::default());
        let audit = runner.run("kill -s TERM $$");
        assert_eq!(
            (audit.exit_status, audit.error.as_deref()),
            (None, Some("signal: terminated"))
        );
    }

    #[test]
    fn output_past_the_limit_is_cut_and_the_script_stopped() {
        let runner = runner(RunnerOptions {
            output_limit: 1000,
            ..RunnerOptions::default()
        });
        let started = Instant::now();
        let audit = runner.run("yes");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(audit.output.len(), 1000);
        assert_eq!(audit.error.as_deref(), Some("output cut at 1000 bytes"));
    }

    #[test]
    fn scripts_run_in_parallel_in_order() {
        let runner = runner(RunnerOptions {
            jobs: 4,
            ..RunnerOptions::default()
        });
        let scripts: Vec<String> = (0..8).map(|n| format!("sleep 0.2; echo {n}")).collect();
        let started = Instant::now();
        let audits = runner.run_all(&scripts);
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        let outputs: Vec<&str> = audits.iter().map(|audit| audit.output.as_str()).collect();
        assert_eq!(
            outputs,
            ["0\n", "1\n", "2\n", "3\n", "4\n", "5\n", "6\n", "7\n"]
        );
    }

    #[test]
    fn process_listings_see_no_other_audit() {
        let runner = runner(RunnerOptions {
            jobs: 4,
            ..RunnerOptions::default()
        });
        let marker = format!("palisade-marker-{}", std::process::id());
        let scripts = vec![
            format!("/bin/sh -c 'sleep 0.3; echo {marker}'"),
            format!("ps -ef | grep {marker} | grep -v grep"),
            format!("/bin/sh -c 'sleep 0.3; echo {marker} again'"),
        ];
        let audits = runner.run_all(&scripts);
        assert_eq!(audits[0].output, format!("{marker}\n"));
        assert_eq!(audits[1].output, "");
        assert_eq!(audits[1].exit_status, Some(1));
        assert!(lists_processes("/bin/ps -fC kubelet"));
        assert!(lists_processes("x=$(ps -ef | grep a)"));
        assert!(lists_processes("cat \"/proc/$(pidof etcd)/environ\""));
        assert!(lists_processes("pgrep -f etcd"));
        assert!(!lists_processes(
            "stat -c %a /etc/kubernetes/pki/apiserver-kubelet-client.crt"
        ));
        assert!(!lists_processes("psql -c 1; echo ps_x; ls /ps"));
    }

    #[test]
    fn durations_and_signals_read_as_in_go() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_signal_error(ExitStatus::from_raw(9)), "signal: killed");
        assert_eq!(
            go_signal_error(ExitStatus::from_raw(11 | 0x80)),
            "signal: segmentation fault (core dumped)"
        );
    }
}

//! `--root DIR`: audit scripts read the node's files under DIR, while the process list and
//! `/proc` stay this machine's. The recorded command is kube-bench's text; only what `/bin/sh`
//! executes is adapted, in three ways:
//!
//! 1. **Path arguments are mapped at run time.** A host path is an absolute path under one of
//!    [`HOST_DIRS`] (`/etc`, `/var`, `/lib`, `/usr/lib`, ...; never `/bin`, `/usr/bin`, `/proc`,
//!    `/dev`, `/sys` or `/tmp`), not already under DIR; it becomes DIR + path. Mapping happens
//!    when a command receives its arguments, so paths known only at run time (a
//!    `--data-dir` cut out of `ps` output with sed, then `test -d "$d"`; `find {}` fed by
//!    xargs; `grep ... $FILE`) land under DIR like literal ones:
//!    - shell functions replace the builtins `test`, `[` (through an alias, `[` being no valid
//!      function name) and `cd`; a preamble line sourcing them is put before the script, so
//!      the shell's error messages count one line more than kube-bench's;
//!    - shim scripts first on `PATH` stand for the commands that read files ([`SHIMS`]): they
//!      map their arguments and exec the real command. For commands whose first operand is a
//!      pattern or program (grep, sed, awk, jq, yq), that operand is left alone, as are the
//!      values of their pattern options (`-e`);
//!    - `sh -c SCRIPT` runs SCRIPT with the same preamble (its shim), so nested
//!      `/bin/sh -c '…'` audits are mapped too.
//! 2. **Absolute invocations are redirected to the shims:** `/bin/cat`, `/usr/bin/grep`,
//!    `/bin/sh`, ... (the [`SHIMS`] names) become the shim's path in the executed text.
//! 3. **Output is mapped back:** every `DIR/` in the output reads `/`, so `find` and
//!    `stat -c %n` print host paths, as on the node.
//!
//! Limits: redirections (`< /etc/x`) and commands outside [`SHIMS`] read the real path;
//! a symlink under DIR whose target is absolute resolves on this machine; `sh` options other
//! than a leading `-c` run unmapped; owner names come from this machine's user database (as
//! kube-bench's container reads the host's when it is mounted); output mentioning DIR for
//! another reason loses that prefix too; a shim shows in process listings while it runs
//! (`/bin/sh …/shims/path/grep kube-apiserver`, which `grep -v grep` drops as it drops the real
//! `grep`).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// First components (or two) of the paths that belong to the node's file system.
const HOST_DIRS: &[&str] = &[
    "/etc",
    "/var",
    "/lib",
    "/opt",
    "/srv",
    "/run",
    "/snap",
    "/home",
    "/root",
    "/mnt",
    "/system",
    "/node",
    "/usr/lib",
    "/usr/local/lib",
    "/usr/local/etc",
    "/usr/libexec",
    "/usr/share",
];

/// How a shimmed command takes its arguments.
#[derive(Clone, Copy)]
enum Arguments {
    /// Every host path argument is a file.
    Files,
    /// The first operand is a pattern or a program, unless a pattern or file option gave it;
    /// option values are never mapped.
    ProgramFirst {
        /// Options whose next argument is the pattern or program.
        pattern: &'static [&'static str],
        /// Options whose next argument is a file holding it (mapped).
        file: &'static [&'static str],
        /// Options followed by one value.
        value: &'static [&'static str],
        /// Options followed by two values (jq's `--arg NAME VALUE`).
        pair: &'static [&'static str],
    },
}

const NONE: &[&str] = &[];

/// The commands that get a shim. `test` and `[` are here for `xargs` and `find -exec`, which
/// run them from `PATH`; the shell's own are replaced by functions.
const SHIMS: &[(&str, Arguments)] = &[
    ("cat", Arguments::Files),
    ("stat", Arguments::Files),
    ("find", Arguments::Files),
    ("ls", Arguments::Files),
    ("head", Arguments::Files),
    ("tail", Arguments::Files),
    ("wc", Arguments::Files),
    ("sort", Arguments::Files),
    ("uniq", Arguments::Files),
    ("cut", Arguments::Files),
    ("diff", Arguments::Files),
    ("du", Arguments::Files),
    ("readlink", Arguments::Files),
    ("realpath", Arguments::Files),
    ("md5sum", Arguments::Files),
    ("sha256sum", Arguments::Files),
    ("openssl", Arguments::Files),
    ("test", Arguments::Files),
    ("[", Arguments::Files),
    (
        "grep",
        Arguments::ProgramFirst {
            pattern: &["-e", "--regexp"],
            file: &["-f", "--file"],
            value: &[
                "-A",
                "-B",
                "-C",
                "-m",
                "-d",
                "-D",
                "--context",
                "--max-count",
                "--label",
            ],
            pair: NONE,
        },
    ),
    (
        "sed",
        Arguments::ProgramFirst {
            pattern: &["-e", "--expression"],
            file: &["-f", "--file"],
            value: &["-l", "--line-length"],
            pair: NONE,
        },
    ),
    (
        "awk",
        Arguments::ProgramFirst {
            pattern: &["-e", "--source"],
            file: &["-f", "--file"],
            value: &["-v", "-F", "--assign", "--field-separator"],
            pair: NONE,
        },
    ),
    (
        "jq",
        Arguments::ProgramFirst {
            pattern: NONE,
            file: &["-f", "--from-file"],
            value: &["--indent"],
            pair: &["--arg", "--argjson", "--slurpfile", "--rawfile"],
        },
    ),
    (
        "yq",
        Arguments::ProgramFirst {
            pattern: NONE,
            file: &["--from-file"],
            value: &["-o", "--output-format", "-I", "--indent"],
            pair: NONE,
        },
    ),
];

/// The installed shims of one `--root`.
#[derive(Debug)]
pub(super) struct RootMap {
    dir: PathBuf,
    /// `dir` as text followed by `/`, as it appears in output.
    prefix: String,
    preamble: PathBuf,
    /// Holds a shim at `absolute/bin/cat` for each absolute command path redirected.
    absolute: PathBuf,
    /// The absolute command paths that have a shim (`/bin/cat`, `/usr/bin/grep`, ...).
    redirected: Vec<String>,
    path: OsString,
}

impl RootMap {
    /// Writes the preamble and shims for canonical `dir` into the new directory `shims`.
    ///
    /// A shim runs its command as the script named it, so messages carry the same program
    /// name as on the node: `shims/absolute/bin/cat` execs `/bin/cat`; `shims/path/cat`, first
    /// on `PATH`, execs `cat` found on the original `PATH` (which the command then inherits:
    /// none of the shimmed commands but `sh` starts further commands by name).
    pub(super) fn install(dir: &Path, shims: &Path) -> std::io::Result<RootMap> {
        let original = std::env::var_os("PATH").unwrap_or_default();
        let search: Vec<PathBuf> = std::env::split_paths(&original).collect();
        let dir_text = dir.to_string_lossy().into_owned();
        let (on_path, absolute) = (shims.join("path"), shims.join("absolute"));
        for directory in [&on_path, &absolute.join("bin"), &absolute.join("usr/bin")] {
            std::fs::create_dir_all(directory)?;
        }
        let preamble = shims.join("map.sh");
        std::fs::write(&preamble, preamble_text(&dir_text))?;
        let write_shim = |path: PathBuf, text: String| -> std::io::Result<()> {
            std::fs::write(&path, text)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        };
        let mut redirected = Vec::new();
        // `sh` keeps the shims' PATH for the scripts it runs, so it must name /bin/sh itself.
        write_shim(on_path.join("sh"), sh_shim(&preamble))?;
        write_shim(absolute.join("bin/sh"), sh_shim(&preamble))?;
        redirected.push("/bin/sh".to_owned());
        let restore_path = format!("PATH={}", quote(&original.to_string_lossy()));
        for (name, arguments) in SHIMS {
            if is_executable(&search.iter().map(|dir| dir.join(name)).collect::<Vec<_>>()) {
                let run = format!("{restore_path}\nexec {name} \"$@\"");
                write_shim(
                    on_path.join(name),
                    command_shim(&preamble, *arguments, &run),
                )?;
            }
            for command in [format!("/bin/{name}"), format!("/usr/bin/{name}")] {
                if is_executable(&[PathBuf::from(&command)]) {
                    let run = format!("exec {command} \"$@\"");
                    write_shim(
                        absolute.join(&command[1..]),
                        command_shim(&preamble, *arguments, &run),
                    )?;
                    redirected.push(command);
                }
            }
        }
        let mut path = vec![on_path];
        path.extend(search);
        Ok(RootMap {
            prefix: format!("{dir_text}/"),
            dir: dir.to_owned(),
            preamble,
            absolute,
            redirected,
            path: std::env::join_paths(path).map_err(std::io::Error::other)?,
        })
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// `PATH` for the scripts: the shims first.
    pub(super) fn search_path(&self) -> &OsString {
        &self.path
    }

    /// The text `/bin/sh` executes for `script`.
    pub(super) fn script(&self, script: &str) -> String {
        format!(
            ". {}\n{}",
            self.preamble.display(),
            redirect_invocations(script, &self.absolute, &self.redirected)
        )
    }

    /// `output` with the root's paths read as the node's.
    pub(super) fn unmap_output(&self, output: &str) -> String {
        output.replace(&self.prefix, "/")
    }
}

/// Whether `text` can be written into a shell script without quotes.
pub(super) fn is_shell_safe(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/._-+,".contains(&byte))
}

/// `text` in single quotes for the shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The case pattern matching host paths.
fn host_pattern() -> String {
    HOST_DIRS
        .iter()
        .map(|dir| format!("{dir}|{dir}/*"))
        .collect::<Vec<_>>()
        .join("|")
}

/// Shell code that maps every argument of the current function or script in place.
const MAP_ALL: &str = "for __palisade_arg do shift; __palisade_map \"$__palisade_arg\"; set -- \"$@\" \"$__palisade_mapped\"; done";

/// The functions sourced before every script (and by every shim).
fn preamble_text(dir: &str) -> String {
    format!(
        "# palisade node --root: maps host paths under the root (see runner/root.rs)\n\
         __palisade_root={root}\n\
         __palisade_map() {{\n\
         \x20 case $1 in\n\
         \x20   \"$__palisade_root\"|\"$__palisade_root\"/*) __palisade_mapped=$1 ;;\n\
         \x20   {host}) __palisade_mapped=$__palisade_root$1 ;;\n\
         \x20   *) __palisade_mapped=$1 ;;\n\
         \x20 esac\n\
         }}\n\
         test() {{ {MAP_ALL}; command test \"$@\"; }}\n\
         __palisade_bracket() {{ {MAP_ALL}; command [ \"$@\"; }}\n\
         cd() {{ {MAP_ALL}; command cd \"$@\"; }}\n\
         alias [=__palisade_bracket\n",
        root = quote(dir),
        host = host_pattern(),
    )
}

/// `sh -c SCRIPT ...` runs SCRIPT after the preamble; anything else runs as given.
fn sh_shim(preamble: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         case $1 in\n\
         \x20 -c)\n\
         \x20   __palisade_script=$2\n\
         \x20   shift 2\n\
         \x20   exec /bin/sh -c \". {preamble}\n$__palisade_script\" \"$@\" ;;\n\
         esac\n\
         exec /bin/sh \"$@\"\n",
        preamble = preamble.display(),
    )
}

/// A shim that maps its arguments as `arguments` says, then runs `run` (which execs the real
/// command with `"$@"`).
fn command_shim(preamble: &Path, arguments: Arguments, run: &str) -> String {
    let mut text = format!("#!/bin/sh\n. {}\n", preamble.display());
    match arguments {
        Arguments::Files => {
            text.push_str(MAP_ALL);
            text.push('\n');
        }
        Arguments::ProgramFirst {
            pattern,
            file,
            value,
            pair,
        } => {
            let cases = |options: &[&str]| {
                if options.is_empty() {
                    "__palisade_none".to_owned()
                } else {
                    options.join("|")
                }
            };
            let attached = |options: &[&str]| {
                options
                    .iter()
                    .map(|option| {
                        if option.starts_with("--") {
                            format!("{option}=*")
                        } else {
                            format!("{option}?*")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            };
            // States: the program is `pending` until an operand or a pattern/file option gives
            // it; `skip` counts option values still to pass over unmapped.
            let _ = write!(
                text,
                "__palisade_program=pending\n\
                 __palisade_skip=0\n\
                 __palisade_operands=\n\
                 for __palisade_arg do\n\
                 \x20 shift\n\
                 \x20 case $__palisade_skip in\n\
                 \x20   2) __palisade_skip=1; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20   1) __palisade_skip=0; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20 esac\n\
                 \x20 case $__palisade_operands$__palisade_arg in\n\
                 \x20   --) __palisade_operands=1; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20   {pattern}) __palisade_program=given; __palisade_skip=1; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20   {pattern_attached}) __palisade_program=given; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20   {file}) __palisade_program=given; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20   {value}) __palisade_skip=1; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20   {pair}) __palisade_skip=2; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20   -?*) set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20 esac\n\
                 \x20 case $__palisade_program in\n\
                 \x20   pending) __palisade_program=given; set -- \"$@\" \"$__palisade_arg\"; continue ;;\n\
                 \x20 esac\n\
                 \x20 __palisade_map \"$__palisade_arg\"\n\
                 \x20 set -- \"$@\" \"$__palisade_mapped\"\n\
                 done\n",
                pattern = cases(pattern),
                pattern_attached = if pattern.is_empty() {
                    "__palisade_none".to_owned()
                } else {
                    attached(pattern)
                },
                file = cases(file),
                value = cases(value),
                pair = cases(pair),
            );
        }
    }
    text.push_str(run);
    text.push('\n');
    text
}

/// Whether one of `paths` is an executable file.
fn is_executable(paths: &[PathBuf]) -> bool {
    paths.iter().any(|path| {
        std::fs::metadata(path)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

/// `script` with the invocations of `commands` (absolute paths) pointed at their shims under
/// `absolute`. An invocation is the path as a whole word: after the start, white space or a
/// shell operator or quote, and before the end, white space or one of them.
fn redirect_invocations(script: &str, absolute: &Path, commands: &[String]) -> String {
    const BEFORE: &[u8] = b" \t\n;|&(`'\"{!";
    const AFTER: &[u8] = b" \t\n;|&)`'\"}<>";
    let bytes = script.as_bytes();
    let mut out = String::with_capacity(script.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let boundary = bytes[at] == b'/' && (at == 0 || BEFORE.contains(&bytes[at - 1]));
        let found = boundary
            .then(|| {
                commands.iter().find(|command| {
                    script[at..]
                        .strip_prefix(command.as_str())
                        .is_some_and(|after| {
                            after
                                .bytes()
                                .next()
                                .is_none_or(|next| AFTER.contains(&next))
                        })
                })
            })
            .flatten();
        match found {
            Some(command) => {
                out.push_str(&script[copied..at]);
                out.push_str(&absolute.to_string_lossy());
                out.push_str(command);
                at += command.len();
                copied = at;
            }
            None => at += 1,
        }
    }
    out.push_str(&script[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_invocations_of_shimmed_commands_are_redirected() {
        let commands = ["/bin/cat", "/usr/bin/cat", "/bin/grep", "/bin/sh"].map(str::to_owned);
        let rewrite = |script: &str| redirect_invocations(script, Path::new("/s"), &commands);
        assert_eq!(rewrite("/bin/cat /etc/x"), "/s/bin/cat /etc/x");
        assert_eq!(
            rewrite("/bin/ps -ef | /bin/grep etcd | /bin/grep -v grep"),
            "/bin/ps -ef | /s/bin/grep etcd | /s/bin/grep -v grep"
        );
        assert_eq!(
            rewrite("/bin/sh -c 'if test -e /a; then /usr/bin/cat /a; fi'"),
            "/s/bin/sh -c 'if test -e /a; then /s/usr/bin/cat /a; fi'"
        );
        assert_eq!(rewrite("x=$(/bin/cat f)"), "x=$(/s/bin/cat f)");
        // Not whole words: left alone.
        assert_eq!(
            rewrite("/bin/catalog /opt/bin/cat a/bin/cat /bin/shell"),
            "/bin/catalog /opt/bin/cat a/bin/cat /bin/shell"
        );
    }

    #[test]
    fn shell_safety_and_quoting() {
        assert!(is_shell_safe("/tmp/palisade-node-1-2"));
        assert!(!is_shell_safe("/tmp/a b"));
        assert!(!is_shell_safe("/tmp/$x"));
        assert_eq!(quote("/a'b"), r"'/a'\''b'");
    }

    /// kube-bench's audit shapes (cis-1.12 and cis-1.20 master, node and etcd files, variables
    /// substituted) against a root holding a few of the files.
    mod audits {
        use std::os::unix::fs::PermissionsExt;
        use std::path::Path;

        use crate::runner::{Runner, RunnerOptions};

        fn file(root: &Path, path: &str, mode: u32, text: &str) {
            let path = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }

        fn node() -> (tempfile::TempDir, Runner) {
            let root = tempfile::tempdir().unwrap();
            let dir = root.path();
            file(
                dir,
                "/etc/kubernetes/manifests/kube-apiserver.yaml",
                0o600,
                "kind: Pod\n",
            );
            file(
                dir,
                "/etc/kubernetes/manifests/etcd.yaml",
                0o644,
                "kind: Pod\n",
            );
            file(dir, "/etc/kubernetes/admin.conf", 0o600, "kind: Config\n");
            file(
                dir,
                "/etc/kubernetes/super-admin.conf",
                0o640,
                "kind: Config\n",
            );
            file(dir, "/etc/kubernetes/pki/ca.crt", 0o644, "crt\n");
            file(dir, "/etc/kubernetes/pki/ca.key", 0o600, "key\n");
            file(dir, "/etc/kubernetes/pki/etcd/server.crt", 0o600, "crt\n");
            file(
                dir,
                "/var/lib/kubelet/config.yaml",
                0o644,
                "kind: KubeletConfiguration\nreadOnlyPort: 0\n",
            );
            file(
                dir,
                "/etc/kubernetes/enc.yaml",
                0o600,
                "resources:\n  - providers:\n    - aescbc:\n        keys: []\n",
            );
            std::fs::create_dir_all(dir.join("var/lib/etcd/default.etcd")).unwrap();
            std::fs::set_permissions(
                dir.join("var/lib/etcd/default.etcd"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
            let runner = Runner::new(RunnerOptions {
                root: Some(dir.to_owned()),
                ..RunnerOptions::default()
            })
            .unwrap();
            (root, runner)
        }

        fn output(runner: &Runner, script: &str) -> String {
            let audit = runner.run(script);
            assert_eq!(audit.error, None, "{script}: {audit:?}");
            audit.output
        }

        #[test]
        fn file_audits_read_under_the_root() {
            let (_root, runner) = node();
            let run = |script: &str| output(&runner, script);
            assert_eq!(
                run(
                    "/bin/sh -c 'if test -e /etc/kubernetes/manifests/kube-apiserver.yaml; then stat -c permissions=%a /etc/kubernetes/manifests/kube-apiserver.yaml; fi'"
                ),
                "permissions=600\n"
            );
            // Missing under the root though present on this machine.
            assert_eq!(
                run(
                    "/bin/sh -c 'if test -e /etc/passwd; then stat -c permissions=%a /etc/passwd; fi'"
                ),
                ""
            );
            assert_eq!(
                run(
                    "/bin/sh -c 'if test -e /etc/kubernetes/manifests/etcd.yaml; then find /etc/kubernetes/manifests/etcd.yaml -name '*etcd*' | xargs stat -c permissions=%a; fi'"
                ),
                "permissions=644\n"
            );
            assert_eq!(
                run(
                    "for adminconf in /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf; do if test -e $adminconf; then stat -c \"permissions=%a %n\" $adminconf; fi; done"
                ),
                "permissions=600 /etc/kubernetes/admin.conf\npermissions=640 /etc/kubernetes/super-admin.conf\n"
            );
            let mut crts: Vec<String> =
                run("find /etc/kubernetes/pki/ -name '*.crt' | xargs stat -c permissions=%a")
                    .lines()
                    .map(str::to_owned)
                    .collect();
            crts.sort();
            assert_eq!(crts, ["permissions=600", "permissions=644"]);
            assert_eq!(
                run("find /etc/kubernetes/pki/ -name '*.key' | xargs stat -c permissions=%a"),
                "permissions=600\n"
            );
            assert_eq!(
                run("find /etc/kubernetes/pki/ | xargs stat -c %n | sort | head -2"),
                "/etc/kubernetes/pki/\n/etc/kubernetes/pki/ca.crt\n"
            );
            assert_eq!(
                run("/bin/cat /var/lib/kubelet/config.yaml"),
                "kind: KubeletConfiguration\nreadOnlyPort: 0\n"
            );
            assert_eq!(
                run(
                    "/bin/sh -c \"if test -e /etc/systemd/system/kubelet.service.d/10-kubeadm.conf; then stat -c %U:%G /etc/systemd/system/kubelet.service.d/10-kubeadm.conf; else echo \\\"File not found\\\"; fi\""
                ),
                "File not found\n"
            );
        }

        #[test]
        fn paths_known_only_at_run_time_are_mapped() {
            let (_root, runner) = node();
            let run = |script: &str| output(&runner, script);
            // 1.1.11's shape: a directory cut out of a command's output, then tested and statted.
            let data_dir = "DATA_DIR=''\n\
                for d in $(echo 'etcd --data-dir=/var/lib/etcd/default.etcd' | sed 's%.*data-dir[= ]\\([^ ]*\\).*%\\1%'); do\n  \
                  if test -d \"$d\"; then DATA_DIR=\"$d\"; fi\n\
                done\n\
                if ! test -d \"$DATA_DIR\"; then DATA_DIR=/var/lib/etcd/default.etcd; fi\n\
                stat -c permissions=%a \"$DATA_DIR\"";
            assert_eq!(run(data_dir), "permissions=700\n");
            // 1.2.28's shape: grep's pattern stays, its file is mapped.
            let providers = "ENCRYPTION_PROVIDER_CONFIG=$(echo 'kube-apiserver --encryption-provider-config=/etc/kubernetes/enc.yaml' | grep -- --encryption-provider-config | sed 's%.*encryption-provider-config[= ]\\([^ ]*\\).*%\\1%')\n\
                if test -e $ENCRYPTION_PROVIDER_CONFIG; then grep -A1 'providers:' $ENCRYPTION_PROVIDER_CONFIG | tail -n1 | grep -o \"[A-Za-z]*\" | sed 's/^/provider=/'; fi";
            assert_eq!(run(providers), "provider=aescbc\n");
            // 4.1.7's shape: no --client-ca-file on any command line, so the default CA file.
            let cafile = "CAFILE=$(echo kubelet | grep -- --client-ca-file= | awk -F '--client-ca-file=' '{print $2}' | awk '{print $1}' | uniq)\n\
                if test -z $CAFILE; then CAFILE=/etc/kubernetes/pki/ca.crt; fi\n\
                if test -e $CAFILE; then stat -c permissions=%a $CAFILE; fi";
            assert_eq!(run(cafile), "permissions=644\n");
            assert_eq!(
                run("[ -e /etc/kubernetes/admin.conf ] && echo yes; [ -e /etc/passwd ] || echo no"),
                "yes\nno\n"
            );
            assert_eq!(
                run("cd /etc/kubernetes && ls -d pki && pwd"),
                "pki\n/etc/kubernetes\n"
            );
            assert_eq!(
                run("echo /etc/kubernetes/pki/ca.crt | xargs -I{} find {} -type f"),
                "/etc/kubernetes/pki/ca.crt\n"
            );
        }

        #[test]
        fn errors_name_host_paths_and_system_paths_stay_real() {
            let (_root, runner) = node();
            let audit = runner.run("/bin/cat /etc/kubernetes/kubelet.conf");
            assert_eq!(
                audit.output,
                "/bin/cat: /etc/kubernetes/kubelet.conf: No such file or directory\n"
            );
            assert_eq!(audit.exit_status, Some(1));
            // /proc, /dev and patterns are this machine's.
            assert_eq!(
                output(
                    &runner,
                    "test -e /proc/self/environ && echo proc; test -e /dev/null && echo dev"
                ),
                "proc\ndev\n"
            );
            assert_eq!(output(&runner, "echo /etc/x | grep /etc/x"), "/etc/x\n");
            let audit = runner.run("stat -c %a /etc/kubernetes/kubelet.conf");
            assert_eq!(
                audit.output,
                "stat: cannot statx '/etc/kubernetes/kubelet.conf': No such file or directory\n"
            );
            assert_eq!(
                output(&runner, "echo a/etc/b | sed -e 's%/etc/%-%'"),
                "a-b\n"
            );
            // Line numbers of the shell's own messages count the preamble line.
            assert_eq!(
                runner.run("nosuch-palisade").output,
                "/bin/sh: 2: nosuch-palisade: not found\n"
            );
        }
    }
}

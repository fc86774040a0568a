//! Which component binaries run, as kube-bench's verifyBin finds out (cmd/util.go): for a
//! candidate such as `hyperkube apiserver`, `ps -C hyperkube -o cmd --no-headers` lists the
//! command lines of the processes named `hyperkube`, and the candidate runs when one line
//! matches `^(\S*/)*hyperkube apiserver` (the candidate first, perhaps after a directory).
//!
//! The process table is read from `/proc` once instead of running `ps` per candidate: a
//! process's name is its kernel `comm` (at most 15 bytes), which procps' `-C NAME` compares
//! with the first 15 bytes of NAME; its command line is its arguments joined by spaces, or
//! `[comm]` when it has none, as `ps -o cmd` prints them.

use std::path::Path;

/// One process of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    /// The kernel's name for it (`/proc/<pid>/comm`).
    pub comm: String,
    /// As `ps -o cmd` prints it.
    pub command_line: String,
}

/// The processes of the machine at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessTable {
    processes: Vec<Process>,
}

/// The longest process name the kernel keeps.
const COMM_LENGTH: usize = 15;

impl ProcessTable {
    /// Reads `/proc`; processes that exit meanwhile are left out.
    pub fn read() -> ProcessTable {
        Self::read_from(Path::new("/proc"))
    }

    fn read_from(proc: &Path) -> ProcessTable {
        let mut processes: Vec<Process> = std::fs::read_dir(proc)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                read_process(&entry.path(), pid)
            })
            .collect();
        processes.sort_by_key(|process| process.pid);
        ProcessTable { processes }
    }

    pub fn from_processes(processes: Vec<Process>) -> ProcessTable {
        ProcessTable { processes }
    }

    /// The first process whose command line shows `candidate` running, as verifyBin decides
    /// (quotes around the candidate are ignored).
    pub fn find(&self, candidate: &str) -> Option<&Process> {
        let candidate = candidate.trim_matches(['\'', '"']);
        let name = candidate.split_whitespace().next()?;
        let name = &name.as_bytes()[..name.len().min(COMM_LENGTH)];
        // Go's \S is ASCII: anything but tab, newline, form feed, carriage return and space.
        let first_word = regex::Regex::new(&format!(r"^([^\t\n\x0C\r ]*/)*{candidate}")).ok()?;
        self.processes.iter().find(|process| {
            process.comm.as_bytes() == name && first_word.is_match(&process.command_line)
        })
    }

    /// The first of `candidates` that runs, with its process.
    pub fn first_running<'c>(&self, candidates: &'c [String]) -> Option<(&'c str, &Process)> {
        candidates
            .iter()
            .find_map(|candidate| Some((candidate.as_str(), self.find(candidate)?)))
    }
}

fn read_process(dir: &Path, pid: u32) -> Option<Process> {
    let comm = std::fs::read(dir.join("comm")).ok()?;
    let comm = String::from_utf8_lossy(comm.strip_suffix(b"\n").unwrap_or(&comm)).into_owned();
    let arguments = std::fs::read(dir.join("cmdline")).unwrap_or_default();
    let command_line = if arguments.is_empty() {
        format!("[{comm}]")
    } else {
        printable_command_line(&arguments)
    };
    Some(Process {
        pid,
        comm,
        command_line,
    })
}

/// The NUL-separated arguments joined by spaces, control characters shown as `?` as procps
/// shows them.
fn printable_command_line(arguments: &[u8]) -> String {
    let arguments = arguments.strip_suffix(b"\0").unwrap_or(arguments);
    String::from_utf8_lossy(arguments)
        .chars()
        .map(|c| match c {
            '\0' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(processes: &[(&str, &str)]) -> ProcessTable {
        ProcessTable::from_processes(
            processes
                .iter()
                .enumerate()
                .map(|(pid, (comm, command_line))| Process {
                    pid: pid as u32 + 1,
                    comm: (*comm).to_owned(),
                    command_line: (*command_line).to_owned(),
                })
                .collect(),
        )
    }

    #[test]
    fn candidates_match_as_verify_bin_matches_them() {
        let table = table(&[
            (
                "kube-apiserver",
                "kube-apiserver --advertise-address=10.0.0.1",
            ),
            (
                "kube-controller",
                "/usr/local/bin/kube-controller-manager --profiling=false",
            ),
            (
                "hyperkube",
                "/hyperkube kubelet --config=/var/lib/kubelet/config.yaml",
            ),
            ("sh", "sh -c kube-scheduler"),
        ]);
        assert_eq!(table.find("kube-apiserver").map(|p| p.pid), Some(1));
        // `ps -C apiserver` selects no process named kube-apiserver.
        assert_eq!(table.find("apiserver"), None);
        // Names are compared on the kernel's 15 bytes; the command line shows the whole name.
        assert_eq!(
            table.find("kube-controller-manager").map(|p| p.pid),
            Some(2)
        );
        assert_eq!(table.find("kube-controller").map(|p| p.pid), Some(2));
        assert_eq!(table.find("hyperkube kubelet").map(|p| p.pid), Some(3));
        assert_eq!(table.find("'hyperkube kubelet'").map(|p| p.pid), Some(3));
        assert_eq!(table.find("hyperkube apiserver"), None);
        assert_eq!(table.find("kube-scheduler"), None);
        assert_eq!(table.find(""), None);
        let candidates = ["hyperkube kubelet".to_owned(), "kubelet".to_owned()];
        assert_eq!(
            table.first_running(&candidates).map(|(c, p)| (c, p.pid)),
            Some(("hyperkube kubelet", 3))
        );
    }

    #[test]
    fn this_process_is_in_the_table() {
        let table = ProcessTable::read();
        let me = table
            .processes
            .iter()
            .find(|p| p.pid == std::process::id())
            .expect("own process");
        assert!(me.command_line.contains("palisade_node"), "{me:?}");
        assert!(me.comm.len() <= COMM_LENGTH);
    }

    #[test]
    fn command_lines_print_as_ps_prints_them() {
        assert_eq!(
            printable_command_line(b"kubelet\0--v=2\0a\tb\0"),
            "kubelet --v=2 a?b"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("comm"), "kthreadd\n").unwrap();
        std::fs::write(dir.path().join("cmdline"), "").unwrap();
        let process = read_process(dir.path(), 2).unwrap();
        assert_eq!(
            (process.comm.as_str(), process.command_line.as_str()),
            ("kthreadd", "[kthreadd]")
        );
    }
}

//! The `palisade` binary: argument parsing and wiring only; the work lives in the library crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

// Parsing builds many small nodes; mimalloc makes those allocations markedly cheaper than the
// system allocator (see bench/scan.py).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc asks for transparent huge pages on its arenas, so with THP enabled (or on
/// `madvise`, the usual default) memory is backed and counted in 2 MiB pages. A scan frees and
/// reuses memory at a high rate, and the kernel zeroes a whole 2 MiB page on every first touch
/// after a purge: on the 100k-object benchmark that was gigabytes of zeroing, a third of the CPU
/// time (THP off: 4x less system time). A server's threads each keep a few pages in use, and
/// each one held 2 MiB: `serve audit` under `bench/audit.py --serve` peaked at 53-66 MiB with
/// THP and 29-31 MiB without, at the same rate. Every command runs without them.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and only sets a flag of this
    // process; its result is ignored because THP are a performance matter, never a correctness one.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// regorus reports a Rego built-in's refused argument (often, and harmlessly: the expression is
/// then undefined) as an `anyhow` error, which captures a backtrace whenever `RUST_BACKTRACE` is
/// set, as many CI systems set it: a quarter of a Gatekeeper scan's time went to unwinding.
/// Library backtraces are turned off unless asked for by name; panics keep theirs.
fn without_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: called first thing in `main`, before any thread exists to read the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
}

#[derive(Parser, Debug)]
#[command(name = "palisade", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Detect threats in Kubernetes audit events with Falco's rules (files, stdin, --follow a log).
    Audit(commands::audit::AuditArgs),
    /// Run a server: `serve admission` (validating webhook), `serve audit` (audit webhook).
    Serve(commands::serve::ServeArgs),
    /// Scan Kubernetes manifests (files, directories, `-` for stdin) for misconfiguration.
    Scan(commands::scan::ScanArgs),
    /// List every built-in rule, optionally only those mapped to a framework.
    Rules(commands::rules::RulesArgs),
    /// Print a rule's documentation: what it checks, why, how to fix it, an example.
    Explain(commands::explain::ExplainArgs),
    /// RBAC queries: who can do something, and what a subject can do.
    Rbac(commands::rbac::RbacArgs),
    /// NetworkPolicy queries: reachability, the matrix, what a default-deny would cut.
    Netpol(commands::netpol::NetpolArgs),
    /// The CIS Kubernetes Benchmark on a node, from kube-bench's control files: collect, check.
    Node(commands::node::NodeArgs),
    /// What is installed in an image, root filesystem or project, as a CycloneDX or SPDX SBOM.
    Sbom(commands::sbom::SbomArgs),
    /// Known vulnerabilities in images, root filesystems, projects, lockfiles and SBOMs, from
    /// OSV advisories.
    Vuln(commands::vuln::VulnArgs),
    /// Leaked credentials in files, git history, images and root filesystems, with gitleaks'
    /// rules.
    Secrets(commands::secrets::SecretsArgs),
    /// Policy tools: `policy test` runs gator test suites with Palisade's Gatekeeper engine.
    Policy(commands::policy::PolicyArgs),
    /// The vulnerability database: update (download OSV's exports), import, status.
    Db(commands::db::DbArgs),
    /// Generate a CA and a serving certificate for the webhook's Service; prints the caBundle.
    Certs(commands::certs::CertsArgs),
}

fn main() -> ExitCode {
    without_library_backtraces();
    without_transparent_huge_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => commands::audit::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Scan(args) => commands::scan::run(args),
        Command::Rules(args) => commands::rules::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Rbac(args) => commands::rbac::run(args),
        Command::Netpol(args) => commands::netpol::run(args),
        Command::Node(args) => commands::node::run(args),
        Command::Sbom(args) => commands::sbom::run(args),
        Command::Vuln(args) => commands::vuln::run(args),
        Command::Secrets(args) => commands::secrets::run(args),
        Command::Policy(args) => commands::policy::run(args),
        Command::Db(args) => commands::db::run(args),
        Command::Certs(args) => commands::certs::run(args),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    })
}

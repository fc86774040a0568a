//! One module per subcommand: each exposes its clap `Args` and a `run` function.

pub mod audit;
pub mod certs;
pub mod db;
pub mod cluster;
pub mod explain;
pub mod netpol;
pub mod node;
pub mod output;
pub mod policy;
pub mod rbac;
pub mod rules;
pub mod sbom;
pub mod secrets;
pub mod scan;
pub mod serve;
pub mod serve_admission;
pub mod serve_audit;
pub mod vuln;

/// `mi_option_purge_delay` in mimalloc.h (v2 and v3), which libmimalloc-sys does not name.
const MIMALLOC_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Pages mimalloc frees go back to the system at once instead of after its 10 ms delay: for
/// the commands whose memory is a bound users plan for (`serve audit`, `scan --cluster`), at
/// the cost of a few percent of time.
pub(crate) fn release_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's global options, which it reads atomically; no pointer.
    unsafe { libmimalloc_sys::mi_option_set(MIMALLOC_PURGE_DELAY, 0) };
}

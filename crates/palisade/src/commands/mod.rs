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

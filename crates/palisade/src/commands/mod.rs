//! One module per subcommand: each exposes its clap `Args` and a `run` function.

pub mod rules;

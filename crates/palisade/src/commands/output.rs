//! Where a report goes: `--output FILE`, else standard output, buffered; colour only on a
//! terminal and without `NO_COLOR`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

/// Runs `write` on the destination with whether colour is wanted there, then flushes.
pub fn write_to(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write, bool) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            write(&mut out, false)?;
            out.flush().with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut out, color)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// The report's exit status: see [`exit_code`].
pub fn exit_status(report: &palisade_report::ScanReport) -> std::process::ExitCode {
    let summary = report.summary();
    exit_code(summary.input_errors > 0, summary.threshold_exceeded)
}

/// 2 when some input could not be read, 1 when a finding at or above `--fail-on` remains, else 0.
pub fn exit_code(unread_input: bool, threshold_exceeded: bool) -> std::process::ExitCode {
    if unread_input {
        std::process::ExitCode::from(2)
    } else if threshold_exceeded {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

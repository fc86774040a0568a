//! Tailing an audit log (the API server's log backend writes JSON lines) with a checkpoint, so
//! that a restart resumes exactly after the last line whose alerts were delivered.
//!
//! The checkpoint records the file's inode and the byte offset after the last complete line
//! handed to the caller; it is replaced atomically (write, then rename) after each batch. On
//! start, a checkpoint for the same inode resumes at its offset; a different inode means the log
//! was rotated while we were down, so the new file is read from its start. While running, a
//! rotated log is drained to its end before the new file is opened, and a truncated one is
//! re-read from the start.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest line accepted; a longer one is skipped and reported (a hostile or corrupt log must
/// not exhaust memory).
const MAX_LINE: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Position {
    inode: u64,
    offset: u64,
}

fn load_checkpoint(path: &Path) -> Option<Position> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn save_checkpoint(path: &Path, position: Position) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&position).expect("serialisable"))?;
    std::fs::rename(&tmp, path)
}

/// Follows `path` until `stop` is set and the end of the file is reached. `on_lines` receives
/// each batch of complete lines with the byte offset where it starts; the checkpoint moves past a batch only once it returns `Ok`,
/// so an error (a sink that cannot flush) stops the follower without losing those lines.
pub fn follow(
    path: &Path,
    checkpoint: Option<&Path>,
    stop: &AtomicBool,
    poll: Duration,
    mut on_lines: impl FnMut(&str, u64) -> Result<(), String>,
) -> Result<(), String> {
    let context = |e: io::Error| format!("{}: {e}", path.display());
    let mut file = File::open(path).map_err(context)?;
    let mut inode = file.metadata().map_err(context)?.ino();
    let mut offset = match checkpoint.and_then(load_checkpoint) {
        Some(p) if p.inode == inode && p.offset <= file.metadata().map_err(context)?.len() => p.offset,
        _ => 0,
    };
    file.seek(SeekFrom::Start(offset)).map_err(context)?;
    let mut pending: Vec<u8> = Vec::new();
    let mut skipping_long_line = false;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut chunk).map_err(context)?;
        if n > 0 {
            pending.extend_from_slice(&chunk[..n]);
            let Some(last) = pending.iter().rposition(|&b| b == b'\n') else {
                if pending.len() > MAX_LINE {
                    eprintln!("palisade: {}: line longer than {MAX_LINE} bytes skipped", path.display());
                    offset += pending.len() as u64;
                    pending.clear();
                    skipping_long_line = true;
                }
                continue;
            };
            let mut batch = &pending[..=last];
            let mut batch_offset = offset;
            if skipping_long_line {
                // The rest of an over-long line ends at the first newline.
                let end = batch.iter().position(|&b| b == b'\n').unwrap_or(0);
                batch = &batch[end + 1..];
                batch_offset += (end + 1) as u64;
                skipping_long_line = false;
            }
            on_lines(&String::from_utf8_lossy(batch), batch_offset)?;
            offset += (last + 1) as u64;
            pending.drain(..=last);
            if let Some(cp) = checkpoint {
                save_checkpoint(cp, Position { inode, offset }).map_err(|e| format!("{}: {e}", cp.display()))?;
            }
            continue;
        }
        // At the end of the file: rotated, truncated, or just quiet?
        match std::fs::metadata(path) {
            Ok(meta) if meta.ino() != inode => {
                file = File::open(path).map_err(context)?;
                inode = file.metadata().map_err(context)?.ino();
                offset = 0;
                pending.clear();
                continue;
            }
            Ok(meta) if meta.len() < offset => {
                file.seek(SeekFrom::Start(0)).map_err(context)?;
                offset = 0;
                pending.clear();
                continue;
            }
            _ => {}
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        std::thread::sleep(poll);
    }
}

/// The default checkpoint location for a followed file: beside it, hidden.
pub fn default_checkpoint(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "audit".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.palisade-checkpoint"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    fn run_until(path: &Path, cp: &Path, expected: usize, append: impl FnOnce()) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (seen, stop, path, cp) = (seen.clone(), stop.clone(), path.to_path_buf(), cp.to_path_buf());
            std::thread::spawn(move || {
                follow(&path, Some(&cp), &stop, Duration::from_millis(5), |text, _| {
                    seen.lock().unwrap().extend(text.lines().map(str::to_string));
                    Ok(())
                })
            })
        };
        append();
        for _ in 0..400 {
            if seen.lock().unwrap().len() >= expected {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap().unwrap();
        Arc::try_unwrap(seen).unwrap().into_inner().unwrap()
    }

    #[test]
    fn restart_neither_loses_nor_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let cp = default_checkpoint(&log);
        std::fs::write(&log, "a\nb\npartial").unwrap();
        let append = |text: &'static str| {
            let log = log.clone();
            move || {
                let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
                f.write_all(text.as_bytes()).unwrap();
            }
        };
        assert_eq!(run_until(&log, &cp, 3, append("-line\n")), ["a", "b", "partial-line"]);
        // Down while two lines arrive; back up: exactly those two.
        append("c\nd\n")();
        assert_eq!(run_until(&log, &cp, 3, append("e\n")), ["c", "d", "e"]);
        assert_eq!(run_until(&log, &cp, 0, || {}), Vec::<String>::new());
    }

    #[test]
    fn rotation_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let cp = dir.path().join("cp");
        std::fs::write(&log, "a\n").unwrap();
        let rotate = || {
            std::thread::sleep(Duration::from_millis(30));
            std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
            std::fs::write(&log, "b\n").unwrap();
        };
        assert_eq!(run_until(&log, &cp, 2, rotate), ["a", "b"]);
    }
}

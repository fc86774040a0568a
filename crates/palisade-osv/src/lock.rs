//! One writer at a time per index directory: `db update` from a CronJob and a `db import` by
//! hand must not each write `meta.json` from what they read before the other finished (one
//! would drop the other's sources).

use std::fs::File;
use std::path::Path;

use crate::error::DbError;

const LOCK_FILE: &str = ".lock";

/// Held while an index directory is written; released when dropped (or when the process ends,
/// however it ends: the kernel drops `flock` locks with the descriptor).
pub(crate) struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Waits until no other writer holds `directory`, then holds it.
    pub(crate) fn acquire(directory: &Path) -> Result<WriterLock, DbError> {
        let path = directory.join(LOCK_FILE);
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(|error| DbError::io(&path, error))?;
        lock(&file).map_err(|error| DbError::io(&path, error))?;
        Ok(WriterLock { _file: file })
    }
}

#[cfg(unix)]
fn lock(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock takes a descriptor this File owns for the whole call.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(not(unix))]
fn lock(_file: &File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_second_writer_waits_for_the_first() {
        let directory = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(directory.path()).unwrap();
        let acquired = Arc::new(AtomicBool::new(false));
        let second = {
            let (path, acquired) = (directory.path().to_owned(), acquired.clone());
            std::thread::spawn(move || {
                let _lock = WriterLock::acquire(&path).unwrap();
                acquired.store(true, Ordering::SeqCst);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!acquired.load(Ordering::SeqCst), "the second writer got in while the first held the lock");
        drop(first);
        second.join().unwrap();
        assert!(acquired.load(Ordering::SeqCst));
    }
}

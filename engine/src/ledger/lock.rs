//! The lock that keeps two runs on one lake from interleaving.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{BillsheetError, Result};

/// The lock file inside the ledger folder. It is never deleted, because a process that
/// opened a deleted lock file would lock a different file than the next process.
const LOCK_FILE: &str = ".lock";

/// An exclusive lock on a lake's ledger folder, held until the value is dropped or the
/// process ends.
///
/// The lock is advisory (`flock` on Linux): it keeps other billsheet runs out, not other
/// programs.
#[derive(Debug)]
pub struct LedgerLock {
    folder: PathBuf,
    _file: File,
}

impl LedgerLock {
    /// Creates `<lake>/ledger/` when it is missing and locks its `.lock` file, without
    /// waiting.
    ///
    /// # Errors
    /// `Ledger` when another process holds the lock, or when creating the folder, opening
    /// the lock file or locking it fails.
    pub fn acquire(lake: &Path) -> Result<LedgerLock> {
        let folder = super::ledger_folder(lake);
        std::fs::create_dir_all(&folder).map_err(|error| {
            BillsheetError::Ledger(format!(
                "failed to create the ledger folder {}: {error}",
                folder.display()
            ))
        })?;
        let path = folder.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|error| {
                BillsheetError::Ledger(format!(
                    "failed to open the lock file {}: {error}",
                    path.display()
                ))
            })?;
        match file.try_lock() {
            Ok(()) => Ok(LedgerLock {
                folder,
                _file: file,
            }),
            Err(TryLockError::WouldBlock) => Err(BillsheetError::Ledger(format!(
                "another billsheet run holds the lock on {}; run again when it has finished",
                folder.display()
            ))),
            Err(TryLockError::Error(error)) => Err(BillsheetError::Ledger(format!(
                "failed to lock {}: {error}",
                path.display()
            ))),
        }
    }

    /// Returns the locked ledger folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }
}

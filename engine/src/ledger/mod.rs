//! The ledger of issued invoices: the append-only record of every invoice that
//! `billsheet run` issued, each with a sequential invoice number.
//!
//! A lake's ledger is the folder `<lake>/ledger/`:
//! - `batch-000001/`, `batch-000002/` …: one folder per run that issued invoices. It
//!   contains `invoices.parquet` (the issued invoices with `invoice_number` and
//!   `issued_as_of`) and `invoice_lines.parquet` (their lines with `invoice_number`).
//!   Its `batch.json` records the as-of date, the number range, the row counts and the
//!   SHA-256 of both files;
//! - `issued_through.json`: the latest as-of date of the runs, through which every
//!   invoice due is issued. A run that issues an invoice dated on or before it reports
//!   the invoice as backdated;
//! - `.lock`: the file that a run locks while it updates the ledger and writes its output;
//! - `.staging-batch-NNNNNN/`: a batch being written. It is renamed to its final name
//!   when complete, so a batch folder is either whole or absent, and the next run removes
//!   a staging folder that an interrupted run left behind.
//!
//! A run issues the invoices dated on or before its as-of date whose `invoice_id` is not
//! in the ledger yet. They are numbered in (invoice_date, invoice_id) order, starting
//! after the ledger's last number, so the numbers have no gaps and no duplicates. Batch
//! files are never rewritten: a recomputed invoice that differs from its ledger row is
//! reported as a difference, and the ledger row is kept.

mod issue;
mod lock;
mod store;

use std::path::{Path, PathBuf};

pub use issue::{update, LedgerDifference, LedgerRun, LedgerSummary, OutputTable};
pub use lock::LedgerLock;
pub use store::{
    invoices_schema, lines_schema, read_ledger, BatchRecord, FileChecksum,
    LedgerContents, FORMAT,
};

/// The name of the ledger folder inside a lake.
pub const LEDGER_FOLDER: &str = "ledger";

/// Returns the ledger folder of `lake`.
pub fn ledger_folder(lake: &Path) -> PathBuf {
    lake.join(LEDGER_FOLDER)
}

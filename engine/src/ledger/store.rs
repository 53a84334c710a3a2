//! The batch folders of the ledger: reading and checking them, and appending one.

use std::collections::HashSet;
use std::fmt::Display;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};

use crate::error::{BillsheetError, Result};
use crate::run::sha256_file;

/// Version of the batch layout and of the Parquet schemas below, stored in `batch.json`.
pub const FORMAT: u32 = 1;

const BATCH_PREFIX: &str = "batch-";
const STAGING_PREFIX: &str = ".staging-";
const INVOICES_FILE: &str = "invoices.parquet";
const LINES_FILE: &str = "invoice_lines.parquet";
const RECORD_FILE: &str = "batch.json";
const ISSUED_THROUGH_FILE: &str = "issued_through.json";

/// Scale 4 fits the minor unit of every ISO 4217 currency (CLF and UYW have 4).
const MONEY: DataType = DataType::Decimal128(38, 4);
const QUANTITY: DataType = DataType::Decimal128(38, 12);

/// Returns the columns of a batch's `invoices.parquet`: the invoice number, the columns of
/// the `invoices` view in the data contract, and the as-of date of the issuing run.
pub fn invoices_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("invoice_number", DataType::Int64, false),
        Field::new("invoice_id", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, true),
        Field::new("contract_id", DataType::Utf8, true),
        Field::new("invoice_date", DataType::Date32, true),
        Field::new("due_date", DataType::Date32, true),
        Field::new("currency", DataType::Utf8, true),
        Field::new("subtotal", MONEY, true),
        Field::new("tax", MONEY, true),
        Field::new("total", MONEY, true),
        Field::new("issued_as_of", DataType::Date32, false),
    ]))
}

/// Returns the columns of a batch's `invoice_lines.parquet`: the invoice number and the
/// columns of the `invoice_lines` view in the data contract.
pub fn lines_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("invoice_number", DataType::Int64, false),
        Field::new("invoice_id", DataType::Utf8, false),
        Field::new("line_no", DataType::Int32, false),
        Field::new("customer_id", DataType::Utf8, true),
        Field::new("contract_id", DataType::Utf8, true),
        Field::new("invoice_date", DataType::Date32, true),
        Field::new("line_type", DataType::Utf8, true),
        Field::new("charge_id", DataType::Utf8, true),
        Field::new("period_start", DataType::Date32, true),
        Field::new("period_end", DataType::Date32, true),
        Field::new("quantity", QUANTITY, true),
        Field::new("proration", QUANTITY, true),
        Field::new("amount", MONEY, true),
        Field::new("currency", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, true),
    ]))
}

/// The contents of a batch's `batch.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchRecord {
    pub format: u32,
    /// The batch's sequence number: 1 for `batch-000001`.
    pub batch: u64,
    /// The as-of date (YYYY-MM-DD) of the run that issued the batch.
    pub as_of: String,
    /// The wall-clock time (UTC, RFC 3339) at which the batch was written.
    pub written_at: String,
    pub first_number: i64,
    pub last_number: i64,
    pub invoices: u64,
    pub lines: u64,
    pub files: Vec<FileChecksum>,
}

/// The size and SHA-256 of one file of a batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileChecksum {
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Every batch of a ledger, checked, with the rows of all its invoices and lines in
/// invoice-number order.
#[derive(Debug, Clone, Default)]
pub struct LedgerContents {
    pub batches: Vec<BatchRecord>,
    pub invoices: Vec<RecordBatch>,
    pub lines: Vec<RecordBatch>,
}

impl LedgerContents {
    /// Returns the last invoice number issued, or 0 for an empty ledger.
    pub fn last_number(&self) -> i64 {
        self.batches.last().map_or(0, |batch| batch.last_number)
    }

    /// Returns the number of invoices in the ledger.
    pub fn invoice_count(&self) -> u64 {
        self.batches.iter().map(|batch| batch.invoices).sum()
    }

    /// Returns the sequence number of the next batch.
    pub fn next_batch(&self) -> u64 {
        self.batches.len() as u64 + 1
    }

    pub(crate) fn push(
        &mut self,
        record: BatchRecord,
        invoices: RecordBatch,
        lines: RecordBatch,
    ) {
        self.batches.push(record);
        self.invoices.push(invoices);
        self.lines.push(lines);
    }
}

/// Returns the folder name of batch `number`, such as `batch-000001`.
pub fn batch_name(number: u64) -> String {
    format!("{BATCH_PREFIX}{number:06}")
}

/// Reads every batch of the ledger in `folder` and checks it.
///
/// The batches must be numbered 1, 2, 3 … without gaps, and each must have its three
/// files with the checksums and row counts of its `batch.json`. Invoice numbers must
/// continue the previous batch without gaps, and no invoice id may be issued twice. A
/// missing folder is an empty ledger. Staging folders are not read.
///
/// # Errors
/// `Ledger` naming the batch and the problem when a check fails.
pub fn read_ledger(folder: &Path) -> Result<LedgerContents> {
    let mut contents = LedgerContents::default();
    let mut invoice_ids = HashSet::new();
    for (index, (number, path)) in batch_folders(folder)?.into_iter().enumerate() {
        let expected = index as u64 + 1;
        if number != expected {
            return Err(BillsheetError::Ledger(format!(
                "ledger {} has no folder {}; the batches must be numbered without gaps. \
                 Restore the missing folder from a backup",
                folder.display(),
                batch_name(expected)
            )));
        }
        let (record, invoices, lines) =
            read_batch(&path, number, contents.last_number() + 1, &mut invoice_ids)?;
        contents.push(record, invoices, lines);
    }
    Ok(contents)
}

/// Lists the names and paths of the entries of `folder`, none when it does not exist.
fn folder_entries(folder: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new())
        }
        Err(error) => return Err(error.into()),
    };
    let mut named = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        named.push((name, path));
    }
    Ok(named)
}

/// Lists the batch folders in `folder` by number.
fn batch_folders(folder: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut folders = Vec::new();
    for (name, path) in folder_entries(folder)? {
        let Some(digits) = name.strip_prefix(BATCH_PREFIX) else {
            continue;
        };
        let number = digits
            .parse::<u64>()
            .ok()
            .filter(|number| batch_name(*number) == name)
            .ok_or_else(|| {
                BillsheetError::Ledger(format!(
                    "ledger {} contains {name}, which is not a batch folder name such as \
                     batch-000001; move it out of the ledger folder",
                    folder.display()
                ))
            })?;
        folders.push((number, path));
    }
    folders.sort();
    Ok(folders)
}

fn damaged(batch: &Path, problem: impl Display) -> BillsheetError {
    BillsheetError::Ledger(format!(
        "ledger batch {} is damaged: {problem}. billsheet never rewrites an issued batch; \
         restore the folder from a backup",
        batch.display()
    ))
}

/// Reads and checks one batch folder. `first_number` is the number that its first invoice
/// must have; `invoice_ids` collects the ids of the batches read before it.
fn read_batch(
    path: &Path,
    number: u64,
    first_number: i64,
    invoice_ids: &mut HashSet<String>,
) -> Result<(BatchRecord, RecordBatch, RecordBatch)> {
    let text = fs::read(path.join(RECORD_FILE))
        .map_err(|error| damaged(path, format!("cannot read {RECORD_FILE}: {error}")))?;
    let record: BatchRecord = serde_json::from_slice(&text)
        .map_err(|error| damaged(path, format!("invalid {RECORD_FILE}: {error}")))?;
    if record.format != FORMAT {
        return Err(BillsheetError::Ledger(format!(
            "ledger batch {} has format {}, but this billsheet reads format {FORMAT} only; \
             use the billsheet version that wrote it",
            path.display(),
            record.format
        )));
    }
    if record.batch != number {
        return Err(damaged(
            path,
            format!("{RECORD_FILE} gives batch {}", record.batch),
        ));
    }
    let expected_last = first_number + record.invoices as i64 - 1;
    if record.invoices == 0
        || record.first_number != first_number
        || record.last_number != expected_last
    {
        return Err(damaged(
            path,
            format!(
                "{RECORD_FILE} gives numbers {} to {} for {} invoices, expected {first_number} \
                 to {expected_last}",
                record.first_number, record.last_number, record.invoices
            ),
        ));
    }
    let invoices = read_checked_file(path, &record, INVOICES_FILE, &invoices_schema())?;
    let lines = read_checked_file(path, &record, LINES_FILE, &lines_schema())?;
    if invoices.num_rows() as u64 != record.invoices
        || lines.num_rows() as u64 != record.lines
    {
        return Err(damaged(
            path,
            format!(
                "{} invoices and {} lines, but {RECORD_FILE} gives {} and {}",
                invoices.num_rows(),
                lines.num_rows(),
                record.invoices,
                record.lines
            ),
        ));
    }

    let numbers = invoices.column(0).as_primitive::<Int64Type>();
    for (row, expected) in (first_number..=record.last_number).enumerate() {
        if numbers.is_null(row) || numbers.value(row) != expected {
            return Err(damaged(
                path,
                format!(
                    "row {} of {INVOICES_FILE} should have invoice number {expected}",
                    row + 1
                ),
            ));
        }
    }
    let ids = invoices.column(1).as_string::<i32>();
    for id in ids.iter().flatten() {
        if !invoice_ids.insert(id.to_string()) {
            return Err(damaged(path, format!("invoice {id} was already issued")));
        }
    }
    let line_numbers = lines.column(0).as_primitive::<Int64Type>();
    let outside = line_numbers
        .iter()
        .flatten()
        .find(|n| *n < first_number || *n > record.last_number);
    if let Some(n) = outside {
        return Err(damaged(
            path,
            format!("{LINES_FILE} has a line of invoice number {n}, outside the batch"),
        ));
    }
    Ok((record, invoices, lines))
}

/// Reads one Parquet file of a batch after checking its size and SHA-256 against
/// `record`, and returns its rows in `schema`.
fn read_checked_file(
    path: &Path,
    record: &BatchRecord,
    name: &str,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let file = path.join(name);
    let expected = record
        .files
        .iter()
        .find(|checksum| checksum.file == name)
        .ok_or_else(|| damaged(path, format!("{RECORD_FILE} does not list {name}")))?;
    let (bytes, sha256) = sha256_file(&file)
        .map_err(|error| damaged(path, format!("cannot read {name}: {error}")))?;
    if bytes != expected.bytes || sha256 != expected.sha256 {
        return Err(damaged(
            path,
            format!("{name} has {bytes} bytes and SHA-256 {sha256}, not the recorded {} bytes and {}", expected.bytes, expected.sha256),
        ));
    }
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&file)?)?.build()?;
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
    let conformed = batches
        .iter()
        .map(|batch| conform(schema, batch))
        .collect::<Result<Vec<_>>>()
        .map_err(|error| damaged(path, format!("{name}: {error}")))?;
    let rows = arrow::compute::concat_batches(schema, &conformed)?;
    if rows.num_rows() as u64 != expected.rows {
        return Err(damaged(
            path,
            format!(
                "{name} has {} rows, not the recorded {}",
                rows.num_rows(),
                expected.rows
            ),
        ));
    }
    Ok(rows)
}

/// Returns `batch` with the columns of `schema`, taken by name and cast to its types.
///
/// # Errors
/// `Ledger` when a column is missing or cannot be cast; `Arrow` when a column that
/// `schema` marks as not nullable has nulls.
pub(crate) fn conform(schema: &SchemaRef, batch: &RecordBatch) -> Result<RecordBatch> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = batch.column_by_name(field.name()).ok_or_else(|| {
            BillsheetError::Ledger(format!("column {} is missing", field.name()))
        })?;
        let column = if column.data_type() == field.data_type() {
            column.clone()
        } else {
            arrow::compute::cast(column, field.data_type()).map_err(|error| {
                BillsheetError::Ledger(format!(
                    "column {} of type {} cannot be read as {}: {error}",
                    field.name(),
                    column.data_type(),
                    field.data_type()
                ))
            })?
        };
        columns.push(column);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Removes the staging folders that interrupted runs left in the ledger `folder` and
/// returns their names. Call it only while holding the ledger lock, because a staging
/// folder of a run that holds the lock is still being written.
pub fn remove_staging(folder: &Path) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for (name, path) in folder_entries(folder)? {
        if name.starts_with(STAGING_PREFIX) {
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
            log::warn!(
                "removed {}, an unfinished ledger batch of an interrupted run",
                path.display()
            );
            removed.push(name);
        }
    }
    removed.sort();
    Ok(removed)
}

/// The contents of `issued_through.json`.
#[derive(Debug, Serialize, Deserialize)]
struct IssuedThrough {
    as_of: String,
}

/// Reads the latest as-of date through which the runs issued every invoice due, from
/// `issued_through.json`, or None before the first run.
///
/// # Errors
/// `Ledger` when the file is unreadable or invalid.
pub fn read_issued_through(folder: &Path) -> Result<Option<chrono::NaiveDate>> {
    let path = folder.join(ISSUED_THROUGH_FILE);
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let invalid = |problem: String| {
        BillsheetError::Ledger(format!(
            "{} is invalid: {problem}; remove it, and the next run writes it again",
            path.display()
        ))
    };
    let record: IssuedThrough =
        serde_json::from_slice(&text).map_err(|error| invalid(error.to_string()))?;
    let date = record
        .as_of
        .parse()
        .map_err(|_| invalid(format!("'{}' is not a date", record.as_of)))?;
    Ok(Some(date))
}

/// Replaces `issued_through.json` with `as_of`, through a staging file and a rename.
pub fn write_issued_through(folder: &Path, as_of: chrono::NaiveDate) -> Result<()> {
    let record = IssuedThrough {
        as_of: as_of.to_string(),
    };
    let json = serde_json::to_string_pretty(&record)
        .map_err(|error| BillsheetError::Internal(error.to_string()))?;
    let staging = folder.join(format!("{STAGING_PREFIX}{ISSUED_THROUGH_FILE}"));
    fs::write(&staging, json + "\n")?;
    File::open(&staging)?.sync_all()?;
    fs::rename(&staging, folder.join(ISSUED_THROUGH_FILE))?;
    sync_folder(folder)
}

/// Appends batch `number` to the ledger in `folder` and returns its record.
///
/// The files are written and flushed to disk in a staging folder that is then renamed to
/// the batch's name, so the batch appears whole or not at all. `invoices` and `lines`
/// must be in [`invoices_schema`] and [`lines_schema`], with `invoices` numbered without
/// gaps in row order.
///
/// # Errors
/// `Ledger` when the batch folder exists already; `Io` or `Parquet` when a file cannot be
/// written, after which the staging folder is removed.
pub fn write_batch(
    folder: &Path,
    number: u64,
    as_of: chrono::NaiveDate,
    invoices: &RecordBatch,
    lines: &RecordBatch,
) -> Result<BatchRecord> {
    let name = batch_name(number);
    let target = folder.join(&name);
    if target.exists() {
        return Err(BillsheetError::Ledger(format!(
            "ledger batch {} exists already",
            target.display()
        )));
    }
    let numbers = invoices.column(0).as_primitive::<Int64Type>();
    if numbers.is_empty() {
        return Err(BillsheetError::Internal(format!(
            "ledger batch {name} has no invoices"
        )));
    }

    let staging = folder.join(format!("{STAGING_PREFIX}{name}"));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir(&staging)?;

    let written = write_staging(&staging, number, as_of, numbers, invoices, lines);
    let record = match written {
        Ok(record) => record,
        Err(error) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    fs::rename(&staging, &target)?;
    sync_folder(folder)?;
    Ok(record)
}

fn write_staging(
    staging: &Path,
    number: u64,
    as_of: chrono::NaiveDate,
    numbers: &arrow::array::Int64Array,
    invoices: &RecordBatch,
    lines: &RecordBatch,
) -> Result<BatchRecord> {
    let record = BatchRecord {
        format: FORMAT,
        batch: number,
        as_of: as_of.to_string(),
        written_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        first_number: numbers.value(0),
        last_number: numbers.value(numbers.len() - 1),
        invoices: invoices.num_rows() as u64,
        lines: lines.num_rows() as u64,
        files: vec![
            write_parquet(staging, INVOICES_FILE, invoices)?,
            write_parquet(staging, LINES_FILE, lines)?,
        ],
    };
    let json = serde_json::to_string_pretty(&record)
        .map_err(|error| BillsheetError::Internal(error.to_string()))?;
    let file = staging.join(RECORD_FILE);
    fs::write(&file, json + "\n")?;
    File::open(&file)?.sync_all()?;
    sync_folder(staging)?;
    Ok(record)
}

/// Writes `batch` to `folder/name`, flushes it to disk and returns its checksum.
fn write_parquet(folder: &Path, name: &str, batch: &RecordBatch) -> Result<FileChecksum> {
    let path = folder.join(name);
    let mut writer = ArrowWriter::try_new(File::create(&path)?, batch.schema(), None)?;
    writer.write(batch)?;
    writer.into_inner()?.sync_all()?;
    let (bytes, sha256) = sha256_file(&path)?;
    Ok(FileChecksum {
        file: name.to_string(),
        rows: batch.num_rows() as u64,
        bytes,
        sha256,
    })
}

/// Flushes a folder's entries (new files, renames) to disk.
fn sync_folder(folder: &Path) -> Result<()> {
    File::open(folder)?.sync_all()?;
    Ok(())
}

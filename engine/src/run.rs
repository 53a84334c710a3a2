//! The nightly run: materializes every output view as Parquet, with a manifest, into a
//! temporary folder that is renamed into place only when everything is written.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Decimal128Type, Int64Type};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::Expr;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cached_view::all_nullable;
use crate::error::{BillsheetError, Result};
use crate::ledger::{self, LedgerLock, LedgerRun, LedgerSummary, OutputTable};
use crate::money::decimal::from_i128;
use crate::pivot::{pivot, PivotSpec};
use crate::progress::RunProgress;
use crate::views::{self, OUTPUT_VIEWS};
use crate::workbook::Workbook;

/// File of the pivoted revenue waterfall in a run's output folder.
pub const WATERFALL_PIVOT_FILE: &str = "revenue_waterfall_pivot.parquet";

/// The record of a run: what it wrote and checked, saved as `manifest.json` beside the views.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunManifest {
    pub as_of: String,
    pub lake: String,
    pub tables: Vec<TableSummary>,
    pub invoice_totals: Vec<CurrencyTotals>,
    pub usage: UsageAccounting,
    pub billing_errors: u64,
    pub inputs: Vec<InputChecksum>,
    pub ledger: LedgerSummary,
}

/// One written view.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableSummary {
    pub name: String,
    pub rows: u64,
    pub file: String,
}

/// Invoice totals in one currency.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CurrencyTotals {
    pub currency: String,
    pub invoices: u64,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
}

/// The destination of every usage delivery read. `balanced` is true when the four counts add up.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsageAccounting {
    pub deliveries: i64,
    pub billed: i64,
    pub pending: i64,
    pub redelivered: i64,
    pub rejected: i64,
    pub balanced: bool,
}

/// The SHA-256 of one input file, so a run can be traced to the exact inputs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InputChecksum {
    pub table: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Issues the new invoices into the lake's ledger, writes every output view of
/// `workbook` to `out` and returns the manifest.
///
/// The run holds the ledger lock throughout. It appends the ledger batch first and then
/// writes the views to a sibling temporary folder that replaces `out` at the end. A run
/// interrupted at any point leaves the ledger as it was or with the whole batch, and
/// `out` as it was. The next run then issues whatever is still missing and writes `out`.
///
/// # Errors
/// Fails when another run holds the ledger lock, when the ledger is damaged, when a view
/// cannot be computed or written, or when the usage accounting does not add up (an
/// internal error: a delivery would be lost).
pub async fn run(workbook: &Workbook, out: &Path) -> Result<RunManifest> {
    let lock = LedgerLock::acquire(workbook.lake())?;
    // Steps: each cached view computed, each output view written, then the pivot, the
    // ledger's own outputs and the manifest.
    let steps = views::cached_view_count() + OUTPUT_VIEWS.len() + 3;
    let progress = RunProgress::start(steps as u64);
    progress.message("issuing invoices into the ledger");
    let ledger = ledger::update(workbook, &lock).await?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    remove_stale_staging(out)?;
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;

    let result = write_all(workbook, &staging, &ledger, &progress).await;
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    replace_dir(&staging, out)?;
    drop(lock);
    Ok(manifest)
}

async fn write_all(
    workbook: &Workbook,
    staging: &Path,
    ledger: &LedgerRun,
    progress: &RunProgress,
) -> Result<RunManifest> {
    let mut tables = Vec::new();
    for view in OUTPUT_VIEWS {
        progress.message(format!("writing {view}"));
        let file = staging.join(format!("{view}.parquet"));
        let rows = match ledger.output_for_view(view) {
            Some(table) => write_table(table, &file)?,
            None => write_frame(sorted(workbook.table(view).await?)?, &file).await?,
        };
        tables.push(TableSummary {
            name: view.to_string(),
            rows,
            file: format!("{view}.parquet"),
        });
        progress.step_done();
    }
    progress.message("writing the pivoted revenue waterfall");
    // The waterfall as finance reads it: one row per invoice month and currency, revenue
    // months as columns.
    let spec = PivotSpec {
        column: "month".into(),
        value: "amount".into(),
    };
    let waterfall = pivot(workbook.table("revenue_waterfall").await?, &spec).await?;
    let rows = write_frame(waterfall, &staging.join(WATERFALL_PIVOT_FILE)).await?;
    tables.push(TableSummary {
        name: "revenue_waterfall_pivot".into(),
        rows,
        file: WATERFALL_PIVOT_FILE.into(),
    });
    progress.step_done();
    for (name, table) in ledger.extra_outputs() {
        let rows = write_table(table, &staging.join(format!("{name}.parquet")))?;
        tables.push(TableSummary {
            name: name.to_string(),
            rows,
            file: format!("{name}.parquet"),
        });
    }
    progress.step_done();
    progress.message("accounting for every usage delivery");
    let usage = usage_accounting(workbook).await?;
    if !usage.balanced {
        return Err(BillsheetError::Internal(format!(
            "usage accounting does not add up: {usage:?}"
        )));
    }
    let billing_errors = tables
        .iter()
        .find(|t| t.name == "billing_errors")
        .map_or(0, |t| t.rows);
    let manifest = RunManifest {
        as_of: workbook.options().as_of.to_string(),
        lake: workbook.lake().display().to_string(),
        tables,
        invoice_totals: invoice_totals(workbook).await?,
        usage,
        billing_errors,
        inputs: input_checksums(workbook)?,
        ledger: ledger.summary.clone(),
    };
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| BillsheetError::Internal(e.to_string()))?;
    std::fs::write(staging.join("manifest.json"), json + "\n")?;
    progress.step_done();
    Ok(manifest)
}

/// Sorts a view by all its columns, so that two runs on the same inputs write the same
/// bytes: the views themselves have no row order.
fn sorted(frame: DataFrame) -> Result<DataFrame> {
    let order = frame
        .schema()
        .columns()
        .into_iter()
        .map(|column| Expr::Column(column).sort(true, false))
        .collect();
    Ok(frame.sort(order)?)
}

/// Streams a result into a Parquet file and returns its row count. Every column is
/// written as nullable, whether the view is kept or streamed, so an output's schema does
/// not depend on how billsheet computes it.
async fn write_frame(frame: DataFrame, file: &Path) -> Result<u64> {
    let schema = all_nullable(frame.schema().as_arrow());
    let mut stream = frame.execute_stream().await?;
    let mut writer = ArrowWriter::try_new(File::create(file)?, schema.clone(), None)?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        let batch = arrow::record_batch::RecordBatch::try_new(
            schema.clone(),
            batch.columns().to_vec(),
        )?;
        writer.write(&batch)?;
    }
    writer.close()?;
    Ok(rows)
}

/// Writes rows computed before the run into a Parquet file and returns the row count.
fn write_table(table: &OutputTable, file: &Path) -> Result<u64> {
    let mut writer =
        ArrowWriter::try_new(File::create(file)?, table.schema.clone(), None)?;
    let mut rows = 0u64;
    for batch in &table.batches {
        rows += batch.num_rows() as u64;
        writer.write(batch)?;
    }
    writer.close()?;
    Ok(rows)
}

async fn usage_accounting(workbook: &Workbook) -> Result<UsageAccounting> {
    let batches = workbook
        .sql("select * from usage_accounting")
        .await?
        .collect()
        .await?;
    let batch = batches
        .first()
        .ok_or_else(|| BillsheetError::Internal("usage_accounting is empty".into()))?;
    let value = |name: &str| -> Result<i64> {
        let column = batch.column_by_name(name).ok_or_else(|| {
            BillsheetError::Internal(format!("usage_accounting has no {name}"))
        })?;
        let column = arrow::compute::cast(column, &DataType::Int64)?;
        Ok(column.as_primitive::<Int64Type>().value(0))
    };
    let (deliveries, billed, pending) =
        (value("deliveries")?, value("billed")?, value("pending")?);
    let (redelivered, rejected) = (value("redelivered")?, value("rejected")?);
    let balanced =
        billed + pending + redelivered + rejected == deliveries && pending >= 0;
    Ok(UsageAccounting {
        deliveries,
        billed,
        pending,
        redelivered,
        rejected,
        balanced,
    })
}

async fn invoice_totals(workbook: &Workbook) -> Result<Vec<CurrencyTotals>> {
    let query = "select currency, count(*) as invoices, sum(subtotal) as subtotal, \
                 sum(tax) as tax, sum(total) as total from invoices group by currency \
                 order by currency";
    let batches = workbook.sql(query).await?.collect().await?;
    let mut totals = Vec::new();
    for batch in &batches {
        let currencies = arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
        let counts = arrow::compute::cast(batch.column(1), &DataType::Int64)?;
        for row in 0..batch.num_rows() {
            let money = |index: usize| decimal_text(batch.column(index).as_ref(), row);
            totals.push(CurrencyTotals {
                currency: currencies.as_string::<i32>().value(row).to_string(),
                invoices: counts.as_primitive::<Int64Type>().value(row) as u64,
                subtotal: money(2),
                tax: money(3),
                total: money(4),
            });
        }
    }
    Ok(totals)
}

pub(crate) fn decimal_text(array: &dyn Array, row: usize) -> String {
    match array.data_type() {
        DataType::Decimal128(_, scale) => {
            let value = array.as_primitive::<Decimal128Type>().value(row);
            from_i128(value, *scale)
                .map(|d| d.normalize().to_string())
                .unwrap_or_default()
        }
        _ => String::new(),
    }
}

fn input_checksums(workbook: &Workbook) -> Result<Vec<InputChecksum>> {
    let mut checksums = Vec::new();
    for (table, source) in workbook.sources() {
        for file in source.files()? {
            let (bytes, sha256) = sha256_file(&file)?;
            checksums.push(InputChecksum {
                table: table.clone(),
                file: file.display().to_string(),
                bytes,
                sha256,
            });
        }
    }
    Ok(checksums)
}

pub(crate) fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        bytes += read as u64;
        hasher.update(&buffer[..read]);
    }
    let digest = hasher.finalize();
    Ok((bytes, digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// Removes the staging and set-aside folders of `out` that earlier runs left when they
/// were killed. The caller holds the ledger lock, so no other run of the lake writes them.
fn remove_stale_staging(out: &Path) -> Result<()> {
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
        return Ok(());
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let name = name.to_string_lossy();
    let staging_prefix = format!(".{name}.partial-");
    let aside_prefix = out
        .with_extension("replaced-")
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let own_suffix = format!("-{}", std::process::id());
    for entry in std::fs::read_dir(parent)? {
        let path = entry?.path();
        let entry_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stale = (entry_name.starts_with(&staging_prefix)
            || entry_name.starts_with(&aside_prefix))
            && !entry_name.ends_with(&own_suffix);
        if stale && path.is_dir() {
            std::fs::remove_dir_all(&path)?;
            log::warn!("removed {}, left by an interrupted run", path.display());
        }
    }
    Ok(())
}

/// Moves `staging` to `out`. An existing `out` is first moved aside and removed after, so
/// `out` holds either the old or the new run's complete output at every moment that it
/// exists.
fn replace_dir(staging: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        let aside: PathBuf =
            out.with_extension(format!("replaced-{}", std::process::id()));
        std::fs::rename(out, &aside)?;
        std::fs::rename(staging, out)?;
        std::fs::remove_dir_all(&aside)?;
    } else {
        std::fs::rename(staging, out)?;
    }
    Ok(())
}

/// Per-currency sums, exposed for tests that reconcile totals.
pub fn totals_by_currency(manifest: &RunManifest) -> BTreeMap<String, String> {
    manifest
        .invoice_totals
        .iter()
        .map(|t| (t.currency.clone(), t.total.clone()))
        .collect()
}

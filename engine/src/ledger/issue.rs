//! Issuing: compares the recomputed invoices with the ledger, appends the new ones as a
//! batch, and prepares the run's numbered `invoices` output and its differences.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use chrono::NaiveDate;
use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use serde::Serialize;

use super::lock::LedgerLock;
use super::store::{self, conform, LedgerContents};
use crate::error::Result;
use crate::lake::TableSource;
use crate::run::decimal_text;
use crate::workbook::Workbook;

/// At most this many differences are listed in the run manifest;
/// `ledger_differences.parquet` lists all of them.
const LISTED_DIFFERENCES: usize = 20;

/// Summary of a run's ledger update, saved under `ledger` in the run manifest.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LedgerSummary {
    /// The ledger folder.
    pub folder: String,
    /// True when the workbook has registered tables in place of lake inputs. Such a
    /// what-if run issues nothing.
    pub what_if: bool,
    /// The number of invoices that this run appended to the ledger.
    pub issued: u64,
    /// The batch folder of the appended invoices, such as `batch-000003`.
    pub batch: Option<String>,
    pub first_number: Option<i64>,
    pub last_number: Option<i64>,
    /// Issued invoices dated on or before the latest as-of date of an earlier run. Runs
    /// on append-only inputs issue none, as the replay tests check; an input edited in
    /// place can make a run issue one.
    pub backdated: u64,
    /// Invoices due through the as-of date that a what-if run did not issue.
    pub unissued: u64,
    /// The number of invoices in the ledger after the run, which is also its last
    /// invoice number.
    pub ledger_invoices: u64,
    /// The number of issued invoices whose recomputation differs from the ledger.
    pub differences: u64,
    /// The first differences by invoice number, at most 20.
    pub first_differences: Vec<LedgerDifference>,
    /// Staging folders of interrupted runs that this run removed.
    pub removed_staging: Vec<String>,
}

/// An issued invoice whose recomputation differs from its ledger row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LedgerDifference {
    pub invoice_number: i64,
    pub invoice_id: String,
    pub currency: String,
    pub ledger_total: String,
    /// None when the invoice is no longer computed at all.
    pub recomputed_total: Option<String>,
    /// The changed parts, such as `tax, total, lines`.
    pub changes: String,
}

/// Rows that a run writes as one Parquet table.
#[derive(Debug, Clone)]
pub struct OutputTable {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// The ledger's part of a run: its summary and the tables the run writes from it.
#[derive(Debug, Clone)]
pub struct LedgerRun {
    pub summary: LedgerSummary,
    /// The `invoices` view with the ledger's `invoice_number` (null when not issued).
    pub invoices: OutputTable,
    /// One row per issued invoice whose recomputation differs from the ledger.
    pub differences: OutputTable,
}

impl LedgerRun {
    /// Returns the rows that replace view `view` in the run's output, when the ledger
    /// changes them.
    pub fn output_for_view(&self, view: &str) -> Option<&OutputTable> {
        (view == "invoices").then_some(&self.invoices)
    }

    /// Returns the tables that the run writes beside the views, by name.
    pub fn extra_outputs(&self) -> Vec<(&'static str, &OutputTable)> {
        vec![("ledger_differences", &self.differences)]
    }
}

/// Returns the columns of `ledger_differences.parquet`.
pub fn differences_schema() -> SchemaRef {
    let money = DataType::Decimal128(38, 4);
    Arc::new(Schema::new(vec![
        Field::new("invoice_number", DataType::Int64, false),
        Field::new("invoice_id", DataType::Utf8, false),
        Field::new("contract_id", DataType::Utf8, true),
        Field::new("invoice_date", DataType::Date32, true),
        Field::new("currency", DataType::Utf8, true),
        Field::new("ledger_total", money.clone(), true),
        Field::new("recomputed_total", money.clone(), true),
        Field::new("difference", money, true),
        Field::new("changes", DataType::Utf8, false),
    ]))
}

/// Issues the workbook's new invoices into the ledger locked by `lock` and compares the
/// already issued ones with their recomputation.
///
/// Removes staging folders of interrupted runs, then reads and checks the ledger. Appends
/// one batch with the invoices dated through the as-of date that are not in the ledger.
/// Nothing is appended when there are none or when the workbook is a what-if, which is a
/// workbook with registered tables.
///
/// # Errors
/// `Ledger` when the ledger is damaged; any error of computing the `invoices` and
/// `invoice_lines` views or of writing the batch.
pub async fn update(workbook: &Workbook, lock: &LedgerLock) -> Result<LedgerRun> {
    let folder = lock.folder();
    let removed_staging = store::remove_staging(folder)?;
    let mut ledger = store::read_ledger(folder)?;
    let issued_through = store::read_issued_through(folder)?;
    let as_of = workbook.options().as_of;
    let what_if = workbook
        .sources()
        .iter()
        .any(|(_, source)| matches!(source, TableSource::Batches { .. }));

    let ctx = new_context();
    register_frame(
        &ctx,
        "recomputed_invoices",
        workbook.table("invoices").await?,
    )
    .await?;
    register_frame(
        &ctx,
        "recomputed_lines",
        workbook.table("invoice_lines").await?,
    )
    .await?;
    register_ledger(&ctx, &ledger)?;

    let mut summary = LedgerSummary {
        folder: folder.display().to_string(),
        what_if,
        issued: 0,
        batch: None,
        first_number: None,
        last_number: None,
        backdated: 0,
        unissued: 0,
        ledger_invoices: 0,
        differences: 0,
        first_differences: Vec::new(),
        removed_staging,
    };
    let new_invoices = query_rows(
        &ctx,
        &new_invoices_sql(as_of, ledger.last_number()),
        &store::invoices_schema(),
    )
    .await?;
    if new_invoices.num_rows() > 0 && what_if {
        summary.unissued = new_invoices.num_rows() as u64;
    } else if new_invoices.num_rows() > 0 {
        append_batch(&ctx, &mut ledger, &mut summary, as_of, folder, new_invoices)
            .await?;
        if let Some(issued_through) = issued_through {
            let query = format!(
                "select count(*) from issued_now where invoice_date <= date '{issued_through}'"
            );
            summary.backdated = count_rows(&ctx, &query).await?;
        }
    }
    if !what_if && issued_through.is_none_or(|through| through < as_of) {
        store::write_issued_through(folder, as_of)?;
    }
    summary.ledger_invoices = ledger.invoice_count();

    let differences =
        query_rows(&ctx, &differences_sql(as_of), &differences_schema()).await?;
    summary.differences = differences.num_rows() as u64;
    summary.first_differences = list_differences(&differences, LISTED_DIFFERENCES);
    let invoices = ctx.sql(NUMBERED_INVOICES_SQL).await?;
    let invoices = OutputTable {
        schema: invoices.schema().inner().clone(),
        batches: invoices.collect().await?,
    };
    Ok(LedgerRun {
        summary,
        invoices,
        differences: OutputTable {
            schema: differences.schema(),
            batches: vec![differences],
        },
    })
}

/// Writes `new_invoices` and their lines as the ledger's next batch and registers the
/// grown ledger in `ctx`.
async fn append_batch(
    ctx: &SessionContext,
    ledger: &mut LedgerContents,
    summary: &mut LedgerSummary,
    as_of: NaiveDate,
    folder: &std::path::Path,
    new_invoices: RecordBatch,
) -> Result<()> {
    replace_table(ctx, "issued_now", new_invoices.clone())?;
    let new_lines = query_rows(ctx, NEW_LINES_SQL, &store::lines_schema()).await?;
    let record = store::write_batch(
        folder,
        ledger.next_batch(),
        as_of,
        &new_invoices,
        &new_lines,
    )?;
    summary.issued = record.invoices;
    summary.batch = Some(store::batch_name(record.batch));
    summary.first_number = Some(record.first_number);
    summary.last_number = Some(record.last_number);
    ledger.push(record, new_invoices, new_lines);
    register_ledger(ctx, ledger)
}

/// Returns the query of the recomputed invoices dated through `as_of` that are not in the
/// ledger, numbered in (invoice_date, invoice_id) order after `last_number`.
fn new_invoices_sql(as_of: NaiveDate, last_number: i64) -> String {
    format!(
        "select {last_number} + cast(row_number() over (order by r.invoice_date, r.invoice_id) \
                as bigint) as invoice_number,
                r.invoice_id, r.customer_id, r.contract_id, r.invoice_date, r.due_date,
                r.currency, r.subtotal, r.tax, r.total, date '{as_of}' as issued_as_of
         from recomputed_invoices r
         where r.invoice_date <= date '{as_of}'
           and not exists (select 1 from ledger_invoices g where g.invoice_id = r.invoice_id)
         order by invoice_number"
    )
}

/// The lines of the invoices in `issued_now`, with their numbers.
const NEW_LINES_SQL: &str = "
select n.invoice_number, l.*
from recomputed_lines l
join issued_now n on n.invoice_id = l.invoice_id
order by n.invoice_number, l.line_no";

/// The `invoices` view with the ledger's invoice numbers.
const NUMBERED_INVOICES_SQL: &str = "
select r.*, g.invoice_number
from recomputed_invoices r
left join ledger_invoices g on g.invoice_id = r.invoice_id
order by r.invoice_date, r.invoice_id";

/// Returns the query of the issued invoices dated through `as_of` whose recomputation
/// differs from the ledger. An invoice differs in a column of the invoice, in any column
/// of a line or in its set of lines, or when it is no longer computed (for example,
/// because its contract is now in `billing_errors`).
///
/// NOTE: a difference is only reported. The data contract bills it as an adjustment
/// against the ledger's amounts on the contract's next invoice, which billsheet does
/// not do yet, so the run's `invoices` output shows the recomputed amounts.
fn differences_sql(as_of: NaiveDate) -> String {
    format!(
        "with ledger as (
           select * from ledger_invoices where invoice_date <= date '{as_of}'
         ),
         ledger_lines_due as (
           select * from ledger_lines where invoice_date <= date '{as_of}'
         ),
         recomputed_lines_issued as (
           select * from recomputed_lines
           where invoice_id in (select invoice_id from ledger)
         ),
         changed_lines as (
           select distinct coalesce(g.invoice_id, r.invoice_id) as invoice_id
           from ledger_lines_due g
           full join recomputed_lines_issued r
             on r.invoice_id = g.invoice_id and r.line_no = g.line_no
           where g.invoice_id is null or r.invoice_id is null
              or (g.line_type is distinct from r.line_type)
              or (g.charge_id is distinct from r.charge_id)
              or (g.period_start is distinct from r.period_start)
              or (g.period_end is distinct from r.period_end)
              or (g.quantity is distinct from r.quantity)
              or (g.proration is distinct from r.proration)
              or (g.amount is distinct from r.amount)
              or (g.currency is distinct from r.currency)
              or (g.description is distinct from r.description)
         ),
         compared as (
           select g.invoice_number, g.invoice_id, g.contract_id, g.invoice_date, g.currency,
                  g.total as ledger_total, r.total as recomputed_total,
                  r.total - g.total as difference,
                  concat_ws(', ',
                    case when r.invoice_id is null then 'no longer computed' end,
                    case when r.invoice_id is not null
                          and (g.customer_id is distinct from r.customer_id)
                         then 'customer_id' end,
                    case when r.invoice_id is not null
                          and (g.due_date is distinct from r.due_date) then 'due_date' end,
                    case when r.invoice_id is not null
                          and (g.currency is distinct from r.currency) then 'currency' end,
                    case when r.invoice_id is not null
                          and (g.subtotal is distinct from r.subtotal) then 'subtotal' end,
                    case when r.invoice_id is not null
                          and (g.tax is distinct from r.tax) then 'tax' end,
                    case when r.invoice_id is not null
                          and (g.total is distinct from r.total) then 'total' end,
                    case when r.invoice_id is not null and c.invoice_id is not null
                         then 'lines' end
                  ) as changes
           from ledger g
           left join recomputed_invoices r on r.invoice_id = g.invoice_id
           left join changed_lines c on c.invoice_id = g.invoice_id
         )
         select * from compared where changes <> '' order by invoice_number"
    )
}

fn new_context() -> SessionContext {
    let mut config = SessionConfig::new();
    config.options_mut().sql_parser.map_string_types_to_utf8view = false;
    SessionContext::new_with_config(config)
}

/// Computes `frame` and registers its rows in `ctx` as table `name`.
async fn register_frame(
    ctx: &SessionContext,
    name: &str,
    frame: DataFrame,
) -> Result<()> {
    let schema = frame.schema().inner().clone();
    let batches = frame.collect().await?;
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(())
}

/// Registers (or replaces) table `name` in `ctx` with the rows of `batch`.
fn replace_table(ctx: &SessionContext, name: &str, batch: RecordBatch) -> Result<()> {
    ctx.deregister_table(name)?;
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

/// Registers the ledger's invoices and lines as `ledger_invoices` and `ledger_lines`.
fn register_ledger(ctx: &SessionContext, ledger: &LedgerContents) -> Result<()> {
    for (name, schema, batches) in [
        (
            "ledger_invoices",
            store::invoices_schema(),
            &ledger.invoices,
        ),
        ("ledger_lines", store::lines_schema(), &ledger.lines),
    ] {
        let rows = arrow::compute::concat_batches(&schema, batches)?;
        replace_table(ctx, name, rows)?;
    }
    Ok(())
}

/// Runs `query` and returns its rows in `schema`, as one batch.
async fn query_rows(
    ctx: &SessionContext,
    query: &str,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let batches = ctx.sql(query).await?.collect().await?;
    let conformed = batches
        .iter()
        .map(|batch| conform(schema, batch))
        .collect::<Result<Vec<_>>>()?;
    Ok(arrow::compute::concat_batches(schema, &conformed)?)
}

/// Runs a `select count(*)` query and returns the count.
async fn count_rows(ctx: &SessionContext, query: &str) -> Result<u64> {
    let batches = ctx.sql(query).await?.collect().await?;
    let count = batches
        .first()
        .filter(|batch| batch.num_rows() > 0)
        .map(|batch| batch.column(0).as_primitive::<Int64Type>().value(0));
    Ok(count.unwrap_or(0) as u64)
}

/// Returns the first `limit` rows of `differences` (in [`differences_schema`]).
fn list_differences(differences: &RecordBatch, limit: usize) -> Vec<LedgerDifference> {
    let numbers = differences.column(0).as_primitive::<Int64Type>();
    let ids = differences.column(1).as_string::<i32>();
    let currencies = differences.column(4).as_string::<i32>();
    let ledger_totals = differences.column(5);
    let recomputed_totals = differences.column(6);
    let changes = differences.column(8).as_string::<i32>();
    (0..differences.num_rows().min(limit))
        .map(|row| LedgerDifference {
            invoice_number: numbers.value(row),
            invoice_id: ids.value(row).to_string(),
            currency: currencies.value(row).to_string(),
            ledger_total: decimal_text(ledger_totals.as_ref(), row),
            recomputed_total: (!recomputed_totals.is_null(row))
                .then(|| decimal_text(recomputed_totals.as_ref(), row)),
            changes: changes.value(row).to_string(),
        })
        .collect()
}

impl LedgerSummary {
    /// Returns the lines that `billsheet run` prints about the ledger.
    pub fn report(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let (Some(batch), Some(first), Some(last)) =
            (&self.batch, self.first_number, self.last_number)
        {
            lines.push(format!(
                "ledger: issued {} invoices, numbers {first} to {last}, as {batch} in {}",
                self.issued, self.folder
            ));
        } else if self.what_if {
            lines.push(format!(
                "ledger: issued nothing because the workbook has registered tables; {} \
                 invoices due are not in {}",
                self.unissued, self.folder
            ));
        } else {
            lines.push(format!(
                "ledger: issued nothing; every invoice due is in {} already ({} invoices)",
                self.folder, self.ledger_invoices
            ));
        }
        if self.backdated > 0 {
            lines.push(format!(
                "ledger: {} issued invoices are dated on or before the as-of date of an \
                 earlier run; an input was probably changed in place",
                self.backdated
            ));
        }
        if self.differences > 0 {
            lines.push(format!(
                "ledger: {} issued invoices differ from their recomputation; the ledger is \
                 kept, and ledger_differences.parquet lists them",
                self.differences
            ));
            for difference in &self.first_differences {
                let currency = &difference.currency;
                lines.push(format!(
                    "  {} (number {}): ledger total {} {currency}, recomputed {}, changed: {}",
                    difference.invoice_id,
                    difference.invoice_number,
                    difference.ledger_total,
                    difference
                        .recomputed_total
                        .as_ref()
                        .map_or("none".to_string(), |total| format!("{total} {currency}")),
                    difference.changes
                ));
            }
        }
        lines
    }
}

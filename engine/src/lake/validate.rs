//! Validation of the lake's inputs against the data contract.
//!
//! Files are read here directly, one at a time and in order, so that every problem names
//! the file's row. `usage` is not validated here: a usage row that does not fit becomes a
//! `usage_rejects` row instead of stopping the run.

use std::collections::HashMap;
use std::fs::File;
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rust_decimal::Decimal;

use crate::error::{BillsheetError, CellRef, InputProblem, Result};
use crate::lake::schema::{self, ColumnType, TableSpec};
use crate::lake::source::TableSource;
use crate::money::{decimal::from_i128, minor_units};

/// Most problems listed per table; the rest are counted.
const MAX_PROBLEMS_PER_TABLE: usize = 25;

/// Checks every input table except `usage` and returns every problem found, in table and
/// row order. An empty list means the lake can be billed.
pub fn validate_inputs(sources: &[(String, TableSource)]) -> Result<Vec<InputProblem>> {
    let mut problems = Vec::new();
    for (name, source) in sources {
        let Some(spec) = schema::input_table(name) else {
            continue;
        };
        if spec.name == schema::USAGE.name {
            continue;
        }
        let mut checker = TableChecker::new(spec);
        for (file, batch) in read_batches(source)? {
            checker.check_batch(file.as_deref(), &batch)?;
        }
        problems.extend(checker.finish());
    }
    Ok(problems)
}

/// Reads every batch of a source, with the file name when the table has several files.
fn read_batches(source: &TableSource) -> Result<Vec<(Option<String>, RecordBatch)>> {
    let mut out = Vec::new();
    match source {
        TableSource::Csv { path, columns } => {
            let fields: Vec<Field> = columns
                .iter()
                .map(|c| Field::new(c, DataType::Utf8, true))
                .collect();
            let reader = arrow::csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
                .with_header(true)
                .build(File::open(path)?)?;
            for batch in reader {
                out.push((None, batch?));
            }
        }
        TableSource::ParquetFile { .. } | TableSource::ParquetDir { .. } => {
            let many = matches!(source, TableSource::ParquetDir { .. });
            for path in source.files()? {
                let reader =
                    ParquetRecordBatchReaderBuilder::try_new(File::open(&path)?)?
                        .build()?;
                let file = many.then(|| path.display().to_string());
                for batch in reader {
                    out.push((file.clone(), batch?));
                }
            }
        }
        TableSource::Batches { batches, .. } => {
            out.extend(batches.iter().map(|b| (None, b.clone())));
        }
    }
    Ok(out)
}

/// Casts a raw column to its contract type; text is trimmed and an empty cell is null.
/// Values that do not fit become null.
pub fn cast_raw(array: &ArrayRef, column_type: ColumnType) -> Result<ArrayRef> {
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    let text = match array.data_type() {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Dictionary(_, _) => {
            let strings = cast_with_options(array, &DataType::Utf8, &options)?;
            let trimmed: StringArray = strings
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::trim).filter(|v| !v.is_empty()))
                .collect();
            Some(Arc::new(trimmed) as ArrayRef)
        }
        _ => None,
    };
    let input = text.as_ref().unwrap_or(array);
    let target = column_type.arrow_type();
    if matches!(column_type, ColumnType::Date)
        && matches!(input.data_type(), DataType::Timestamp(_, _))
    {
        let naive =
            cast_with_options(input, &ColumnType::Timestamp.arrow_type(), &options)?;
        return Ok(cast_with_options(&naive, &target, &options)?);
    }
    Ok(cast_with_options(input, &target, &options)?)
}

fn display_value(array: &ArrayRef, row: usize) -> String {
    arrow::util::display::array_value_to_string(array, row).unwrap_or_default()
}

/// Checks the batches of one table, keeping what cross-row checks need.
struct TableChecker {
    spec: &'static TableSpec,
    problems: Vec<InputProblem>,
    extra_problems: usize,
    rows_seen: usize,
    keys: HashMap<String, usize>,
    tiers: HashMap<String, Vec<TierRow>>,
}

#[derive(Debug, Clone)]
struct TierRow {
    row: usize,
    file: Option<String>,
    tier: i64,
    up_to: Option<Decimal>,
}

/// The typed values of one row, by column name.
struct Row<'a> {
    typed: &'a HashMap<&'static str, ArrayRef>,
    index: usize,
}

impl Row<'_> {
    fn text(&self, column: &str) -> Option<String> {
        let array = self.typed.get(column)?;
        (!array.is_null(self.index))
            .then(|| array.as_string::<i32>().value(self.index).to_string())
    }

    fn decimal(&self, column: &str) -> Option<Decimal> {
        let array = self.typed.get(column)?;
        if array.is_null(self.index) {
            return None;
        }
        let DataType::Decimal128(_, scale) = array.data_type() else {
            return None;
        };
        from_i128(
            array.as_primitive::<Decimal128Type>().value(self.index),
            *scale,
        )
    }

    fn int(&self, column: &str) -> Option<i64> {
        let array = self.typed.get(column)?;
        (!array.is_null(self.index))
            .then(|| array.as_primitive::<Int64Type>().value(self.index))
    }

    fn date(&self, column: &str) -> Option<NaiveDate> {
        let array = self.typed.get(column)?;
        if array.is_null(self.index) {
            return None;
        }
        let days = array.as_primitive::<Date32Type>().value(self.index);
        Date32Type::to_naive_date_opt(days)
    }
}

impl TableChecker {
    fn new(spec: &'static TableSpec) -> Self {
        TableChecker {
            spec,
            problems: Vec::new(),
            extra_problems: 0,
            rows_seen: 0,
            keys: HashMap::new(),
            tiers: HashMap::new(),
        }
    }

    fn report(
        &mut self,
        file: Option<&str>,
        row: usize,
        column: &str,
        value: String,
        message: String,
    ) {
        if self.problems.len() >= MAX_PROBLEMS_PER_TABLE {
            self.extra_problems += 1;
            return;
        }
        let cell = CellRef {
            table: self.spec.name.to_string(),
            file: file.map(str::to_string),
            row,
            column: column.to_string(),
            value,
        };
        self.problems.push(InputProblem {
            cell: Some(cell),
            table: self.spec.name.to_string(),
            message,
        });
    }

    fn check_batch(&mut self, file: Option<&str>, batch: &RecordBatch) -> Result<()> {
        let schema = batch.schema();
        let mut typed: HashMap<&'static str, ArrayRef> = HashMap::new();
        let mut raw_text: HashMap<&'static str, ArrayRef> = HashMap::new();

        // Casts: every present value must fit its column's type.
        for column in self.spec.columns {
            let Ok(index) = schema.index_of(column.name) else {
                if column.required && self.rows_seen == 0 {
                    self.problems.push(InputProblem {
                        cell: None,
                        table: self.spec.name.to_string(),
                        message: format!("required column {} is missing", column.name),
                    });
                }
                continue;
            };
            let raw = batch.column(index);
            let cast = cast_raw(raw, column.column_type)?;
            let text = cast_raw(raw, ColumnType::Text)?;
            for i in 0..batch.num_rows() {
                let row = self.rows_seen + i + 1;
                if text.is_null(i) {
                    if column.required {
                        self.report(
                            file,
                            row,
                            column.name,
                            String::new(),
                            "required value is missing".into(),
                        );
                    }
                } else if cast.is_null(i) {
                    let message = format!("not {}", column.column_type.describe());
                    self.report(file, row, column.name, display_value(&text, i), message);
                }
            }
            typed.insert(column.name, cast);
            raw_text.insert(column.name, text);
        }

        // Rules: each table's values must make sense for billing.
        for i in 0..batch.num_rows() {
            let row = Row {
                typed: &typed,
                index: i,
            };
            let number = self.rows_seen + i + 1;
            for (column, value, message) in self.check_row(&row, file, number) {
                self.report(file, number, column, value, message);
            }
        }
        self.rows_seen += batch.num_rows();
        Ok(())
    }

    /// Returns the rule violations of one row as (column, value, message).
    fn check_row(
        &mut self,
        row: &Row,
        file: Option<&str>,
        number: usize,
    ) -> Vec<(&'static str, String, String)> {
        let mut found = Vec::new();
        let one_of = |column: &'static str, allowed: &[&str], found: &mut Vec<_>| {
            if let Some(value) = row.text(column) {
                if !allowed.contains(&value.as_str()) {
                    let message = format!("must be one of {}", allowed.join(", "));
                    found.push((column, value, message));
                }
            }
        };
        let currency =
            |column: &'static str, found: &mut Vec<(&'static str, String, String)>| {
                if let Some(code) = row.text(column) {
                    if minor_units(&code).is_none() {
                        found.push((
                            column,
                            code,
                            "unknown currency: not an active ISO 4217 code".into(),
                        ));
                    }
                }
            };
        match self.spec.name {
            "customers" => {
                currency("currency", &mut found);
                if let Some(zone) = row.text("timezone") {
                    if chrono_tz::Tz::from_str(&zone).is_err() {
                        found.push(("timezone", zone, "unknown IANA time zone".into()));
                    }
                }
                negative(row, "tax_rate", &mut found);
                if row.int("net_terms_days").is_some_and(|d| d < 0) {
                    found.push((
                        "net_terms_days",
                        row.int("net_terms_days").unwrap().to_string(),
                        "must not be negative".into(),
                    ));
                }
                self.unique_key(
                    row.text("customer_id"),
                    number,
                    "customer_id",
                    &mut found,
                );
            }
            "contracts" => {
                one_of("commit_interval", &["month", "quarter", "year"], &mut found);
                if let (Some(start), Some(end)) =
                    (row.date("start_date"), row.date("end_date"))
                {
                    if end <= start {
                        found.push((
                            "end_date",
                            end.to_string(),
                            format!("must be after start_date {start}"),
                        ));
                    }
                }
                if let Some(pct) = row.decimal("discount_pct") {
                    if pct < Decimal::ZERO || pct > Decimal::ONE {
                        found.push((
                            "discount_pct",
                            pct.to_string(),
                            "must be between 0 and 1".into(),
                        ));
                    }
                }
                negative(row, "commit_amount", &mut found);
                if row.int("grace_days").is_some_and(|d| d < 0) {
                    found.push((
                        "grace_days",
                        row.int("grace_days").unwrap().to_string(),
                        "must not be negative".into(),
                    ));
                }
                self.unique_key(
                    row.text("contract_id"),
                    number,
                    "contract_id",
                    &mut found,
                );
            }
            "contract_items" => {
                if let (Some(from), Some(to)) =
                    (row.date("effective_from"), row.date("effective_to"))
                {
                    if to <= from {
                        found.push((
                            "effective_to",
                            to.to_string(),
                            format!("must be after effective_from {from}"),
                        ));
                    }
                }
            }
            "prices" => self.check_price(row, file, number, &mut found),
            "meters" => {
                one_of(
                    "aggregation",
                    &["sum", "count", "max", "unique_count", "latest"],
                    &mut found,
                );
                self.unique_key(row.text("meter"), number, "meter", &mut found);
            }
            "fx_rates" => {
                currency("from_currency", &mut found);
                currency("to_currency", &mut found);
                if let Some(rate) = row.decimal("rate") {
                    if rate <= Decimal::ZERO {
                        found.push(("rate", rate.to_string(), "must be positive".into()));
                    }
                }
            }
            "payments" => {
                one_of("status", &["succeeded", "failed"], &mut found);
            }
            "dunning_policy" => {
                if let Some(days) = row.int("days_overdue").filter(|d| *d < 1) {
                    found.push((
                        "days_overdue",
                        days.to_string(),
                        "must be at least 1 (a stage starts once an invoice is overdue)"
                            .into(),
                    ));
                }
                // Two stages with one threshold would leave the stage to chance.
                self.unique_key(
                    row.int("days_overdue").map(|days| days.to_string()),
                    number,
                    "days_overdue",
                    &mut found,
                );
            }
            _ => {}
        }
        found
    }

    fn check_price(
        &mut self,
        row: &Row,
        file: Option<&str>,
        number: usize,
        found: &mut Vec<(&'static str, String, String)>,
    ) {
        let allowed =
            |column: &'static str,
             values: &[&str],
             found: &mut Vec<(&'static str, String, String)>| {
                if let Some(value) = row.text(column) {
                    if !values.contains(&value.as_str()) {
                        found.push((
                            column,
                            value,
                            format!("must be one of {}", values.join(", ")),
                        ));
                    }
                }
            };
        allowed("charge_type", &["recurring", "usage", "one_time"], found);
        allowed(
            "pricing_model",
            &["flat", "per_unit", "graduated", "volume", "package"],
            found,
        );
        allowed("interval", &["month", "quarter", "year"], found);
        allowed("timing", &["advance", "arrears"], found);
        if let Some(code) = row.text("currency") {
            if minor_units(&code).is_none() {
                found.push((
                    "currency",
                    code,
                    "unknown currency: not an active ISO 4217 code".into(),
                ));
            }
        }
        if row.text("charge_type").as_deref() == Some("usage")
            && row.text("meter").is_none()
        {
            found.push((
                "meter",
                String::new(),
                "a usage charge needs a meter".into(),
            ));
        }
        if row.text("pricing_model").as_deref() == Some("package")
            && row
                .decimal("package_size")
                .is_none_or(|s| s <= Decimal::ZERO)
        {
            let size = row
                .decimal("package_size")
                .map(|s| s.to_string())
                .unwrap_or_default();
            found.push((
                "package_size",
                size,
                "a package price needs a positive package_size".into(),
            ));
        }
        for column in ["unit_price", "flat_fee", "up_to"] {
            negative(row, column, found);
        }
        if let (Some(from), Some(to)) =
            (row.date("effective_from"), row.date("effective_to"))
        {
            if to <= from {
                found.push((
                    "effective_to",
                    to.to_string(),
                    format!("must be after effective_from {from}"),
                ));
            }
        }
        // Tiers are checked per tier list once all rows are read.
        let key = format!(
            "rate card {}, {}charge {}, effective from {}",
            row.text("rate_card_id").unwrap_or_default(),
            row.text("contract_id")
                .map(|c| format!("contract {c}, "))
                .unwrap_or_default(),
            row.text("charge_id").unwrap_or_default(),
            row.date("effective_from")
                .map(|d| d.to_string())
                .unwrap_or_else(|| "always".into()),
        );
        let tier = TierRow {
            row: number,
            file: file.map(str::to_string),
            tier: row.int("tier").unwrap_or(1),
            up_to: row.decimal("up_to"),
        };
        self.tiers.entry(key).or_default().push(tier);
    }

    fn unique_key(
        &mut self,
        key: Option<String>,
        number: usize,
        column: &'static str,
        found: &mut Vec<(&'static str, String, String)>,
    ) {
        let Some(key) = key else { return };
        if let Some(first) = self.keys.get(&key) {
            found.push((
                column,
                key,
                format!("duplicate key, first seen in row {first}"),
            ));
        } else {
            self.keys.insert(key, number);
        }
    }

    fn finish(mut self) -> Vec<InputProblem> {
        let mut lists: Vec<(String, Vec<TierRow>)> =
            std::mem::take(&mut self.tiers).into_iter().collect();
        lists.sort_by_key(|(_, rows)| rows[0].row);
        for (key, mut rows) in lists {
            rows.sort_by_key(|r| r.tier);
            for (position, tier) in rows.iter().enumerate() {
                let expected = position as i64 + 1;
                let message = if tier.tier != expected {
                    Some(format!("tiers of {key} must be numbered 1, 2, 3 … without gaps or repeats; expected tier {expected}"))
                } else if tier.up_to.is_none() && position + 1 < rows.len() {
                    Some(format!("only the last tier of {key} may have no up_to"))
                } else if position > 0
                    && rows[position - 1]
                        .up_to
                        .zip(tier.up_to)
                        .is_some_and(|(a, b)| b <= a)
                {
                    Some(format!("up_to of the tiers of {key} must ascend"))
                } else {
                    None
                };
                if let Some(message) = message {
                    let value = tier
                        .up_to
                        .map(|u| u.normalize().to_string())
                        .unwrap_or_default();
                    self.report(
                        tier.file.clone().as_deref(),
                        tier.row,
                        "up_to",
                        value,
                        message,
                    );
                    break;
                }
            }
        }
        if self.extra_problems > 0 {
            self.problems.push(InputProblem {
                cell: None,
                table: self.spec.name.to_string(),
                message: format!("{} more problems not listed", self.extra_problems),
            });
        }
        self.problems
    }
}

fn negative(
    row: &Row,
    column: &'static str,
    found: &mut Vec<(&'static str, String, String)>,
) {
    if let Some(value) = row.decimal(column) {
        if value < Decimal::ZERO {
            found.push((column, value.to_string(), "must not be negative".into()));
        }
    }
}

/// Fails with every problem when the list is not empty.
pub fn ensure_valid(problems: Vec<InputProblem>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BillsheetError::InvalidInput(problems))
    }
}

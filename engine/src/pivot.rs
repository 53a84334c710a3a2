//! Pivoting a result the way a spreadsheet shows it: the distinct values of one column
//! become columns, each holding the sum of a value column. The revenue waterfall, pivoted
//! on its revenue month, is the layout finance teams read.

use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{lit, when, Expr};
use datafusion::prelude::ident;

use crate::error::{BillsheetError, Result};

/// Name of the column that contains each row's sum over all pivoted columns.
pub const TOTAL_COLUMN: &str = "total";

/// A pivot request: spread `column`'s values into columns holding sums of `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotSpec {
    pub column: String,
    pub value: String,
}

impl std::str::FromStr for PivotSpec {
    type Err = String;

    /// Parses `COLUMN:VALUE`, e.g. `month:amount`.
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.split_once(':') {
            Some((column, value)) if !column.is_empty() && !value.is_empty() => {
                Ok(PivotSpec {
                    column: column.to_string(),
                    value: value.to_string(),
                })
            }
            _ => Err(format!(
                "invalid pivot '{text}': expected COLUMN:VALUE, e.g. month:amount"
            )),
        }
    }
}

/// Pivots `frame` on `spec`: one row per combination of the other columns (sorted), one
/// column per distinct value of `spec.column` (sorted, named by the value's text, empty
/// cells where nothing falls), and a last column `total`.
///
/// # Errors
/// Fails when either column is missing from the frame, when they are the same column, or
/// when the value column is not numeric. Also fails when two output columns would share a
/// name: a key column named like a pivoted value or `total`, or two values with one text.
pub async fn pivot(frame: DataFrame, spec: &PivotSpec) -> Result<DataFrame> {
    let names: Vec<String> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for requested in [&spec.column, &spec.value] {
        if !names.contains(requested) {
            return Err(BillsheetError::Request(format!(
                "cannot pivot: the result has no column '{requested}' (columns: {})",
                names.join(", ")
            )));
        }
    }
    if spec.column == spec.value {
        return Err(BillsheetError::Request(format!(
            "cannot pivot: '{}' cannot be both the pivoted column and the value",
            spec.column
        )));
    }
    let value_type = frame
        .schema()
        .field_with_unqualified_name(&spec.value)?
        .data_type()
        .clone();
    if !value_type.is_numeric() {
        return Err(BillsheetError::Request(format!(
            "cannot pivot: the value column '{}' is {value_type}, not a number",
            spec.value
        )));
    }
    let keys: Vec<String> = names
        .iter()
        .filter(|n| **n != spec.column && **n != spec.value)
        .cloned()
        .collect();
    if keys.iter().any(|k| k == TOTAL_COLUMN) {
        return Err(BillsheetError::Request(format!(
            "cannot pivot: the result has a column named '{TOTAL_COLUMN}', which the \
             pivot adds; rename it in the query"
        )));
    }

    let values = distinct_values(frame.clone(), &spec.column).await?;
    let mut aggregates = Vec::with_capacity(values.len() + 1);
    let mut labels: Vec<String> = Vec::with_capacity(values.len());
    for value in &values {
        let label = if value.is_null() {
            "null".to_string()
        } else {
            value.to_string()
        };
        if keys.contains(&label) || labels.contains(&label) || label == TOTAL_COLUMN {
            return Err(BillsheetError::Request(format!(
                "cannot pivot: the value '{label}' of '{}' would name a column twice",
                spec.column
            )));
        }
        let matches = if value.is_null() {
            ident(&spec.column).is_null()
        } else {
            ident(&spec.column).eq(lit(value.clone()))
        };
        let cell = when(matches, ident(&spec.value)).end()?;
        aggregates.push(sum(cell).alias(label.clone()));
        labels.push(label);
    }
    aggregates.push(sum(ident(&spec.value)).alias(TOTAL_COLUMN));

    let group: Vec<Expr> = keys.iter().map(ident).collect();
    let pivoted = frame.aggregate(group, aggregates)?;
    if keys.is_empty() {
        return Ok(pivoted);
    }
    let order = keys.iter().map(|k| ident(k).sort(true, false)).collect();
    Ok(pivoted.sort(order)?)
}

/// Returns the distinct values of `column`, sorted with nulls last.
async fn distinct_values(frame: DataFrame, column: &str) -> Result<Vec<ScalarValue>> {
    let batches = frame
        .select(vec![ident(column)])?
        .distinct()?
        .sort(vec![ident(column).sort(true, false)])?
        .collect()
        .await?;
    let mut values = Vec::new();
    for batch in batches {
        let array = batch.column(0);
        for row in 0..batch.num_rows() {
            values.push(ScalarValue::try_from_array(array, row)?);
        }
    }
    Ok(values)
}

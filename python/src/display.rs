//! Bounded previews of a result, as text for `repr` and as an HTML table for notebooks.
//! Values are formatted by Arrow's display code, as in `billsheet sql`.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Slices the first `limit` rows out of `batches` without copying.
pub fn head(batches: &[RecordBatch], limit: usize) -> Vec<RecordBatch> {
    let mut rows_left = limit;
    let mut out = Vec::new();
    for batch in batches {
        if rows_left == 0 {
            break;
        }
        let take = batch.num_rows().min(rows_left);
        out.push(batch.slice(0, take));
        rows_left -= take;
    }
    out
}

/// Formats the first `limit` rows as a text table.
pub fn text_preview(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    limit: usize,
) -> Result<String, ArrowError> {
    let rows = head(batches, limit);
    if rows.is_empty() {
        let empty = RecordBatch::new_empty(schema.clone());
        return Ok(arrow::util::pretty::pretty_format_batches(&[empty])?.to_string());
    }
    Ok(arrow::util::pretty::pretty_format_batches(&rows)?.to_string())
}

/// Formats the first `limit` rows as an HTML table with a header of column names and
/// Arrow types.
pub fn html_preview(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    limit: usize,
) -> Result<String, ArrowError> {
    let options = FormatOptions::default().with_null("null");
    let mut html = String::from("<table class=\"billsheet-result\">\n<thead>\n<tr>");
    for field in schema.fields() {
        html.push_str("<th>");
        html.push_str(&escape(field.name()));
        html.push_str("<br><small>");
        html.push_str(&escape(&field.data_type().to_string()));
        html.push_str("</small></th>");
    }
    html.push_str("</tr>\n</thead>\n<tbody>\n");
    for batch in head(batches, limit) {
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            html.push_str("<tr>");
            for formatter in &formatters {
                html.push_str("<td>");
                html.push_str(&escape(&formatter.value(row).try_to_string()?));
                html.push_str("</td>");
            }
            html.push_str("</tr>\n");
        }
    }
    html.push_str("</tbody>\n</table>\n");
    Ok(html)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

//! The built-in views, embedded from the project's `sql/` folder, and a lake's own views.

use std::path::Path;
use std::sync::Arc;

use datafusion::prelude::SessionContext;

use crate::cached_view::CachedView;
use crate::error::{BillsheetError, Result};

/// The built-in view files, in the order they are created (later files use earlier views).
pub const BUILTIN_SQL: &[(&str, &str)] = &[
    (
        "01_price_book.sql",
        include_str!("../../sql/01_price_book.sql"),
    ),
    (
        "02_contract_terms.sql",
        include_str!("../../sql/02_contract_terms.sql"),
    ),
    (
        "03_usage_events.sql",
        include_str!("../../sql/03_usage_events.sql"),
    ),
    (
        "04_charge_periods.sql",
        include_str!("../../sql/04_charge_periods.sql"),
    ),
    (
        "05_period_amounts.sql",
        include_str!("../../sql/05_period_amounts.sql"),
    ),
    (
        "06_commitments.sql",
        include_str!("../../sql/06_commitments.sql"),
    ),
    ("07_invoices.sql", include_str!("../../sql/07_invoices.sql")),
    (
        "08_usage_outputs.sql",
        include_str!("../../sql/08_usage_outputs.sql"),
    ),
    ("09_revenue.sql", include_str!("../../sql/09_revenue.sql")),
    ("10_metrics.sql", include_str!("../../sql/10_metrics.sql")),
    (
        "11_receivables.sql",
        include_str!("../../sql/11_receivables.sql"),
    ),
];

/// The output views of the data contract, which `billsheet run` writes.
pub const OUTPUT_VIEWS: &[&str] = &[
    "rated_usage",
    "invoice_lines",
    "invoices",
    "revenue_schedule",
    "revenue_waterfall",
    "deferred_revenue",
    "mrr",
    "mrr_movements",
    "nrr",
    "cohorts",
    "receivables",
    "usage_rejects",
    "billing_errors",
];

/// Built-in views that stay plain views, inlined where used: they pass every usage event
/// through, so keeping their rows would hold the whole usage table in memory.
const STREAMED_VIEWS: &[&str] = &[
    "usage_contents",
    "usage_ranked_contents",
    "usage_single_deliveries",
    "usage_counted",
    "usage_conflicts",
    "usage_events",
];

/// Built-in views kept on disk rather than in memory: their rows grow with the usage.
const ON_DISK_VIEWS: &[&str] = &["usage_rejects"];

/// Splits SQL text into statements at semicolons outside quotes and comments.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (in_quote, c) {
            (Some(q), _) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => in_quote = Some(c),
            (None, '-') if chars.peek() == Some(&'-') => {
                // A comment runs to the end of the line and is kept out of the statement.
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
                current.push('\n');
                continue;
            }
            (None, ';') => {
                if !current.trim().is_empty() {
                    statements.push(current.trim().to_string());
                }
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        statements.push(current.trim().to_string());
    }
    statements
}

/// Runs every statement of one SQL file; `origin` names the file in errors.
pub async fn run_sql_file(ctx: &SessionContext, origin: &str, text: &str) -> Result<()> {
    for statement in split_statements(text) {
        let started = std::time::Instant::now();
        let result = async { ctx.sql(&statement).await?.collect().await }.await;
        log::debug!(
            "{origin}: '{}' took {:?}",
            statement.lines().next().unwrap_or_default(),
            started.elapsed()
        );
        if let Err(error) = result {
            let first_line = statement.lines().next().unwrap_or_default();
            return Err(BillsheetError::Request(format!(
                "in {origin}, statement '{first_line}': {error}"
            )));
        }
    }
    Ok(())
}

/// Returns the name and query of a `create view NAME as QUERY` statement.
fn parse_create_view(statement: &str) -> Option<(&str, &str)> {
    let rest = statement.strip_prefix("create view ")?;
    let (name, rest) = rest.split_once(char::is_whitespace)?;
    let query = rest.trim_start().strip_prefix("as")?;
    Some((name, query))
}

/// Returns the name and query of a statement that creates a built-in view to be cached,
/// or None for a streamed view or another statement.
fn cached_view(statement: &str) -> Option<(&str, &str)> {
    parse_create_view(statement).filter(|(name, _)| !STREAMED_VIEWS.contains(name))
}

/// Counts the built-in views registered as [`CachedView`]s.
pub fn cached_view_count() -> usize {
    BUILTIN_SQL
        .iter()
        .flat_map(|(_, text)| split_statements(text))
        .filter(|statement| cached_view(statement).is_some())
        .count()
}

/// Creates the built-in views, each as a [`CachedView`] unless it streams usage events.
pub async fn create_builtin_views(ctx: &SessionContext) -> Result<()> {
    for (file, text) in BUILTIN_SQL {
        let origin = format!("built-in view file sql/{file}");
        for statement in split_statements(text) {
            let Some((name, query)) = cached_view(&statement) else {
                run_sql_file(ctx, &origin, &statement).await?;
                continue;
            };
            let plan = ctx
                .state()
                .create_logical_plan(query)
                .await
                .map_err(|error| {
                    BillsheetError::Request(format!("in {origin}, view {name}: {error}"))
                })?;
            let view = if ON_DISK_VIEWS.contains(&name) {
                CachedView::on_disk(name, plan)
            } else {
                CachedView::new(name, plan)
            };
            ctx.register_table(name, Arc::new(view))?;
        }
    }
    Ok(())
}

/// Creates a lake's own views from `<lake>/sql/*.sql`, in file-name order.
pub async fn create_lake_views(ctx: &SessionContext, lake: &Path) -> Result<()> {
    let folder = lake.join("sql");
    if !folder.is_dir() {
        return Ok(());
    }
    let mut files: Vec<_> = std::fs::read_dir(&folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        run_sql_file(ctx, &file.display().to_string(), &text).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_semicolons_in_strings() {
        let statements = split_statements("select 'a;b' as x;\n-- c; d\nselect 2;");
        assert_eq!(statements, vec!["select 'a;b' as x", "select 2"]);
    }

    #[test]
    fn split_drops_comments_and_blanks() {
        assert!(split_statements("-- only a comment;\n\n").is_empty());
    }
}

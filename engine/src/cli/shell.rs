//! The interactive SQL shell of `billsheet sql` without a query.

use rustyline::error::ReadlineError;

use super::format::write_result;
use super::Format;
use crate::error::Result;
use crate::workbook::Workbook;

/// Reads statements until end of input; a statement ends with `;`. `\d` lists the tables
/// and views, `\q` quits.
pub async fn run_shell(workbook: &Workbook) -> Result<()> {
    let mut editor = rustyline::DefaultEditor::new().map_err(|e| {
        crate::BillsheetError::Request(format!("cannot start the shell: {e}"))
    })?;
    eprintln!("billsheet shell on {} as of {}; end statements with ';', \\d lists tables, \\q quits",
        workbook.lake().display(), workbook.options().as_of);
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "billsheet> "
        } else {
            "      ...> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(error) => {
                eprintln!("error: {error}");
                break;
            }
        };
        let trimmed = line.trim();
        if buffer.is_empty() && trimmed == "\\q" {
            break;
        }
        if buffer.is_empty() && trimmed == "\\d" {
            buffer.push_str("select table_name, table_type from information_schema.tables where table_schema = 'public' order by table_name;");
        } else {
            buffer.push_str(&line);
            buffer.push('\n');
        }
        if !buffer.trim_end().ends_with(';') {
            continue;
        }
        let _ = editor.add_history_entry(buffer.trim());
        let statement = buffer.trim().trim_end_matches(';').to_string();
        buffer.clear();
        match execute(workbook, &statement).await {
            Ok(()) => {}
            Err(error) => eprintln!("error: {error}"),
        }
    }
    Ok(())
}

async fn execute(workbook: &Workbook, statement: &str) -> Result<()> {
    let frame = workbook.sql(statement).await?;
    let schema = frame.schema().inner().clone();
    let batches = frame.collect().await?;
    write_result(&batches, schema, Format::Table, None)
}

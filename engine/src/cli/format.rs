//! Writing query results as a table, CSV, JSON, Parquet or an Excel workbook.

use std::io::Write;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Decimal128Type};
use arrow::record_batch::RecordBatch;

use super::Format;
use crate::error::{BillsheetError, Result};

/// Writes `batches` in `format` to `output`, or to standard output when it is `None`.
pub fn write_result(
    batches: &[RecordBatch],
    schema: arrow::datatypes::SchemaRef,
    format: Format,
    output: Option<&Path>,
) -> Result<()> {
    match format {
        Format::Parquet => {
            let path = output.ok_or_else(|| {
                BillsheetError::Request("--format parquet needs -o FILE".into())
            })?;
            let file = std::fs::File::create(path)?;
            let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None)?;
            for batch in batches {
                writer.write(batch)?;
            }
            writer.close()?;
            Ok(())
        }
        Format::Xlsx => {
            let path = output.ok_or_else(|| {
                BillsheetError::Request("--format xlsx needs -o FILE".into())
            })?;
            write_xlsx(batches, &schema, path)
        }
        _ => {
            let mut sink: Box<dyn Write> = match output {
                Some(path) => {
                    Box::new(std::io::BufWriter::new(std::fs::File::create(path)?))
                }
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            match format {
                Format::Table => {
                    let table = arrow::util::pretty::pretty_format_batches(batches)?;
                    if batches.is_empty() {
                        let names: Vec<&str> =
                            schema.fields().iter().map(|f| f.name().as_str()).collect();
                        writeln!(sink, "{}", names.join(" | "))?;
                        writeln!(sink, "(0 rows)")?;
                    } else {
                        writeln!(sink, "{table}")?;
                    }
                }
                Format::Csv => {
                    let mut writer = arrow::csv::WriterBuilder::new()
                        .with_header(true)
                        .build(&mut sink);
                    if batches.is_empty() {
                        let names: Vec<&str> =
                            schema.fields().iter().map(|f| f.name().as_str()).collect();
                        drop(writer);
                        writeln!(sink, "{}", names.join(","))?;
                    } else {
                        for batch in batches {
                            writer.write(batch)?;
                        }
                    }
                }
                Format::Json => {
                    let mut writer = arrow::json::ArrayWriter::new(&mut sink);
                    for batch in batches {
                        writer.write(batch)?;
                    }
                    writer.finish()?;
                    if batches.is_empty() {
                        write!(sink, "[]")?;
                    }
                    writeln!(sink)?;
                }
                Format::Parquet | Format::Xlsx => unreachable!("handled above"),
            }
            sink.flush()?;
            Ok(())
        }
    }
}

fn xlsx_error(error: rust_xlsxwriter::XlsxError) -> BillsheetError {
    BillsheetError::Request(format!("writing the Excel file failed: {error}"))
}

/// Writes one worksheet with a header row; decimals become numbers with their scale's
/// format, dates stay text in ISO form so no spreadsheet reinterprets them.
fn write_xlsx(
    batches: &[RecordBatch],
    schema: &arrow::datatypes::Schema,
    path: &Path,
) -> Result<()> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, field) in schema.fields().iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, field.name(), &bold)
            .map_err(xlsx_error)?;
    }
    let mut row = 1u32;
    for batch in batches {
        for i in 0..batch.num_rows() {
            for (col, array) in batch.columns().iter().enumerate() {
                if array.is_null(i) {
                    continue;
                }
                let col = col as u16;
                match array.data_type() {
                    DataType::Decimal128(_, scale) => {
                        let value = array.as_primitive::<Decimal128Type>().value(i);
                        let number = value as f64 / 10f64.powi(*scale as i32);
                        sheet.write_number(row, col, number).map_err(xlsx_error)?;
                    }
                    DataType::Int8
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::UInt32
                    | DataType::UInt64
                    | DataType::Float64
                    | DataType::Float32 => {
                        let text = arrow::util::display::array_value_to_string(array, i)?;
                        let number: f64 = text.parse().unwrap_or_default();
                        sheet.write_number(row, col, number).map_err(xlsx_error)?;
                    }
                    _ => {
                        let text = arrow::util::display::array_value_to_string(array, i)?;
                        sheet.write_string(row, col, &text).map_err(xlsx_error)?;
                    }
                }
            }
            row += 1;
        }
    }
    workbook.save(path).map_err(xlsx_error)?;
    Ok(())
}

//! Registers a lake's raw tables with DataFusion and defines the typed input views.
//!
//! A raw table `raw_NAME` reads the files as they are (CSV as text). The typed view `NAME`
//! casts each contract column to its type and fills defaults, so every later view reads the
//! contract's schema whatever the file format.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};

use crate::error::Result;
use crate::lake::schema::{ColumnSpec, ColumnType, TableSpec, INPUT_TABLES, USAGE};
use crate::lake::source::TableSource;

/// The name of the raw table behind input `name`.
pub fn raw_table_name(name: &str) -> String {
    format!("raw_{name}")
}

/// Registers every source as a raw table and creates the typed views of all input tables,
/// empty for tables that the lake does not have.
pub async fn register_inputs(
    ctx: &SessionContext,
    sources: &[(String, TableSource)],
) -> Result<()> {
    for spec in INPUT_TABLES {
        let raw = raw_table_name(spec.name);
        ctx.deregister_table(raw.as_str())?;
        let source = sources
            .iter()
            .find(|(name, _)| name == spec.name)
            .map(|(_, s)| s);
        let raw_columns = match source {
            Some(source) => Some(register_raw(ctx, &raw, source).await?),
            None => None,
        };
        let sql = typed_view_sql(spec, raw_columns.as_deref());
        ctx.deregister_table(spec.name)?;
        ctx.sql(&sql).await?.collect().await?;
    }
    Ok(())
}

/// Registers one raw table and returns its columns with their Arrow types.
async fn register_raw(
    ctx: &SessionContext,
    raw: &str,
    source: &TableSource,
) -> Result<Vec<(String, DataType)>> {
    match source {
        TableSource::Csv { path, columns } => {
            let fields: Vec<Field> = columns
                .iter()
                .map(|c| Field::new(c, DataType::Utf8, true))
                .collect();
            let schema = Schema::new(fields);
            let options = CsvReadOptions::new()
                .has_header(true)
                .schema(&schema)
                .file_extension(".csv");
            ctx.register_csv(raw, path.to_string_lossy().as_ref(), options)
                .await?;
        }
        TableSource::ParquetFile { path } => {
            let options = ParquetReadOptions::default();
            ctx.register_parquet(raw, path.to_string_lossy().as_ref(), options)
                .await?;
        }
        TableSource::ParquetDir {
            path,
            partition_columns,
        } => {
            let partitions: Vec<(String, DataType)> = partition_columns
                .iter()
                .map(|c| (c.clone(), DataType::Utf8))
                .collect();
            let options = ParquetReadOptions::default().table_partition_cols(partitions);
            let url = format!("{}/", path.to_string_lossy().trim_end_matches('/'));
            ctx.register_parquet(raw, &url, options).await?;
        }
        TableSource::Batches { batches, schema } => {
            let table = MemTable::try_new(schema.clone(), vec![batches.clone()])?;
            ctx.register_table(raw, Arc::new(table))?;
        }
    }
    let provider = ctx.table_provider(raw).await?;
    let schema = provider.schema();
    Ok(schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQL text of a raw value as it should be cast: text is trimmed and an empty cell is null.
fn raw_value_sql(column: &str, raw_type: &DataType) -> String {
    let quoted = quote(column);
    match raw_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            format!("nullif(trim({quoted}), '')")
        }
        DataType::Dictionary(_, _) => format!("cast({quoted} as varchar)"),
        _ => quoted,
    }
}

fn cast_sql(value: &str, column: &ColumnSpec, raw_type: &DataType) -> String {
    let is_text = matches!(
        raw_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    match column.column_type {
        ColumnType::Text if is_text => value.to_string(),
        ColumnType::Text => format!("cast({value} as varchar)"),
        // A timestamp with a time zone cast to a plain timestamp keeps its UTC instant.
        ColumnType::Date if matches!(raw_type, DataType::Timestamp(_, _)) => {
            format!("try_cast(cast({value} as timestamp) as date)")
        }
        other => format!("try_cast({value} as {})", other.sql_type()),
    }
}

/// Returns the `CREATE VIEW` statement of the typed view of `spec` over its raw table, or
/// of an empty view when `raw_columns` is `None`.
pub fn typed_view_sql(
    spec: &TableSpec,
    raw_columns: Option<&[(String, DataType)]>,
) -> String {
    let Some(raw_columns) = raw_columns else {
        let columns: Vec<String> = spec
            .columns
            .iter()
            .map(|c| {
                format!(
                    "cast(null as {}) as {}",
                    c.column_type.sql_type(),
                    quote(c.name)
                )
            })
            .collect();
        let mut select = columns.join(", ");
        if spec.name == USAGE.name {
            select.push_str(", cast(null as varchar) as invalid_reason");
        }
        return format!("create view {} as select {select} where false", spec.name);
    };

    // The inner select casts, the outer one fills defaults that may refer to other columns.
    let mut inner = Vec::new();
    let mut outer = Vec::new();
    let mut checks = Vec::new();
    for column in spec.columns {
        let name = quote(column.name);
        let raw = raw_columns.iter().find(|(n, _)| n == column.name);
        match raw {
            Some((raw_name, raw_type)) => {
                let value = raw_value_sql(raw_name, raw_type);
                inner.push(format!("{} as {name}", cast_sql(&value, column, raw_type)));
                // The raw value keeps its type, and only the message of an invalid row
                // formats it as text, so valid rows pay no cast to varchar.
                inner.push(format!(
                    "{value} as {}",
                    quote(&format!("__raw_{}", column.name))
                ));
                let raw_name = quote(&format!("__raw_{}", column.name));
                if column.required {
                    checks.push(format!(
                        "when {raw_name} is null then 'missing {}'",
                        column.name
                    ));
                }
                checks.push(format!(
                    "when {raw_name} is not null and {name} is null \
                     then 'invalid {}: ' || cast({raw_name} as varchar)",
                    column.name
                ));
            }
            None => {
                inner.push(format!(
                    "cast(null as {}) as {name}",
                    column.column_type.sql_type()
                ));
                inner.push(format!(
                    "cast(null as varchar) as {}",
                    quote(&format!("__raw_{}", column.name))
                ));
                if column.required {
                    checks
                        .push(format!("when true then 'missing column {}'", column.name));
                }
            }
        }
        match column.default_sql {
            Some(default) => outer.push(format!("coalesce({name}, {default}) as {name}")),
            None => outer.push(name),
        }
    }
    if spec.name == USAGE.name {
        outer.push(format!("case {} end as invalid_reason", checks.join(" ")));
    }
    format!(
        "create view {} as select {} from (select {} from {})",
        spec.name,
        outer.join(", "),
        inner.join(", "),
        raw_table_name(spec.name)
    )
}

//! Finds each input table's files in a lake folder.

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;

use crate::error::{BillsheetError, Result};
use crate::lake::schema::INPUT_TABLES;

/// The origin of an input table's rows.
#[derive(Debug, Clone)]
pub enum TableSource {
    /// One CSV file with a header row; every column is read as text and cast later.
    Csv { path: PathBuf, columns: Vec<String> },
    /// One Parquet file.
    ParquetFile { path: PathBuf },
    /// A folder of Parquet files, possibly in hive partitions (`key=value` folders).
    ParquetDir {
        path: PathBuf,
        partition_columns: Vec<String>,
    },
    /// Batches registered from a program (Python's `register`), not read from files.
    Batches {
        batches: Vec<RecordBatch>,
        schema: arrow::datatypes::SchemaRef,
    },
}

impl TableSource {
    /// A short description for messages and the run manifest.
    pub fn describe(&self) -> String {
        match self {
            TableSource::Csv { path, .. } | TableSource::ParquetFile { path } => {
                path.display().to_string()
            }
            TableSource::ParquetDir { path, .. } => format!("{}/", path.display()),
            TableSource::Batches { .. } => "registered data".to_string(),
        }
    }

    /// The files this source reads, sorted by name.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        match self {
            TableSource::Csv { path, .. } | TableSource::ParquetFile { path } => {
                Ok(vec![path.clone()])
            }
            TableSource::ParquetDir { path, .. } => {
                let mut files = Vec::new();
                collect_parquet_files(path, &mut files)?;
                files.sort();
                Ok(files)
            }
            TableSource::Batches { .. } => Ok(Vec::new()),
        }
    }
}

/// Finds the source of every input table in `lake`. A table may be `NAME.parquet`, a folder
/// `NAME/` of Parquet files or `NAME.csv`; more than one of them is an error.
pub fn find_sources(lake: &Path) -> Result<Vec<(String, TableSource)>> {
    if !lake.is_dir() {
        return Err(BillsheetError::Request(format!(
            "lake folder {} not found",
            lake.display()
        )));
    }
    let mut sources = Vec::new();
    for spec in INPUT_TABLES {
        let csv = lake.join(format!("{}.csv", spec.name));
        let parquet = lake.join(format!("{}.parquet", spec.name));
        let dir = lake.join(spec.name);
        let found: Vec<&PathBuf> = [&csv, &parquet, &dir]
            .into_iter()
            .filter(|p| p.exists())
            .collect();
        if found.len() > 1 {
            return Err(BillsheetError::Request(format!(
                "table {} has more than one source in the lake ({}); keep one",
                spec.name,
                found
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let source = if csv.is_file() {
            TableSource::Csv {
                columns: read_csv_header(&csv)?,
                path: csv,
            }
        } else if parquet.is_file() {
            TableSource::ParquetFile { path: parquet }
        } else if dir.is_dir() {
            let partition_columns = partition_columns(&dir)?;
            TableSource::ParquetDir {
                path: dir,
                partition_columns,
            }
        } else if spec.required {
            return Err(BillsheetError::Request(format!(
                "required table {} not found in lake {}: expected {}.csv, {}.parquet or a \
                 folder {}/ of Parquet files",
                spec.name,
                lake.display(),
                spec.name,
                spec.name,
                spec.name
            )));
        } else {
            continue;
        };
        sources.push((spec.name.to_string(), source));
    }
    Ok(sources)
}

/// Reads the column names of a CSV file's header row.
fn read_csv_header(path: &Path) -> Result<Vec<String>> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)?;
    let mut line = String::new();
    std::io::BufReader::new(file).read_line(&mut line)?;
    let line = line
        .trim_end_matches(['\r', '\n'])
        .trim_start_matches('\u{feff}');
    if line.trim().is_empty() {
        return Err(BillsheetError::Request(format!(
            "{} has no header row",
            path.display()
        )));
    }
    Ok(line
        .split(',')
        .map(|name| name.trim().trim_matches('"').to_string())
        .collect())
}

fn collect_parquet_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if path.is_dir() {
            collect_parquet_files(&path, files)?;
        } else if name.ends_with(".parquet") {
            files.push(path);
        }
    }
    Ok(())
}

/// Returns the hive partition keys (`key=value` folder names) under `dir`, outermost first,
/// taken from the first file found.
fn partition_columns(dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    collect_parquet_files(dir, &mut files)?;
    files.sort();
    let Some(first) = files.first() else {
        return Ok(Vec::new());
    };
    let relative = first.strip_prefix(dir).unwrap_or(first);
    let mut keys = Vec::new();
    if let Some(parent) = relative.parent() {
        for component in parent.components() {
            let part = component.as_os_str().to_string_lossy();
            match part.split_once('=') {
                Some((key, _)) => keys.push(key.to_string()),
                None => return Ok(Vec::new()),
            }
        }
    }
    Ok(keys)
}

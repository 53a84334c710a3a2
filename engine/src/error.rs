//! The one error type of the library, with variants chosen by cause.

use std::fmt;

/// A location in an input table: the table, the 1-based data row (header excluded) and the
/// column. `file` names the file when the table is a folder of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRef {
    pub table: String,
    pub file: Option<String>,
    pub row: usize,
    pub column: String,
    pub value: String,
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table {}", self.table)?;
        if let Some(file) = &self.file {
            write!(f, " (file {file})")?;
        }
        write!(
            f,
            ", row {}, column {}, value '{}'",
            self.row, self.column, self.value
        )
    }
}

/// One problem found in a lake's inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    pub cell: Option<CellRef>,
    pub table: String,
    pub message: String,
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cell {
            Some(cell) => write!(f, "{cell}: {}", self.message),
            None => write!(f, "table {}: {}", self.table, self.message),
        }
    }
}

/// Errors of the billsheet library.
#[derive(Debug, thiserror::Error)]
pub enum BillsheetError {
    /// The lake's inputs break the data contract; nothing is billed until they are fixed.
    #[error("invalid input: {}", format_problems(.0))]
    InvalidInput(Vec<InputProblem>),

    /// A bad request: unknown table, bad SQL, bad argument.
    #[error("{0}")]
    Request(String),

    /// The ledger of issued invoices cannot be locked, read or appended to.
    #[error("{0}")]
    Ledger(String),

    /// A feature that billsheet does not implement yet.
    #[error("not implemented: {0}")]
    NotImplemented(String),

    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),

    /// A bug in billsheet itself.
    #[error("internal error: {0}")]
    Internal(String),
}

fn format_problems(problems: &[InputProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    if lines.len() == 1 {
        lines[0].clone()
    } else {
        format!("{} problems:\n  {}", lines.len(), lines.join("\n  "))
    }
}

/// The library's result type.
pub type Result<T, E = BillsheetError> = std::result::Result<T, E>;

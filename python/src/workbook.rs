//! The workbook class: a lake opened for one as-of date, queried from Python.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use billsheet::{OpenOptions, Workbook};
use chrono::NaiveDate;
use datafusion::prelude::DataFrame;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::RwLock;

use crate::arrow_capsule::import_table;
use crate::errors::BillsheetError;
use crate::query_result::QueryResult;
use crate::runtime::wait_for;

/// A lake opened for one as-of date. Queries share the workbook, and `register` waits for
/// running queries and takes it exclusively while it redefines the views.
#[pyclass(frozen, module = "billsheet._billsheet", name = "Workbook")]
pub struct PyWorkbook {
    workbook: Arc<RwLock<Workbook>>,
    /// Set while `register` redefines the views, and left set when it is interrupted.
    redefining: Arc<AtomicBool>,
    lake: PathBuf,
    as_of: NaiveDate,
    reporting_currency: String,
}

#[pymethods]
impl PyWorkbook {
    /// Opens the lake at `lake` for `as_of` (`YYYY-MM-DD`) and validates its inputs.
    #[staticmethod]
    #[pyo3(signature = (lake, as_of, reporting_currency = "USD".to_string(), memory_limit = None))]
    fn open(
        py: Python<'_>,
        lake: PathBuf,
        as_of: &str,
        reporting_currency: String,
        memory_limit: Option<usize>,
    ) -> PyResult<Self> {
        let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").map_err(|e| {
            PyValueError::new_err(format!(
                "invalid as_of date '{as_of}': {e}; expected YYYY-MM-DD"
            ))
        })?;
        let options = OpenOptions {
            as_of,
            reporting_currency: reporting_currency.clone(),
            memory_limit,
        };
        let path = lake.clone();
        let workbook = wait_for(py, async move { Workbook::open(&path, options).await })?;
        Ok(PyWorkbook {
            workbook: Arc::new(RwLock::new(workbook)),
            redefining: Arc::new(AtomicBool::new(false)),
            lake,
            as_of,
            reporting_currency,
        })
    }

    /// Runs one SQL statement and collects its rows.
    fn sql(&self, py: Python<'_>, query: String) -> PyResult<QueryResult> {
        self.ensure_complete()?;
        let workbook = self.workbook.clone();
        wait_for(py, async move {
            let workbook = workbook.read_owned().await;
            collect(workbook.sql(&query).await?).await
        })
    }

    /// Collects every row of a view or table.
    fn table(&self, py: Python<'_>, name: String) -> PyResult<QueryResult> {
        self.ensure_complete()?;
        let workbook = self.workbook.clone();
        wait_for(py, async move {
            let workbook = workbook.read_owned().await;
            collect(workbook.table(&name).await?).await
        })
    }

    /// Replaces input table `name`, or adds a table, with the rows of an Arrow stream or
    /// struct array, then redefines every view. No file changes.
    fn register(
        &self,
        py: Python<'_>,
        name: String,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.ensure_complete()?;
        if name.trim().is_empty() {
            return Err(PyValueError::new_err("table name must not be empty"));
        }
        let (schema, batches) = import_table(data)?;
        let workbook = self.workbook.clone();
        let redefining = self.redefining.clone();
        wait_for(py, async move {
            let mut workbook = workbook.write_owned().await;
            redefining.store(true, Ordering::SeqCst);
            let registered = workbook.register_batches(&name, schema, batches).await;
            redefining.store(false, Ordering::SeqCst);
            registered
        })
    }

    /// Issues new invoices into the lake's ledger, writes every output view as Parquet to
    /// `out` and returns the run manifest as JSON.
    fn run(&self, py: Python<'_>, out: PathBuf) -> PyResult<String> {
        self.ensure_complete()?;
        let workbook = self.workbook.clone();
        wait_for(py, async move {
            let workbook = workbook.read_owned().await;
            let manifest = billsheet::run::run(&workbook, &out).await?;
            serde_json::to_string(&manifest).map_err(|e| {
                billsheet::BillsheetError::Internal(format!(
                    "failed to encode the run manifest: {e}"
                ))
            })
        })
    }

    #[getter]
    fn lake(&self) -> PathBuf {
        self.lake.clone()
    }

    #[getter]
    fn as_of(&self) -> String {
        self.as_of.to_string()
    }

    #[getter]
    fn reporting_currency(&self) -> String {
        self.reporting_currency.clone()
    }
}

impl PyWorkbook {
    /// Rejects calls on a workbook whose `register` was interrupted after it had started
    /// dropping views, because its views may be missing or stale.
    fn ensure_complete(&self) -> PyResult<()> {
        if self.redefining.load(Ordering::SeqCst) {
            return Err(BillsheetError::new_err(format!(
                "the workbook of lake {} was interrupted while registering a table and may \
                 lack views; open the lake again",
                self.lake.display()
            )));
        }
        Ok(())
    }
}

/// Runs a frame and returns its rows with the schema of its batches, or the planned schema
/// when there are no batches.
async fn collect(frame: DataFrame) -> billsheet::Result<QueryResult> {
    let planned = frame.schema().inner().clone();
    let batches = frame.collect().await?;
    let schema = batches.first().map(|b| b.schema()).unwrap_or(planned);
    Ok(QueryResult::new(schema, batches))
}

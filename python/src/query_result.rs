//! The collected batches of one query, exported to Python without copying values.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::arrow_capsule::{export_stream, ArrowSchemaExport};
use crate::display;

/// The rows of one query, held in memory as Arrow record batches.
#[pyclass(frozen, module = "billsheet._billsheet", name = "Result")]
pub struct QueryResult {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    num_rows: usize,
}

impl QueryResult {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        let num_rows = batches.iter().map(|b| b.num_rows()).sum();
        QueryResult {
            schema,
            batches,
            num_rows,
        }
    }
}

#[pymethods]
impl QueryResult {
    /// Exports the rows as an `arrow_array_stream` capsule. `requested_schema` is accepted
    /// as the interface requires and ignored: the stream always has the result's schema.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        export_stream(py, self.schema.clone(), self.batches.clone())
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.num_rows
    }

    #[getter]
    fn num_batches(&self) -> usize {
        self.batches.len()
    }

    #[getter]
    fn schema(&self) -> ArrowSchemaExport {
        ArrowSchemaExport {
            schema: self.schema.clone(),
        }
    }

    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.num_rows
    }

    /// Formats the first `limit` rows as a text table.
    fn preview_text(&self, limit: usize) -> PyResult<String> {
        display::text_preview(&self.schema, &self.batches, limit).map_err(|e| {
            PyValueError::new_err(format!("failed to format the result: {e}"))
        })
    }

    /// Formats the first `limit` rows as an HTML table.
    fn preview_html(&self, limit: usize) -> PyResult<String> {
        display::html_preview(&self.schema, &self.batches, limit).map_err(|e| {
            PyValueError::new_err(format!("failed to format the result: {e}"))
        })
    }
}

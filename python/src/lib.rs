//! The native half of the `billsheet` Python package: the workbook and its query results
//! over the Rust engine. The typed, documented API is the Python package around it.

mod arrow_capsule;
mod display;
mod errors;
mod query_result;
mod runtime;
mod workbook;

use pyo3::prelude::*;

#[pymodule]
fn _billsheet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("BillsheetError", py.get_type::<errors::BillsheetError>())?;
    m.add(
        "InvalidInputError",
        py.get_type::<errors::InvalidInputError>(),
    )?;
    m.add_class::<workbook::PyWorkbook>()?;
    m.add_class::<query_result::QueryResult>()?;
    m.add_class::<arrow_capsule::ArrowSchemaExport>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

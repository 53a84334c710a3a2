//! The Python exceptions raised for engine errors.

use billsheet::error::InputProblem;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(
    billsheet,
    BillsheetError,
    PyException,
    "An error of the billsheet engine: bad SQL, an unknown table, a missing lake or a failed query."
);
create_exception!(
    billsheet,
    InvalidInputError,
    BillsheetError,
    "A lake input that breaks the data contract. `problems` lists each one as a dict with \
     table, file, row, column, value and message."
);

/// Converts an engine error into `InvalidInputError` for bad inputs and `BillsheetError`
/// otherwise, with the engine's message.
pub fn to_py_err(py: Python<'_>, error: billsheet::BillsheetError) -> PyErr {
    let message = error.to_string();
    match error {
        billsheet::BillsheetError::InvalidInput(problems) => {
            let err = InvalidInputError::new_err(message);
            if let Ok(list) = problems_to_list(py, &problems) {
                // Failing to attach the details still leaves the message intact.
                let _ = err.value(py).setattr("problems", list);
            }
            err
        }
        _ => BillsheetError::new_err(message),
    }
}

fn problems_to_list<'py>(
    py: Python<'py>,
    problems: &[InputProblem],
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for problem in problems {
        let item = PyDict::new(py);
        item.set_item("table", &problem.table)?;
        let cell = problem.cell.as_ref();
        item.set_item("file", cell.and_then(|c| c.file.clone()))?;
        item.set_item("row", cell.map(|c| c.row))?;
        item.set_item("column", cell.map(|c| c.column.clone()))?;
        item.set_item("value", cell.map(|c| c.value.clone()))?;
        item.set_item("message", &problem.message)?;
        list.append(item)?;
    }
    Ok(list)
}

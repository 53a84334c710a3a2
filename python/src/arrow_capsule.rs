//! Arrow PyCapsule interface: tables come in through `__arrow_c_stream__` or
//! `__arrow_c_array__` and go out through `__arrow_c_stream__` and `__arrow_c_schema__`,
//! sharing buffers instead of copying values.
//!
//! The interface is specified at
//! <https://arrow.apache.org/docs/format/CDataInterface/PyCapsuleInterface.html>.

use std::ffi::{CStr, CString};

use arrow::array::{
    Array, RecordBatch, RecordBatchIterator, RecordBatchReader, StructArray,
};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

const STREAM_CAPSULE: &CStr = c"arrow_array_stream";
const SCHEMA_CAPSULE: &CStr = c"arrow_schema";
const ARRAY_CAPSULE: &CStr = c"arrow_array";

/// Reads every batch of `data`, an object that implements `__arrow_c_stream__` (a pyarrow
/// Table or RecordBatchReader, a polars DataFrame …) or `__arrow_c_array__` of a struct
/// array (a pyarrow RecordBatch).
pub fn import_table(data: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let py = data.py();
    if data.hasattr(pyo3::intern!(py, "__arrow_c_stream__"))? {
        let capsule = data.call_method0(pyo3::intern!(py, "__arrow_c_stream__"))?;
        let capsule = downcast_capsule(&capsule, STREAM_CAPSULE, "__arrow_c_stream__")?;
        let stream = capsule.pointer() as *mut FFI_ArrowArrayStream;
        // SAFETY: the capsule's name confirms that it points to an ArrowArrayStream, and
        // `from_raw` moves the stream out, leaving a released one for the capsule's
        // destructor, as the PyCapsule interface requires of consumers.
        let reader = unsafe { ArrowArrayStreamReader::from_raw(stream) }
            .map_err(|e| PyValueError::new_err(format!("invalid Arrow stream: {e}")))?;
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| {
            PyValueError::new_err(format!("failed to read the Arrow stream: {e}"))
        })?;
        return Ok((schema, batches));
    }
    if data.hasattr(pyo3::intern!(py, "__arrow_c_array__"))? {
        let pair = data.call_method0(pyo3::intern!(py, "__arrow_c_array__"))?;
        let pair = pair.downcast::<PyTuple>().map_err(|_| {
            PyTypeError::new_err("__arrow_c_array__ must return a tuple of two capsules")
        })?;
        let schema_capsule =
            downcast_capsule(&pair.get_item(0)?, SCHEMA_CAPSULE, "__arrow_c_array__")?;
        let array_capsule =
            downcast_capsule(&pair.get_item(1)?, ARRAY_CAPSULE, "__arrow_c_array__")?;
        let schema = schema_capsule.pointer() as *const FFI_ArrowSchema;
        let array = array_capsule.pointer() as *mut FFI_ArrowArray;
        // SAFETY: the capsule names confirm the pointer types. The array is moved out of
        // its capsule, and the schema is only borrowed while its capsule is alive.
        let data = unsafe { from_ffi(FFI_ArrowArray::from_raw(array), &*schema) }
            .map_err(|e| PyValueError::new_err(format!("invalid Arrow array: {e}")))?;
        if !matches!(data.data_type(), DataType::Struct(_)) {
            return Err(PyTypeError::new_err(format!(
                "expected a table-like Arrow array of type struct, got {}",
                data.data_type()
            )));
        }
        let columns = StructArray::from(data);
        if columns.null_count() > 0 {
            return Err(PyValueError::new_err(
                "a struct array with null rows cannot be used as a table",
            ));
        }
        let batch = RecordBatch::from(columns);
        return Ok((batch.schema(), vec![batch]));
    }
    Err(PyTypeError::new_err(format!(
        "expected an Arrow table (an object with __arrow_c_stream__ or __arrow_c_array__), \
         got {}",
        data.get_type().name()?
    )))
}

fn downcast_capsule<'py>(
    object: &Bound<'py, PyAny>,
    name: &CStr,
    method: &str,
) -> PyResult<Bound<'py, PyCapsule>> {
    let capsule = object
        .downcast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err(format!("{method} must return a PyCapsule")))?;
    if capsule.name()? != Some(name) {
        return Err(PyTypeError::new_err(format!(
            "{method} returned a capsule that is not named {}",
            name.to_string_lossy()
        )));
    }
    Ok(capsule.clone())
}

/// Wraps `batches` in an `arrow_array_stream` capsule. The batches' buffers are shared with
/// the consumer, not copied.
pub fn export_stream<'py>(
    py: Python<'py>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    PyCapsule::new(py, stream, Some(CString::from(STREAM_CAPSULE)))
}

/// An Arrow schema exported through `__arrow_c_schema__`, for `pyarrow.schema(...)`.
#[pyclass(frozen, module = "billsheet._billsheet", name = "ArrowSchema")]
pub struct ArrowSchemaExport {
    pub schema: SchemaRef,
}

#[pymethods]
impl ArrowSchemaExport {
    fn __arrow_c_schema__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref()).map_err(|e| {
            PyValueError::new_err(format!("failed to export the schema: {e}"))
        })?;
        PyCapsule::new(py, schema, Some(CString::from(SCHEMA_CAPSULE)))
    }

    fn __repr__(&self) -> String {
        let fields: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), f.data_type()))
            .collect();
        format!("ArrowSchema({})", fields.join(", "))
    }
}

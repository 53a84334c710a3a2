//! Argument helpers shared by the function kernels.

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, ListArray};
use arrow::datatypes::{DataType, Decimal128Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::ColumnarValue;
use rust_decimal::Decimal;

use crate::money::decimal::from_i128;

/// Turns every argument into an array of `rows` rows.
pub fn arrays(args: &[ColumnarValue], rows: usize) -> Result<Vec<ArrayRef>> {
    args.iter().map(|a| a.to_array(rows)).collect()
}

/// Coerces numeric argument types to Decimal128 so kernels read one type; lists and other
/// types pass through.
pub fn coerce_numeric(arg_types: &[DataType]) -> Vec<DataType> {
    arg_types
        .iter()
        .map(|t| match t {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                DataType::Decimal128(38, 0)
            }
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
                DataType::Decimal128(38, 0)
            }
            DataType::Float32 | DataType::Float64 => DataType::Decimal128(38, 9),
            DataType::Null => DataType::Decimal128(38, 0),
            other => other.clone(),
        })
        .collect()
}

/// Reads exact decimals from a Decimal128 array of any scale.
pub struct DecimalColumn<'a> {
    array: &'a Decimal128Array,
    scale: i8,
}

impl<'a> DecimalColumn<'a> {
    pub fn new(array: &'a ArrayRef, name: &str) -> Result<Self> {
        let DataType::Decimal128(_, scale) = array.data_type() else {
            return exec_err!("{name} must be a decimal, got {}", array.data_type());
        };
        Ok(DecimalColumn {
            array: array.as_primitive::<Decimal128Type>(),
            scale: *scale,
        })
    }

    pub fn get(&self, row: usize) -> Result<Option<Decimal>> {
        if self.array.is_null(row) {
            return Ok(None);
        }
        match from_i128(self.array.value(row), self.scale) {
            Some(value) => Ok(Some(value)),
            None => exec_err!(
                "decimal value {} does not fit 28 digits",
                self.array.value(row)
            ),
        }
    }
}

/// Reads a list of decimals per row.
pub fn decimal_list(
    array: &ArrayRef,
    row: usize,
    name: &str,
) -> Result<Vec<Option<Decimal>>> {
    if array.is_null(row) {
        return Ok(Vec::new());
    }
    let list: &ListArray = array.as_list::<i32>();
    let values = list.value(row);
    if values.data_type() == &DataType::Null {
        return Ok(vec![None; values.len()]);
    }
    let column = DecimalColumn::new(&values, name)?;
    (0..values.len()).map(|i| column.get(i)).collect()
}

//! `add_days(day, n)`: a date moved by a number of days.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Builder};
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::arrays;
use super::FunctionDoc;

/// The `add_days` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AddDays {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "add_days",
        signature: "add_days(day date, n bigint) -> date",
        description:
            "The date `n` days after `day` (before it when `n` is negative); used \
                      for grace days and payment terms.",
        example: "select add_days(date '2026-02-01', 15) -- 2026-02-16",
    };
    let signature = Signature::user_defined(Volatility::Immutable);
    (ScalarUDF::from(AddDays { signature }), doc)
}

impl ScalarUDFImpl for AddDays {
    fn name(&self) -> &str {
        "add_days"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return exec_err!("add_days takes 2 arguments: day, n");
        }
        Ok(vec![DataType::Date32, DataType::Int64])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let days = arrays[0].as_primitive::<Date32Type>();
        let offsets = arrays[1].as_primitive::<Int64Type>();
        let mut out = Date32Builder::with_capacity(days.len());
        for i in 0..days.len() {
            if days.is_null(i) || offsets.is_null(i) {
                out.append_null();
                continue;
            }
            match i32::try_from(days.value(i) as i64 + offsets.value(i)) {
                Ok(day) => out.append_value(day),
                Err(_) => return exec_err!("add_days: date out of range"),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

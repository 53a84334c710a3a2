//! `days_between(from, to)`: the number of days from one date to another.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Builder};
use arrow::datatypes::{DataType, Date32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::arrays;
use super::FunctionDoc;

/// The `days_between` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DaysBetween {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "days_between",
        signature: "days_between(from date, to date) -> bigint",
        description:
            "Days from `from` to `to` (negative when `to` is earlier); the length \
                      of the half-open range [from, to).",
        example: "select days_between(date '2026-02-01', date '2026-03-01') -- 28",
    };
    let signature = Signature::exact(
        vec![DataType::Date32, DataType::Date32],
        Volatility::Immutable,
    );
    (ScalarUDF::from(DaysBetween { signature }), doc)
}

impl ScalarUDFImpl for DaysBetween {
    fn name(&self) -> &str {
        "days_between"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let from = arrays[0].as_primitive::<Date32Type>();
        let to = arrays[1].as_primitive::<Date32Type>();
        let mut out = Int64Builder::with_capacity(from.len());
        for i in 0..from.len() {
            if from.is_null(i) || to.is_null(i) {
                out.append_null();
            } else {
                out.append_value(to.value(i) as i64 - from.value(i) as i64);
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
